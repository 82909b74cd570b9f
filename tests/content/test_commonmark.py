"""The CommonMark renderer against the CommonMark spec's own examples (spec.json of
commonmark/commonmark-spec 0.31.2, see tests/fixtures/commonmark/SOURCES)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.commonmark import commonmark_parser
from contentapi.content.fragments import sanitize

SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "commonmark" / "spec.json"
EXAMPLES: list[dict[str, Any]] = json.loads(SPEC.read_text(encoding="utf-8"))
# The id our renderer gives every heading (the anchors of kramdown sites): the spec's
# html has none.
HEADING_ID = re.compile(r'(<h[1-6]) id="[^"]*"')
BETWEEN_TAGS = re.compile(r">\s+<")


def normalised(html: str) -> str:
    """Html with white space between tags and at the ends dropped, as markdown-it's and
    commonmark.js's own spec runners compare it (`<blockquote>\\n</blockquote>`)."""
    return BETWEEN_TAGS.sub("><", html.strip())


def test_the_spec_file_holds_every_example_of_its_version() -> None:
    assert len(EXAMPLES) == 655
    assert EXAMPLES[0]["section"] == "Tabs"
    assert EXAMPLES[0]["markdown"] == "\tfoo\tbaz\t\tbim\n"
    assert EXAMPLES[0]["html"] == "<pre><code>foo\tbaz\t\tbim\n</code></pre>\n"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: str(example["example"]))
def test_spec_example_renders_as_the_spec_says(example: dict[str, Any]) -> None:
    # The parser as the renderer configures it (tables, strikethrough, task lists and
    # heading ids on): every example, ids aside.
    ours = commonmark_parser().render(example["markdown"])
    assert normalised(HEADING_ID.sub(r"\1", ours)) == normalised(example["html"])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: str(example["example"]))
def test_spec_example_survives_sanitising_as_the_spec_html_does(
    example: dict[str, Any],
) -> None:
    # What a page serves is sanitised: the spec's html sanitised the same way is what
    # ours becomes, so nothing CommonMark makes is lost to nh3 that it would not drop
    # from the spec's own output (scripts, unknown attributes, unsafe URLs).
    ours = sanitize(commonmark_parser().render(example["markdown"]))
    assert normalised(HEADING_ID.sub(r"\1", ours)) == normalised(sanitize(example["html"]))
