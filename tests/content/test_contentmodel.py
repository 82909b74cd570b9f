"""Reading a Decap CMS config.yml: where it is found, what a wrong one says (path:line,
the value quoted, never a traceback), and entries checked against their collection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contentapi.content.contentmodel import (
    Collection,
    ModelError,
    Problem,
    entry_values,
    find_model,
    load_content_model,
    parse_model,
    python_name,
)

PROJECT = Path(__file__).resolve().parent.parent.parent


def model_error(text: str) -> str:
    with pytest.raises(ModelError) as caught:
        parse_model(text, "admin/config.yml")
    return str(caught.value)


def test_the_model_is_found_in_decaps_places_or_where_the_setting_says(tmp_path: Path) -> None:
    assert find_model(tmp_path) is None
    (tmp_path / "public" / "admin").mkdir(parents=True)
    (tmp_path / "public" / "admin" / "config.yml").write_text("collections: []\n")
    assert find_model(tmp_path) == tmp_path / "public" / "admin" / "config.yml"
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "config.yml").write_text("collections: []\n")
    assert find_model(tmp_path) == tmp_path / "admin" / "config.yml"
    assert find_model(tmp_path, "cms/model.yml") == tmp_path / "cms" / "model.yml"
    with pytest.raises(ModelError, match=r"^cms/model.yml: the content model file does not exist$"):
        load_content_model(tmp_path, "cms/model.yml")


def test_the_bundled_model() -> None:
    found = load_content_model(PROJECT / "content")
    assert found is not None
    assert found.path == "admin/config.yml"
    assert [(c.name, c.folder) for c in found.collections] == [
        ("treatments", ""),
        ("practitioners", "practitioners"),
    ]
    treatments = found.collections[0]
    assert [(f.name, f.widget, f.required) for f in treatments.fields] == [
        ("title", "string", True),
        ("layout", "string", False),
        ("price", "number", False),
        ("duration", "number", False),
        ("sessions", "number", False),
        ("practitioners", "relation", False),
        ("body", "markdown", True),
    ]
    assert treatments.holds("mesotherapy.md")
    assert not treatments.holds("practitioners/anna-berg.md")
    assert found.collection_of("practitioners/anna-berg.md") is found.collections[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "collections:\n  - name: a\n    folder: a\n    fields:\n"
            "      - {name: x, widget: colour}\n",
            "admin/config.yml:5: collection 'a', field 'x': unknown widget 'colour' (known: "
            "boolean, code, color, date, datetime, file, hidden, image, list, map, markdown, "
            "number, object, relation, select, string, text)",
        ),
        (
            "collections:\n  - name: a\n    folder: a\n    fields:\n      - name: who\n"
            "        widget: relation\n        collection: people\n        value_field: title\n",
            "admin/config.yml:5: collection 'a', field 'who': a relation to a missing (or not "
            "folder) collection 'people'",
        ),
        ("collections: [\n", "admin/config.yml:2: is not valid YAML: expected the node content"),
        (
            "backend: {name: git-gateway}\n",
            "admin/config.yml:1: needs a collections list, got None",
        ),
        (
            "collections:\n  - name: a\n    folder: a\n    fields:\n"
            "      - {name: kind, widget: select}\n",
            "admin/config.yml:5: collection 'a', field 'kind': a select needs options, got None",
        ),
        (
            "collections:\n  - name: a\n    folder: a\n    fields:\n      - {name: x}\n"
            "      - {name: x}\n",
            "admin/config.yml:6: collection 'a': field 'x' is declared twice",
        ),
        (
            "collections:\n  - {name: a, folder: a}\n  - {name: a, folder: b}\n",
            "admin/config.yml:3: collection 'a' is declared twice (also at line 2)",
        ),
    ],
    ids=[
        "unknown widget",
        "relation to a missing collection",
        "broken YAML",
        "no collections",
        "select without options",
        "field twice",
        "collection twice",
    ],
)
def test_a_wrong_model_is_one_clear_error(text: str, message: str) -> None:
    assert model_error(text).startswith(message)


PEOPLE = parse_model(
    """
collections:
  - name: people
    folder: people
    fields:
      - {name: title, widget: string}
      - {name: role, widget: select, options: [doctor, {label: Nurse, value: nurse}]}
      - {name: fee, widget: number, value_type: float, min: 0, max: 500, required: false}
      - {name: sessions, widget: number, required: false}
      - {name: code, widget: string, pattern: ['^[A-Z]{3}$', 'three capitals'], required: false}
      - {name: since, widget: datetime, time_format: false, required: false}
      - {name: seen, widget: datetime, required: false}
      - {name: active, widget: boolean, default: true}
      - {name: tags, widget: list, required: false}
      - name: address
        widget: object
        required: false
        fields: [{name: city, widget: string}, {name: zip, widget: string, required: false}]
      - {name: body, widget: markdown}
""",
    "admin/config.yml",
).collections[0]


def values(front_matter: dict[str, object], collection: Collection = PEOPLE) -> dict[str, object]:
    return entry_values(collection, front_matter)


def test_an_entry_gets_typed_values() -> None:
    got = values(
        {
            "title": "Anna",
            "role": "nurse",
            "fee": 120,
            "sessions": "6",
            "code": "ABC",
            "since": "2015-03-01",
            "seen": "2024-05-01T10:30:00",
            "tags": ["a", 2],
            "address": {"city": "Leeds"},
        }
    )
    assert got[python_name("role")] == "nurse"
    assert got[python_name("fee")] == 120.0
    assert type(got[python_name("fee")]) is float
    assert got[python_name("sessions")] == 6
    assert got[python_name("since")] == dt.date(2015, 3, 1)
    assert got[python_name("seen")] == dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)
    assert got[python_name("active")] is True  # the default
    assert got[python_name("tags")] == ("a", "2")
    address = got[python_name("address")]
    assert (getattr(address, python_name("city")), getattr(address, python_name("zip"))) == (
        "Leeds",
        None,
    )
    assert python_name("body") not in got  # Decap's body is the page's Markdown body


@pytest.mark.parametrize(
    ("front_matter", "keys", "message"),
    [
        ({"role": "doctor"}, ("title",), "'title' is required"),
        (
            {"title": "A", "role": "surgeon"},
            ("role",),
            "'surgeon' is not one of the options doctor, nurse",
        ),
        ({"title": "A", "role": "doctor", "fee": "cheap"}, ("fee",), "'cheap' is not a number"),
        (
            {"title": "A", "role": "doctor", "fee": 900},
            ("fee",),
            "900 is more than the maximum 500",
        ),
        (
            {"title": "A", "role": "doctor", "sessions": 2.5},
            ("sessions",),
            "2.5 is not a whole number",
        ),
        (
            {"title": "A", "role": "doctor", "code": "abc"},
            ("code",),
            "'abc' does not match '^[A-Z]{3}$' (three capitals)",
        ),
        ({"title": "A", "role": "doctor", "since": "soon"}, ("since",), "'soon' is not a date"),
        (
            {"title": "A", "role": "doctor", "active": "yes"},
            ("active",),
            "'yes' is not true or false",
        ),
        (
            {"title": "A", "role": "doctor", "address": {"zip": "1"}},
            ("address", "city"),
            "'city' is required",
        ),
        ({"title": "A", "role": "doctor", "tags": "a, b"}, ("tags",), "'a, b' is not a list"),
    ],
)
def test_an_entry_that_breaks_its_collection_names_the_field_and_quotes_the_value(
    front_matter: dict[str, object], keys: tuple[str, ...], message: str
) -> None:
    with pytest.raises(Problem) as caught:
        values(front_matter)
    assert (caught.value.keys, caught.value.message) == (keys, message)


def test_decaps_string_numbers_and_code_objects() -> None:
    collection = parse_model(
        "collections:\n  - name: a\n    folder: a\n    fields:\n"
        "      - {name: n, widget: number, value_type: decimal}\n"
        "      - {name: snippet, widget: code}\n",
        "admin/config.yml",
    ).collections[0]
    got = values({"n": 1.50, "snippet": {"code": "x = 1", "lang": "python"}}, collection)
    # Decap saves a number of another value_type as a string; its code widget {code, lang}.
    assert (got[python_name("n")], got[python_name("snippet")]) == ("1.5", "x = 1")
