"""What the seed page (content/mesotherapy.md) must yield, exactly: shared by the tests."""

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
