"""What the seed page and the bad-input fixture must yield, exactly: shared by the tests."""

from __future__ import annotations

SEED_IMAGES = ["/img/pages/mesotherapy_london.jpg", "/img/pages/mesotherapy_london2.jpg"]

SEED_INDICATIONS = [
    ("Facelift", "facelift"),
    ("Redundant (sagging) skin", "redundant-sagging-skin"),
    ("Hand rejuvenation", "hand-rejuvenation"),
    ("Neck rejuvenation", "neck-rejuvenation"),
    ("Hair loss", "hair-loss"),
    ("Cellulite", "cellulite"),
    ("Dissolving excess fatty deposits", "dissolving-excess-fatty-deposits"),
    (
        "Removing fibroids and hardened connective tissue",
        "removing-fibroids-and-hardened-connective-tissue",
    ),
    ("Improving lymphatic drainage", "improving-lymphatic-drainage"),
    ("Reducing inflammation", "reducing-inflammation"),
]

# `contentapi check` on tests/fixtures/bad (not-utf8.md is written by a fixture).
BAD_ERRORS = [
    "bad-draft.md:3: 'draft' must be true or false, not the text 'maybe'",
    "broken-yaml.md:4: front matter is not valid YAML: mapping values are not allowed "
    "in this context",
    "empty.md: is empty: a page needs front matter or a body with a title",
    "list-front.md:2: front matter must be a mapping of keys to values, not a list",
    "no-title.md: has no title: set 'title' in the front matter or start with '# Title'",
    "not-utf8.md:5: is not valid UTF-8: byte 0xe9 at byte offset 25",
    "title-list.md:3: 'title' must be a string, not a list",
    "unclosed.md:1: front matter opened with '---' is never closed",
]

# The fields of /readyz's JSON, sorted: anything more would tell a caller more than it needs.
READYZ_KEYS = [
    "fastPathFallbacks",
    "jitFallbacks",
    "status",
    "treatments",
    "version",
    "wireReplays",
]
