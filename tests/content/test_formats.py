"""Front matter in TOML (`+++`) and JSON (`{`) beside YAML, with errors at the file's line;
dates as sites write them (ISO 8601, Jekyll's, Hugo's publishDate and lastmod, empty)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.content import frontmatter as metadata
from contentapi.content.index import ContentIndex
from contentapi.content.model import ContentError, Treatment

Parse = Callable[..., Treatment | ContentError]

ZOLA_POST = """+++
title = "Announcing Rust 1.0"
date = 2015-05-15
updated = 2015-05-16T10:00:00+02:00
description = "Rust 1.0 is stable."

[taxonomies]
tags = ["release"]

[extra]
author = "Zebulon Quartermaine"
+++

# A heading in the body

Today we are very proud to announce the release of Rust 1.0.
"""

HUGO_JSON = """{
  "title": "Spring Cleaning",
  "date": "2016-03-08 10:00:00 +0100",
  "tags": ["home", "tips"],
  "params": {"author": "Quincy Xylophone"}
}

The first paragraph of the body.
"""


def ok(parse: Parse, text: str, path: str = "page.md") -> Treatment:
    result = parse(text, path)
    assert isinstance(result, Treatment), result
    return result


def error(parse: Parse, text: str) -> ContentError:
    result = parse(text)
    assert isinstance(result, ContentError), result
    return result


# --------------------------------------------------------------------------- TOML and JSON


def test_a_toml_page(parse: Parse) -> None:
    page = ok(parse, ZOLA_POST)
    assert page.title == "Announcing Rust 1.0"
    assert page.date == dt.date(2015, 5, 15)
    assert page.updated_at == dt.datetime(
        2015, 5, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert page.summary == "Rust 1.0 is stable."
    assert page.front_matter == {
        "title": "Announcing Rust 1.0",
        "date": "2015-05-15",
        "updated": "2015-05-16T10:00:00+02:00",
        "description": "Rust 1.0 is stable.",
        "taxonomies": {"tags": ["release"]},
        "extra": {"author": "Zebulon Quartermaine"},
    }
    json.dumps(page.front_matter, allow_nan=False)
    assert page.text == (
        "A heading in the body\nToday we are very proud to announce the release of Rust 1.0."
    )
    assert "+++" not in page.html and "taxonomies" not in page.html


def test_toml_without_a_description_takes_the_first_paragraph(parse: Parse) -> None:
    page = ok(parse, '+++\ntitle = "T"\n+++\n\nFirst words.\n\nMore.\n')
    assert (page.title, page.summary) == ("T", "First words.")


def test_toml_times_and_local_date_times_are_json_safe(parse: Parse) -> None:
    page = ok(
        parse,
        '+++\ntitle = "T"\nat = 07:32:00\nlocal = 1979-05-27T07:32:00\n'
        "offset = 1979-05-27T00:32:00.999999-07:00\n+++\n",
    )
    assert page.front_matter == {
        "title": "T",
        "at": "07:32:00",
        "local": "1979-05-27T07:32:00",
        "offset": "1979-05-27T00:32:00.999999-07:00",
    }


def test_a_json_page(parse: Parse) -> None:
    page = ok(parse, HUGO_JSON)
    assert page.title == "Spring Cleaning"
    assert page.date == dt.date(2016, 3, 8)
    assert page.summary == "The first paragraph of the body."
    assert page.text == "The first paragraph of the body."
    assert page.front_matter == {
        "title": "Spring Cleaning",
        "date": "2016-03-08 10:00:00 +0100",
        "tags": ["home", "tips"],
        "params": {"author": "Quincy Xylophone"},
    }


def test_json_front_matter_on_one_line(parse: Parse) -> None:
    page = ok(parse, '{"title": "Short", "draft": true}\nBody words.\n')
    assert (page.title, page.draft, page.text) == ("Short", True, "Body words.")


def test_raw_front_matter_is_never_searched(tmp_path: Path) -> None:
    (tmp_path / "rust.md").write_text(ZOLA_POST, encoding="utf-8")
    (tmp_path / "clean.md").write_text(HUGO_JSON, encoding="utf-8")
    index = ContentIndex.from_directory(tmp_path)
    assert index.errors == ()
    for word in ("zebulon", "taxonomies", "quincy", "params"):
        assert index.public.search(word) == [], word
    assert len(index.public.search("proud")) == 1
    assert len(index.public.search("paragraph")) == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '+++\ntitle = "T"\ndate = tomorrow\n+++\n',
            3,
            "front matter is not valid TOML: Invalid value",
        ),
        (
            '+++\ntitle = "T"\n\n[extra\n+++\n',
            4,
            "front matter is not valid TOML: Expected ']' at the end of a table declaration",
        ),
        ('+++\ntitle = "T\n+++\n', 2, "front matter is not valid TOML: Illegal character '\\n'"),
        # Unclosed at the end: where the closing fence stands.
        ('+++\ntitle = """T\n+++\n', 3, "front matter is not valid TOML: Unterminated string"),
        (
            '+++\ntitle = "T"\ntitle = "U"\n+++\n',
            3,
            "front matter is not valid TOML: Cannot overwrite a value",
        ),
        (
            '{\n  "title": "T"\n  "date": "2024-01-01"\n}\n',
            3,
            "front matter is not valid JSON: Expecting ',' delimiter",
        ),
        (
            '{\n  "title": "T",\n}\n',
            3,
            "front matter is not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (
            '{\n  "title": "T"\n\nNo closing brace.\n',
            4,
            "front matter is not valid JSON: Expecting ',' delimiter",
        ),
    ],
)
def test_toml_and_json_errors_name_the_file_line(
    parse: Parse, text: str, line: int, message: str
) -> None:
    assert error(parse, text) == ContentError("page.md", line, message)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '+++\ntitle = "T"\n\ndraft = "yes"\n+++\n',
            4,
            "'draft' must be true or false, not the text 'yes'",
        ),
        ('+++\ntitle = ["T"]\n+++\n', 2, "'title' must be a string, not a list"),
        (
            '+++\ntitle = "T"\ndate = 07:32:00\n+++\n',
            3,
            "'date' must be a date such as 2024-05-31, not the time datetime.time(7, 32)",
        ),
        (
            '{\n  "title": "T",\n  "weight": "heavy"\n}\n',
            3,
            "'weight' must be a whole number, not the text 'heavy'",
        ),
        ('{"title": "T", "order": 1.5}\n', 1, "'order' must be a whole number, not the float 1.5"),
    ],
)
def test_wrong_types_name_the_line_in_toml_and_json(
    parse: Parse, text: str, line: int, message: str
) -> None:
    assert error(parse, text) == ContentError("page.md", line, message)


def test_toml_and_json_must_be_mappings(parse: Parse) -> None:
    assert error(parse, '+++\n"just text"\n+++\n').message.startswith(
        "front matter is not valid TOML"
    )
    assert metadata.split("{\n}\n") == ("{\n}", "", 3, "json")
    assert ok(parse, "{\n}\n# Heading\n").title == "Heading"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2016-03-08", dt.date(2016, 3, 8)),
        ("'2016-03-08'", dt.date(2016, 3, 8)),
        ("2016-03-08T10:00:00Z", dt.date(2016, 3, 8)),
        ("2016-03-08T23:30:00-05:00", dt.date(2016, 3, 8)),
        ("2016-03-08 10:00:00 +0100", dt.date(2016, 3, 8)),
        ("2016-03-08 10:00:00 -0500", dt.date(2016, 3, 8)),
        ("2016-03-08 10:00:00 +01:00", dt.date(2016, 3, 8)),
        ("'2016-03-08 10:00'", dt.date(2016, 3, 8)),
        ("2016-03-08T10:00:00.123456+00:00", dt.date(2016, 3, 8)),
    ],
)
def test_date_forms(parse: Parse, value: str, date: dt.date) -> None:
    assert ok(parse, f"---\ntitle: T\ndate: {value}\n---\n").date == date


@pytest.mark.parametrize(
    ("value", "updated"),
    [
        ("2016-03-08 10:00:00 +0100", dt.datetime(2016, 3, 8, 9, tzinfo=dt.UTC)),
        ("2016-03-08 10:00:00", dt.datetime(2016, 3, 8, 10, tzinfo=dt.UTC)),
        ("2016-03-08", dt.datetime(2016, 3, 8, tzinfo=dt.UTC)),
        ("'2016-03-08T10:00:00-02:00'", dt.datetime(2016, 3, 8, 12, tzinfo=dt.UTC)),
    ],
)
def test_updated_forms(parse: Parse, value: str, updated: dt.datetime) -> None:
    assert ok(parse, f"---\ntitle: T\nupdated: {value}\n---\n").updated_at == updated


@pytest.mark.parametrize(
    "front",
    [
        "date: ''\n",
        "date:\n",
        "date: '  '\n",
        "date: ~\n",
        "updated: ''\n",
        "updated:\n",
        "publishDate: ''\nlastmod:\n",
    ],
)
def test_an_empty_date_is_no_date(parse: Parse, front: str) -> None:
    page = ok(parse, f"---\ntitle: T\n{front}---\n")
    assert (page.date, page.updated_at) == (None, None)


def test_an_empty_toml_date_is_no_date(parse: Parse) -> None:
    page = ok(parse, '+++\ntitle = "T"\ndate = ""\n+++\n')
    assert page.date is None


def test_hugo_publish_date_and_lastmod(parse: Parse) -> None:
    hugo = ok(parse, "---\ntitle: T\npublishDate: 2020-01-02\nlastmod: 2021-03-04T05:06:07Z\n---\n")
    assert hugo.date == dt.date(2020, 1, 2)
    assert hugo.updated_at == dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    both = ok(
        parse,
        "---\ntitle: T\ndate: 2019-01-01\npublishDate: 2020-01-02\n"
        "updated: 2019-06-01\nlastmod: 2021-03-04\n---\n",
    )
    assert both.date == dt.date(2019, 1, 1)
    assert both.updated_at == dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
    # An empty date gives way to publishDate, as an absent one does.
    empty = ok(parse, "---\ntitle: T\ndate: ''\npublishDate: 2020-01-02\n---\n")
    assert empty.date == dt.date(2020, 1, 2)


def test_date_keys_in_any_case_as_hugo_reads_them(parse: Parse) -> None:
    hugo = ok(parse, "---\ntitle: T\npublishdate: 2020-01-02\nlastMod: 2021-03-04\n---\n")
    assert hugo.date == dt.date(2020, 1, 2)
    assert hugo.updated_at == dt.datetime(2021, 3, 4, tzinfo=dt.UTC)
    capital = ok(parse, '+++\ntitle = "T"\nDate = 2019-05-06\n+++\n')
    assert capital.date == dt.date(2019, 5, 6)
    # The key as written comes first, then the other spellings.
    both = ok(parse, "---\ntitle: T\nDATE: 2001-01-01\ndate: 2002-02-02\n---\n")
    assert both.date == dt.date(2002, 2, 2)
    bad = error(parse, "---\ntitle: T\nPublishDate: someday\n---\n")
    assert bad == ContentError(
        "page.md", 3, "'PublishDate' must be a date such as 2024-05-31, not the text 'someday'"
    )


def test_astro_pub_date_and_updated_date(parse: Parse) -> None:
    astro = ok(parse, "---\ntitle: T\npubDate: 'Jul 08 2022'\nupdatedDate: 'Jul 15 2022'\n---\n")
    assert astro.date == dt.date(2022, 7, 8)
    assert astro.updated_at == dt.datetime(2022, 7, 15, tzinfo=dt.UTC)
    hugo_first = ok(
        parse, "---\ntitle: T\npublishDate: 2020-01-02\npubDate: 2021-01-01\nlastmod: ''\n---\n"
    )
    assert (hugo_first.date, hugo_first.updated_at) == (dt.date(2020, 1, 2), None)
    bad = error(parse, "---\ntitle: T\npubDate: 'Jul 32 2022'\n---\n")
    assert bad == ContentError(
        "page.md", 3, "'pubDate' must be a date such as 2024-05-31, not the text 'Jul 32 2022'"
    )


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("Jul 08 2022", dt.date(2022, 7, 8)),
        ("July 8, 2022", dt.date(2022, 7, 8)),
        ("8 July 2022", dt.date(2022, 7, 8)),
        ("Sept. 3, 2020", dt.date(2020, 9, 3)),
        ("dec 31 1999", dt.date(1999, 12, 31)),
    ],
)
def test_dates_with_english_month_names(parse: Parse, value: str, date: dt.date) -> None:
    assert ok(parse, f"---\ntitle: T\ndate: {value}\n---\n").date == date


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        (
            "date: 2016-03-08 10:00:00 CET\n",
            3,
            "'date' must be a date such as 2024-05-31, not the text '2016-03-08 10:00:00 CET'",
        ),
        (
            "date: 8/3/2016\n",
            3,
            "'date' must be a date such as 2024-05-31, not the text '8/3/2016'",
        ),
        (
            "\npublishDate: soon\n",
            4,
            "'publishDate' must be a date such as 2024-05-31, not the text 'soon'",
        ),
        (
            "lastmod: [2020-01-01]\n",
            3,
            "'lastmod' must be a date or date-time such as 2024-05-31T09:00:00Z, not a list",
        ),
        ("date: 0\n", 3, "'date' must be a date such as 2024-05-31, not the int 0"),
    ],
)
def test_anything_else_is_an_error_that_quotes_it(
    parse: Parse, front: str, line: int, message: str
) -> None:
    assert error(parse, f"---\ntitle: T\n{front}---\n") == ContentError("page.md", line, message)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2016-03-08", dt.date(2016, 3, 8)),
        (" 2016-03-08 10:00:00 +0100 ", dt.date(2016, 3, 8)),
        (dt.date(2016, 3, 8), dt.date(2016, 3, 8)),
        (dt.datetime(2016, 3, 8, 23, 59), dt.date(2016, 3, 8)),
        ("", None),
        (None, None),
    ],
)
def test_to_date_for_other_callers(value: object, date: dt.date | None) -> None:
    assert metadata.to_date(value) == date


@pytest.mark.parametrize(
    "value", ["2016-13-01", "20160308x", "tomorrow", "Feb 30 2020", "Smarch 1 2020", 5, True, [1]]
)
def test_to_date_refuses_what_is_no_date(value: object) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        metadata.to_date(value)


def test_drafts_folder_pages_are_drafts(parse: Parse) -> None:
    assert ok(parse, "---\ntitle: T\n---\n", "_drafts/idea.md").draft is True
    assert ok(parse, "---\ntitle: T\n---\n", "blog/_drafts/idea.md").draft is True
    assert ok(parse, "---\ntitle: T\n---\n", "_drafts.md").draft is False
    assert ok(parse, "---\ntitle: T\n---\n", "drafts/idea.md").draft is False
