"""Front matter: splitting, YAML errors with file line numbers, key types, JSON-safe values."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import pytest

from contentapi.content import frontmatter as metadata
from contentapi.content.model import ContentError, Mention, Treatment
from contentapi.errors import PageError

Parse = Callable[..., Treatment | ContentError]


def ok(parse: Parse, text: str | bytes) -> Treatment:
    result = parse(text)
    assert isinstance(result, Treatment), result
    return result


def error(parse: Parse, text: str | bytes) -> ContentError:
    result = parse(text)
    assert isinstance(result, ContentError), result
    assert result.path == "page.md"
    return result


# --------------------------------------------------------------------------- splitting


def test_split_gives_front_body_and_body_line() -> None:
    assert metadata.split("---\ntitle: T\n\n---\nBody\n") == (
        "title: T\n\n",
        "Body\n",
        5,
        "yaml",
    )
    assert metadata.split("No front matter\n") == (None, "No front matter\n", 1, "yaml")
    assert metadata.split("---\n---\nBody") == ("", "Body", 3, "yaml")
    assert metadata.split("---  \ntitle: T\n---\t\n") == ("title: T\n", "", 4, "yaml")


def test_split_toml_and_json() -> None:
    assert metadata.split('+++\ntitle = "T"\n+++\nBody\n') == ('title = "T"\n', "Body\n", 4, "toml")
    assert metadata.split("++++\n++++\n") == ("", "", 3, "toml")
    assert metadata.split('{\n  "title": "T"\n}\n\nBody\n') == (
        '{\n  "title": "T"\n}',
        "\nBody\n",
        4,
        "json",
    )
    # A nested object's brace alone on a line does not end the front matter.
    assert metadata.split('{\n"a": {\n"b": 1\n}\n}\nBody') == (
        '{\n"a": {\n"b": 1\n}\n}',
        "Body",
        6,
        "json",
    )
    assert metadata.split('{"title": "T"} Body') == ('{"title": "T"}', " Body", 1, "json")


@pytest.mark.parametrize(
    "text",
    ["{{< figure src=x >}}\n", "{% include x.html %}\n", "{: .class}\n", "+ a list\n", "--\n"],
)
def test_bodies_that_start_like_front_matter_are_bodies(text: str) -> None:
    assert metadata.split(text) == (None, text, 1, "yaml")


def test_unclosed_front_matter() -> None:
    with pytest.raises(PageError) as raised:
        metadata.split("---\ntitle: T\n\nBody\n")
    assert (raised.value.line, raised.value.message) == (
        1,
        "front matter opened with '---' is never closed",
    )
    with pytest.raises(PageError) as raised:
        metadata.split('+++\ntitle = "T"\n---\nBody\n')
    assert (raised.value.line, raised.value.message) == (
        1,
        "front matter opened with '+++' is never closed",
    )


def test_blank_lines_and_comments_inside_front_matter(parse: Parse) -> None:
    treatment = ok(parse, "---\n\n# a comment\ntitle: T\n\n\nlayout: L\n\n---\nBody\n")
    assert treatment.front_matter == {"title": "T", "layout": "L"}
    assert treatment.category == Mention("L", "l")


def test_empty_front_matter_and_front_matter_only(parse: Parse) -> None:
    treatment = ok(parse, "---\n---\n# From Heading\n")
    assert (treatment.title, treatment.front_matter) == ("From Heading", {})
    only = ok(parse, "---\ntitle: Only\n---")
    assert (only.title, only.html, only.text, only.summary) == ("Only", "", "", None)


def test_crlf_bom_front_matter_lines_count_from_the_top(parse: Parse) -> None:
    text = "\ufeff---\r\ntitle: T\r\n\r\ndescription: ok\r\n  bad: indent\r\n---\r\n"
    assert error(parse, text.encode("utf-8")).line == 5


# --------------------------------------------------------------------------- YAML errors


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("---\ntitle: [unclosed\n---\nx\n", 3, "not valid YAML"),
        ("---\ntitle: T\ndescription: ok\n  bad: indent\n---\n", 4, "not allowed"),
        ("---\ntitle: T\n\n\n\tindented: with a tab\n---\n", 5, "not valid YAML"),
        # The stream ends at the closing fence, line 4.
        ('---\ntitle: T\nkey: "unterminated\n---\n', 4, "not valid YAML"),
        ("---\ntitle: !!python/object/apply:os.system ['true']\n---\n", 2, "not valid YAML"),
        ("---\ntitle: *nowhere\n---\n", 2, "not valid YAML"),
    ],
)
def test_yaml_errors_name_the_line(parse: Parse, text: str, line: int, fragment: str) -> None:
    problem = error(parse, text)
    assert problem.line == line
    assert fragment in problem.message
    assert problem.message.startswith("front matter is not valid YAML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\n- a\n---\n", "front matter must be a mapping of keys to values, not a list"),
        (
            "---\njust words\n---\n",
            "front matter must be a mapping of keys to values, not the text 'just words'",
        ),
        ("---\n42\n---\n", "front matter must be a mapping of keys to values, not the int 42"),
    ],
)
def test_front_matter_must_be_a_mapping(parse: Parse, text: str, message: str) -> None:
    assert error(parse, text) == ContentError("page.md", 2, message)


# --------------------------------------------------------------------------- key types


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        ("title:\n  - One\n", 2, "'title' must be a string, not a list"),
        ("title: T\nslug: [a]\n", 3, "'slug' must be a string, not a list"),
        ("title: T\n\nlayout: {a: 1}\n", 4, "'layout' must be a string, not a mapping"),
        ("title: T\ncategory: true\n", 3, "'category' must be a string, not the boolean True"),
        ("title: T\ndescription: [x]\n", 3, "'description' must be a string, not a list"),
        (
            "title: T\ndate: tomorrow\n",
            3,
            "'date' must be a date such as 2024-05-31, not the text 'tomorrow'",
        ),
        (
            "title: T\ndate: 20240531\n",
            3,
            "'date' must be a date such as 2024-05-31, not the int 20240531",
        ),
        (
            "title: T\nupdated: soon\n",
            3,
            "'updated' must be a date or date-time such as 2024-05-31T09:00:00Z, "
            "not the text 'soon'",
        ),
        ("title: T\ndraft: 'yes'\n", 3, "'draft' must be true or false, not the text 'yes'"),
        ("title: T\npublished: 0\n", 3, "'published' must be true or false, not the int 0"),
        (
            "title: T\nindications: Acne\n",
            3,
            "'indications' must be a list of strings, not the text 'Acne'",
        ),
        (
            "title: T\nindications: [[a]]\n",
            3,
            "'indications' must be a list of strings, not a list",
        ),
        ("title: T\norder: first\n", 3, "'order' must be a whole number, not the text 'first'"),
        ("title: T\norder: 1.5\n", 3, "'order' must be a whole number, not the float 1.5"),
        ("title: T\nweight: true\n", 3, "'weight' must be a whole number, not the boolean True"),
        (
            "title: T\norder: 99999999999\n",
            3,
            "'order' must be a whole number between -2147483647 and 2147483647, "
            "not the int 99999999999",
        ),
    ],
)
def test_wrong_types_name_the_key_and_its_line(
    parse: Parse, front: str, line: int, message: str
) -> None:
    assert error(parse, f"---\n{front}---\nBody\n") == ContentError("page.md", line, message)


def test_title_fallbacks(parse: Parse) -> None:
    assert ok(parse, "---\ntitle: ''\n---\n# Heading\n").title == "Heading"
    assert ok(parse, "---\ntitle: 2024\n---\n").title == "2024"
    assert ok(parse, "---\ntitle: '  Padded  '\n---\n").title == "Padded"
    missing = error(parse, "---\ntitle: '   '\n---\n## Not level one\n")
    assert missing == ContentError(
        "page.md", None, "has no title: set 'title' in the front matter or start with '# Title'"
    )


def test_empty_and_blank_files(parse: Parse) -> None:
    message = "is empty: a page needs front matter or a body with a title"
    assert error(parse, b"") == ContentError("page.md", None, message)
    assert error(parse, b"\xef\xbb\xbf \r\n\t\n") == ContentError("page.md", None, message)


def test_not_utf8_names_the_byte_offset(parse: Parse) -> None:
    assert error(parse, b"---\ntitle: T\n---\n\xff") == ContentError(
        "page.md", 4, "is not valid UTF-8: byte 0xff at byte offset 17"
    )
    assert error(parse, "\ufeff# T\n".encode("utf-16")) == ContentError(
        "page.md", 1, "is not valid UTF-8: byte 0xff at byte offset 0"
    )


@pytest.mark.parametrize(
    ("front", "slug"),
    [
        ("title: T\nslug: Custom Slug\n", "custom-slug"),
        ("title: T\nslug: already-fine\n", "already-fine"),
        ("title: T\nslug: 123\n", "123"),
        ("title: T\n", "page"),
    ],
)
def test_slug(parse: Parse, front: str, slug: str) -> None:
    assert ok(parse, f"---\n{front}---\n").slug == slug


def test_slug_without_letters_is_an_error(parse: Parse) -> None:
    result = error(parse, "---\ntitle: T\nslug: '!!!'\n---\n")
    assert result.message == "has no usable slug: '!!!' has no letters or digits"


@pytest.mark.parametrize(
    ("front", "draft"),
    [
        ("", False),
        ("draft: true\n", True),
        ("draft: false\n", False),
        ("published: false\n", True),
        ("published: true\n", False),
        ("draft: false\npublished: false\n", True),
        ("draft: true\npublished: true\n", True),
        ("draft: ~\n", False),
    ],
)
def test_draft_and_published(parse: Parse, front: str, draft: bool) -> None:
    assert ok(parse, f"---\ntitle: T\n{front}---\n").draft is draft


def test_category_wins_over_layout(parse: Parse) -> None:
    both = ok(parse, "---\ntitle: T\nlayout: Layout Name\ncategory: Category Name\n---\n")
    assert both.category == Mention("Category Name", "category-name")
    assert ok(parse, "---\ntitle: T\nlayout: Skin Treatment\n---\n").category == Mention(
        "Skin Treatment", "skin-treatment"
    )
    assert ok(parse, "---\ntitle: T\ncategory: ''\n---\n").category is None
    assert ok(parse, "---\ntitle: T\ncategory: '???'\n---\n").category is None


def test_order_and_weight(parse: Parse) -> None:
    assert ok(parse, "---\ntitle: T\norder: 5\n---\n").order == 5
    assert ok(parse, "---\ntitle: T\nweight: -3\n---\n").order == -3
    assert ok(parse, "---\ntitle: T\norder: 1\nweight: 9\n---\n").order == 1
    assert ok(parse, "---\ntitle: T\n---\n").order is None


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-31", dt.date(2024, 5, 31)),
        ("'2024-05-31'", dt.date(2024, 5, 31)),
        ("2024-05-31 23:30:00", dt.date(2024, 5, 31)),
        ("2024-05-31T09:00:00+02:00", dt.date(2024, 5, 31)),
    ],
)
def test_date(parse: Parse, value: str, expected: dt.date) -> None:
    assert ok(parse, f"---\ntitle: T\ndate: {value}\n---\n").date == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-31", dt.datetime(2024, 5, 31, tzinfo=dt.UTC)),
        ("2024-05-31T09:00:00Z", dt.datetime(2024, 5, 31, 9, tzinfo=dt.UTC)),
        ("2024-05-31 09:00:00", dt.datetime(2024, 5, 31, 9, tzinfo=dt.UTC)),
        (
            "'2024-05-31T09:00:00+02:00'",
            dt.datetime(2024, 5, 31, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
    ],
)
def test_updated(parse: Parse, value: str, expected: dt.datetime) -> None:
    updated = ok(parse, f"---\ntitle: T\nupdated: {value}\n---\n").updated_at
    assert updated == expected
    assert updated is not None and updated.tzinfo is not None


# --------------------------------------------------------------------------- frontMatter


def test_front_matter_is_json_safe(parse: Parse) -> None:
    treatment = ok(
        parse,
        "---\n"
        "title: T\n"
        "date: 2024-05-31\n"
        "updated: 2024-05-31T09:00:00Z\n"
        "1: numeric key\n"
        "nested: {when: 2020-01-02, list: [2021-02-03, 1, 2.5, null, true]}\n"
        "nan: .nan\n"
        "inf: -.inf\n"
        "tags: !!set {a: null}\n"
        "blob: !!binary aGVsbG8=\n"
        "---\n",
    )
    assert treatment.front_matter == {
        "title": "T",
        "date": "2024-05-31",
        "updated": "2024-05-31T09:00:00+00:00",
        "1": "numeric key",
        "nested": {"when": "2020-01-02", "list": ["2021-02-03", 1, 2.5, None, True]},
        "nan": None,
        "inf": None,
        "tags": ["a"],
        "blob": "b'hello'",
    }
    json.dumps(treatment.front_matter, allow_nan=False)


def test_unknown_keys_are_kept_and_not_checked(parse: Parse) -> None:
    treatment = ok(parse, "---\ntitle: T\nauthor: {name: Ann}\nprice: [1, 2]\n---\n")
    assert treatment.front_matter == {"title": "T", "author": {"name": "Ann"}, "price": [1, 2]}


def test_alias_bomb_is_refused_quickly(parse: Parse) -> None:
    lines = ["title: T", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    started = time.monotonic()
    result = error(parse, "---\n" + "\n".join(lines) + "\n---\n")
    assert time.monotonic() - started < 5
    assert result == ContentError(
        "page.md", 2, "front matter is too large: more than 100000 values"
    )


def test_recursive_alias_is_an_error(parse: Parse) -> None:
    result = error(parse, "---\ntitle: T\nloop: &loop [*loop]\n---\n")
    assert (result.line, result.message) == (
        2,
        "front matter is nested too deeply: more than 64 levels",
    )
