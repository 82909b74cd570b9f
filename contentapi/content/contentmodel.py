"""A site's content model, read from the Decap CMS (formerly Netlify CMS) `config.yml` it
may already have: folder collections, their fields and a widget per field.

Nothing here knows GraphQL: schema/generated.py turns a ContentModel into types. This
module finds and reads the file (PyYAML, with the line of every key kept so an error
names it), checks the model itself, and checks each entry of a collection against its
fields, giving typed values (TypedView, one per content view, built when first asked
for). Decap's own rules are followed where it has them: fields are required unless
`required: false`, a `body` field is the Markdown body, a folder is relative to the
content root.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from contentapi.content.fragments import plain_text, sanitize
from contentapi.content.index import ContentIndex, ContentView, by_title
from contentapi.content.model import ContentError, Treatment

# Where Decap's config lives in a site, tried in this order under the content root.
MODEL_PLACES = ("admin/config.yml", "static/admin/config.yml", "public/admin/config.yml")

# Decap's built-in widgets (decapcms.org/docs/widgets); "date" is its deprecated widget.
WIDGETS = frozenset(
    (
        "string",
        "text",
        "markdown",
        "number",
        "boolean",
        "datetime",
        "date",
        "select",
        "list",
        "object",
        "image",
        "file",
        "relation",
        "hidden",
        "code",
        "color",
        "map",
    )
)
# Widgets whose value is a string as written.
STRING_WIDGETS = frozenset(("string", "text", "hidden", "code", "color", "map"))
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_TEMPLATE = re.compile(r"\{\{\s*(?:fields\.)?([\w.-]+)\s*\}\}")


class ModelError(Exception):
    """The model file itself is wrong: `path:line: message`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class _Map(dict[Any, Any]):
    """A YAML mapping with the line of each key (and of the mapping itself)."""

    line: int = 1
    lines: dict[Any, int]


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    found = _Map()
    found.line = node.start_mark.line + 1
    found.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        found[key] = loader.construct_object(value_node, deep=True)
        found.lines[key] = key_node.start_mark.line + 1
    return found


class _Seq(list[Any]):
    """A YAML sequence with the line of each item."""

    lines: list[int]


def _construct_seq(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> _Seq:
    found = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    found.lines = [item.start_mark.line + 1 for item in node.value]
    return found


class _LineLoader(yaml.SafeLoader):
    """PyYAML's safe loader keeping lines (a Decap config is plain YAML: no tags)."""


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


@dataclass(frozen=True, slots=True)
class Field:
    """One declared field of a collection (or of an object or list field)."""

    name: str
    widget: str
    line: int
    required: bool = True
    default: Any = None
    label: str | None = None
    hint: str | None = None
    pattern: tuple[str, str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # number: "int", "float", or "string" for any other value_type (Decap saves those as
    # strings).
    value_type: str = "int"
    # select: the option values, in order.
    options: tuple[str, ...] = ()
    multiple: bool = False
    # list/object: sub-fields; list: its single `field`.
    fields: tuple[Field, ...] | None = None
    item: Field | None = None
    # relation: the collection and the field of its entries that values name.
    collection: str | None = None
    value_field: str | None = None
    # datetime: False when the widget has no time part (time_format: false): a Date.
    has_time: bool = True

    @property
    def is_list(self) -> bool:
        """Whether its value is a list (a list widget, or multiple select/relation)."""
        return self.widget == "list" or (
            self.multiple and self.widget in ("select", "relation", "image", "file")
        )


@dataclass(frozen=True, slots=True)
class Collection:
    """A folder collection: every entry is a Markdown page in `folder`."""

    name: str
    folder: str
    fields: tuple[Field, ...]
    line: int
    label: str | None = None
    extension: str = "md"
    # Decap's nested collections (folder trees): entries at any depth.
    nested: bool = False
    # Folders between the collection's folder and an entry's file: Decap's `path`
    # ("{{slug}}/index" for page bundles has one).
    depth: int = 0

    def holds(self, path: str) -> bool:
        """Whether a page (its path in the content folder) is an entry of this collection."""
        folder = self.folder
        if folder:
            if not path.startswith(folder + "/"):
                return False
            rest = path[len(folder) + 1 :]
        else:
            rest = path
        if not rest.endswith("." + self.extension):
            return False
        return self.nested or rest.count("/") == self.depth

    @property
    def typed_fields(self) -> tuple[Field, ...]:
        """Its fields but `body` (Decap's name for the Markdown body of the file)."""
        return tuple(f for f in self.fields if f.name != "body")


@dataclass(frozen=True, slots=True)
class ContentModel:
    """A site's collections, as its Decap config declares them."""

    path: str
    """The config file, as shown in messages."""
    collections: tuple[Collection, ...]
    media_folder: str = ""
    public_folder: str = ""

    def collection(self, name: str) -> Collection | None:
        """The folder collection with this name, or None."""
        return next((c for c in self.collections if c.name == name), None)

    def collection_of(self, path: str) -> Collection | None:
        """The first collection holding the page at `path` (Decap's order), or None."""
        return next((c for c in self.collections if c.holds(path)), None)


def find_model(root: Path, explicit: str | Path | None = None) -> Path | None:
    """The model file of a content root: `explicit` if given (relative to the root unless
    absolute), else the first of MODEL_PLACES that exists; None: no model."""
    if explicit:
        given = Path(explicit)
        return given if given.is_absolute() else root / given
    for place in MODEL_PLACES:
        candidate = root / place
        if candidate.is_file():
            return candidate
    return None


def load_model(path: Path, shown: str | None = None) -> ContentModel:
    """Read and check a Decap config; ModelError (path:line: message) if it is wrong."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ModelError(shown, None, "the content model file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(shown, None, f"cannot be read: {exc}") from None
    return parse_model(text, shown)


def parse_model(text: str, shown: str) -> ContentModel:
    """A ContentModel from a Decap config's text; ModelError if it is wrong."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ModelError(shown, line, f"is not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ModelError(shown, None, f"is not valid YAML: {exc}") from None
    if not isinstance(data, _Map):
        raise ModelError(shown, 1, "must be a YAML mapping with a collections list")
    raw = data.get("collections")
    if not isinstance(raw, list):
        raise ModelError(
            shown, data.lines.get("collections", 1), "needs a collections list, got " + _quote(raw)
        )
    collections: list[Collection] = []
    seen: dict[str, int] = {}
    for item in raw:
        if not isinstance(item, _Map):
            raise ModelError(
                shown, data.lines["collections"], f"a collection must be a mapping: {_quote(item)}"
            )
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError(shown, item.line, f"a collection needs a name, got {_quote(name)}")
        if name in seen:
            raise ModelError(
                shown,
                item.line,
                f"collection {name!r} is declared twice (also at line {seen[name]})",
            )
        seen[name] = item.line
        if "folder" not in item:
            # A files collection (single pages such as settings): no type of its own.
            continue
        folder = item["folder"]
        if not isinstance(folder, str):
            raise ModelError(
                shown,
                item.lines["folder"],
                f"collection {name!r}: folder {_quote(folder)} is not a path",
            )
        extension = item.get("extension", "md")
        if not isinstance(extension, str) or extension not in ("md", "markdown"):
            raise ModelError(
                shown,
                item.lines.get("extension", item.line),
                f"collection {name!r}: extension {_quote(extension)} is not md or markdown "
                "(only Markdown pages are read)",
            )
        fields = _fields(item.get("fields"), shown, item, f"collection {name!r}")
        collections.append(
            Collection(
                name=name,
                folder=folder.strip("/").removeprefix("./").strip("/").replace("\\", "/")
                if folder.strip("/") != "."
                else "",
                fields=fields,
                line=item.line,
                label=_text(item.get("label")),
                extension=extension,
                nested="nested" in item,
                depth=item["path"].strip("/").count("/")
                if isinstance(item.get("path"), str)
                else 0,
            )
        )
    model = ContentModel(
        path=shown,
        collections=tuple(collections),
        media_folder=str(data.get("media_folder") or ""),
        public_folder=str(data.get("public_folder") or ""),
    )
    for collection in model.collections:
        _check_relations(model, collection.fields, shown, collection.name)
    return model


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fields(raw: Any, shown: str, owner: _Map, what: str) -> tuple[Field, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ModelError(
            shown,
            owner.lines.get("fields", owner.line),
            f"{what}: fields must be a list, got {_quote(raw)}",
        )
    fields: list[Field] = []
    names: set[str] = set()
    for item in raw:
        if not isinstance(item, _Map):
            raise ModelError(
                shown,
                owner.lines.get("fields", owner.line),
                f"{what}: a field must be a mapping: {_quote(item)}",
            )
        made = _field(item, shown, what)
        if made.name in names:
            raise ModelError(shown, item.line, f"{what}: field {made.name!r} is declared twice")
        names.add(made.name)
        fields.append(made)
    return tuple(fields)


def _number(item: _Map, key: str, shown: str, what: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(shown, item.lines[key], f"{what}: {key} {_quote(value)} is not a number")
    return float(value)


def _field(item: _Map, shown: str, what: str) -> Field:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ModelError(shown, item.line, f"{what}: a field needs a name, got {_quote(name)}")
    where = f"{what}, field {name!r}"
    widget = item.get("widget", "string")
    if widget not in WIDGETS:
        raise ModelError(
            shown,
            item.lines.get("widget", item.line),
            f"{where}: unknown widget {_quote(widget)} (known: {', '.join(sorted(WIDGETS))})",
        )
    required = item.get("required", True)
    if not isinstance(required, bool):
        raise ModelError(
            shown,
            item.lines["required"],
            f"{where}: required {_quote(required)} is not true or false",
        )
    pattern: tuple[str, str] | None = None
    if "pattern" in item:
        raw = item["pattern"]
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(p, str) for p in raw)):
            raise ModelError(
                shown,
                item.lines["pattern"],
                f"{where}: pattern {_quote(raw)} is not [regex, message]",
            )
        try:
            re.compile(raw[0])
        except re.error as exc:
            raise ModelError(
                shown,
                item.lines["pattern"],
                f"{where}: pattern {raw[0]!r} is not a regular expression: {exc}",
            ) from None
        pattern = (raw[0], raw[1])
    options: tuple[str, ...] = ()
    if widget == "select":
        raw_options = item.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise ModelError(
                shown,
                item.lines.get("options", item.line),
                f"{where}: a select needs options, got {_quote(raw_options)}",
            )
        values = []
        for option in raw_options:
            value = option.get("value") if isinstance(option, Mapping) else option
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ModelError(
                    shown, item.lines["options"], f"{where}: option {_quote(option)} has no value"
                )
            values.append(str(value))
        options = tuple(values)
    sub_fields: tuple[Field, ...] | None = None
    single: Field | None = None
    if widget in ("list", "object"):
        if "fields" in item:
            sub_fields = _fields(item["fields"], shown, item, where)
            if not sub_fields:
                raise ModelError(shown, item.lines["fields"], f"{where}: fields is empty")
        elif widget == "list" and isinstance(item.get("field"), _Map):
            single = _field(item["field"], shown, where)
        elif widget == "object":
            raise ModelError(shown, item.line, f"{where}: an object needs fields")
    collection = value_field = None
    if widget == "relation":
        collection = item.get("collection")
        value_field = item.get("value_field")
        if not isinstance(collection, str) or not isinstance(value_field, str):
            raise ModelError(
                shown, item.line, f"{where}: a relation needs collection and value_field"
            )
    has_time = widget != "date"
    if widget == "datetime" and item.get("time_format") is False:
        has_time = False
    value_type = item.get("value_type", "int")
    if widget == "number" and value_type not in ("int", "float"):
        # Decap saves a number of any other value_type as a string.
        value_type = "string"
    return Field(
        name=name,
        widget=widget,
        line=item.line,
        required=required,
        default=item.get("default"),
        label=_text(item.get("label")),
        hint=_text(item.get("hint")),
        pattern=pattern,
        minimum=_number(item, "min", shown, where),
        maximum=_number(item, "max", shown, where),
        value_type=value_type if widget == "number" else "int",
        options=options,
        multiple=bool(item.get("multiple", False)),
        fields=sub_fields,
        item=single,
        collection=collection,
        value_field=value_field,
        has_time=has_time,
    )


def _check_relations(model: ContentModel, fields: Iterable[Field], shown: str, owner: str) -> None:
    for declared in fields:
        if declared.widget == "relation":
            target = model.collection(declared.collection or "")
            if target is None:
                raise ModelError(
                    shown,
                    declared.line,
                    f"collection {owner!r}, field {declared.name!r}: a relation to a missing "
                    f"(or not folder) collection {declared.collection!r}",
                )
        _check_relations(model, declared.fields or (), shown, owner)
        if declared.item is not None:
            _check_relations(model, (declared.item,), shown, owner)


# --- Entries: typed values ---------------------------------------------------------


class Problem(Exception):
    """A value that breaks its field: the key path and what is wrong."""

    def __init__(self, keys: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.keys = keys
        self.message = message


class Markdown:
    """A markdown widget's value: the source, and its sanitised HTML and text when asked."""

    __slots__ = ("__dict__", "markdown")

    def __init__(self, markdown: str) -> None:
        self.markdown = markdown

    @cached_property
    def html(self) -> str:
        """Rendered as CommonMark with GFM tables and strikethrough (what Decap's editor
        writes), sanitised as page bodies are."""
        return sanitize(_markdown_it().render(self.markdown))

    @cached_property
    def text(self) -> str:
        """The plain text of html."""
        return plain_text(self.html)


_renderer: Any = None


def _markdown_it() -> Any:
    global _renderer
    if _renderer is None:
        from markdown_it import MarkdownIt

        _renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return _renderer


class Record:
    """An object or list-item field's value: one attribute per sub-field (python_name)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def python_name(name: str) -> str:
    """The attribute an entry or record holds a declared field's value in."""
    return "f_" + re.sub(r"\W", "_", name)


class Entry:
    """A page as an entry of its collection: the page, and one attribute per typed field
    (python_name). A subclass per collection (see entry_class), so a value's Python type
    tells its collection."""

    collection: str = ""
    type_name: str = ""

    def __init__(self, page: Treatment, values: Mapping[str, Any]) -> None:
        self.page = page
        self.__dict__.update(values)
        # Filled in by TypedView once every entry exists: relation name -> entries.
        self.relations: dict[str, tuple[Entry, ...]] = {}

    # Document's fields read the page's own.
    @property
    def uri(self) -> str:
        return self.page.uri

    @property
    def slug(self) -> str:
        return self.page.slug

    @property
    def title(self) -> str:
        return self.page.title

    @property
    def path(self) -> str:
        return self.page.path

    @property
    def summary(self) -> str | None:
        return self.page.summary

    @property
    def html(self) -> str:
        return self.page.html

    @property
    def text(self) -> str:
        return self.page.text

    @property
    def markdown(self) -> str:
        return self.page.markdown

    @property
    def images(self) -> Any:
        return self.page.images

    @property
    def cover_image(self) -> Any:
        return self.page.cover_image

    @property
    def date(self) -> dt.date | None:
        return self.page.date

    @property
    def updated_at(self) -> dt.datetime | None:
        return self.page.updated_at

    @property
    def front_matter(self) -> dict[str, Any]:
        return self.page.front_matter

    @property
    def key(self) -> str:
        return self.page.key


_entry_classes: dict[tuple[str, str], type[Entry]] = {}


def entry_class(collection: str, type_name: str) -> type[Entry]:
    """The Entry subclass of a collection (one per collection and type name)."""
    found = _entry_classes.get((collection, type_name))
    if found is None:
        found = type(
            f"{type_name}Entry", (Entry,), {"collection": collection, "type_name": type_name}
        )
        _entry_classes[(collection, type_name)] = found
    return found


def _as_date(value: Any, has_time: bool, keys: tuple[Any, ...]) -> dt.date:
    if isinstance(value, dt.datetime):
        parsed: dt.date = value
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Problem(keys, f"{_quote(value)} is not a date") from None
        if "T" not in value and " " not in value.strip() and len(value.strip()) == 10:
            parsed = parsed.date()
    else:
        raise Problem(keys, f"{_quote(value)} is not a date")
    if not has_time:
        return parsed.date() if isinstance(parsed, dt.datetime) else parsed
    if not isinstance(parsed, dt.datetime):
        parsed = dt.datetime(parsed.year, parsed.month, parsed.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def typed_value(declared: Field, value: Any, keys: tuple[Any, ...]) -> Any:
    """A front matter value as its field types it (None stays None); Problem if it breaks
    the field. Relation values stay as written (TypedView resolves them)."""
    if value is None:
        return None
    widget = declared.widget
    if declared.is_list and widget != "list":
        items = value if isinstance(value, list) else [value]
        single = Field(**{**_asdict(declared), "multiple": False})
        return tuple(typed_value(single, item, (*keys, i)) for i, item in enumerate(items))
    if widget == "code" and isinstance(value, dict):
        # Decap's code widget saves {code, lang} unless output_code_only is set.
        value = value.get("code")
        if value is None:
            return None
    if (
        widget in STRING_WIDGETS
        or widget == "markdown"
        or (widget == "number" and declared.value_type == "string")
    ):
        if isinstance(value, bool) or isinstance(value, dict | list):
            raise Problem(keys, f"{_quote(value)} is not text")
        text = str(value)
        if declared.pattern is not None and not re.search(declared.pattern[0], text):
            raise Problem(
                keys,
                f"{_quote(value)} does not match {declared.pattern[0]!r} ({declared.pattern[1]})",
            )
        if declared.minimum is not None and len(text) < declared.minimum:
            raise Problem(keys, f"{_quote(value)} is shorter than {declared.minimum:g} characters")
        if declared.maximum is not None and len(text) > declared.maximum:
            raise Problem(keys, f"{_quote(value)} is longer than {declared.maximum:g} characters")
        return Markdown(text) if widget == "markdown" else text
    if widget == "number":
        number: int | float
        if isinstance(value, bool):
            raise Problem(keys, f"{_quote(value)} is not a number")
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value) if declared.value_type == "float" else int(value)
            except ValueError:
                raise Problem(keys, f"{_quote(value)} is not a number") from None
        else:
            raise Problem(keys, f"{_quote(value)} is not a number")
        if declared.value_type == "int":
            if isinstance(number, float):
                if not number.is_integer():
                    raise Problem(keys, f"{_quote(value)} is not a whole number")
                number = int(number)
            if not -(2**31) <= number < 2**31:
                raise Problem(keys, f"{_quote(value)} is beyond a 32-bit integer")
        else:
            number = float(number)
            if not math.isfinite(number):
                raise Problem(keys, f"{_quote(value)} is not a finite number")
        if declared.minimum is not None and number < declared.minimum:
            raise Problem(keys, f"{_quote(value)} is less than the minimum {declared.minimum:g}")
        if declared.maximum is not None and number > declared.maximum:
            raise Problem(keys, f"{_quote(value)} is more than the maximum {declared.maximum:g}")
        return number
    if widget == "boolean":
        if not isinstance(value, bool):
            raise Problem(keys, f"{_quote(value)} is not true or false")
        return value
    if widget in ("datetime", "date"):
        return _as_date(value, declared.has_time, keys)
    if widget == "select":
        choice = (
            str(value)
            if isinstance(value, str | int | float) and not isinstance(value, bool)
            else None
        )
        if choice is None or choice not in declared.options:
            raise Problem(
                keys, f"{_quote(value)} is not one of the options {', '.join(declared.options)}"
            )
        return choice
    if widget in ("image", "file"):
        if not isinstance(value, str) or not value.strip():
            raise Problem(keys, f"{_quote(value)} is not a file path")
        return value.strip()
    if widget == "relation":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Problem(keys, f"{_quote(value)} does not name an entry")
        return str(value)
    if widget == "list":
        if not isinstance(value, list):
            raise Problem(keys, f"{_quote(value)} is not a list")
        if declared.fields is not None:
            return tuple(_record(declared.fields, item, (*keys, i)) for i, item in enumerate(value))
        if declared.item is not None:
            inner = declared.item
            return tuple(
                _required(inner, typed_value(inner, item, (*keys, i)), (*keys, i))
                for i, item in enumerate(value)
            )
        return tuple(_list_string(item, (*keys, i)) for i, item in enumerate(value))
    if widget == "object":
        return _record(declared.fields or (), value, keys)
    raise Problem(keys, f"widget {widget!r} is not known")  # pragma: no cover - checked


def _asdict(declared: Field) -> dict[str, Any]:
    return {name: getattr(declared, name) for name in Field.__slots__}


def _list_string(value: Any, keys: tuple[Any, ...]) -> str:
    if value is None or isinstance(value, bool | dict | list):
        raise Problem(keys, f"{_quote(value)} is not text")
    return str(value)


def _required(declared: Field, value: Any, keys: tuple[Any, ...]) -> Any:
    if value is None:
        if declared.default is not None:
            return typed_value(declared, declared.default, keys)
        if declared.required:
            raise Problem(keys, f"{declared.name!r} is required")
    return value


def _record(fields: Sequence[Field], value: Any, keys: tuple[Any, ...]) -> Record:
    if not isinstance(value, dict):
        raise Problem(keys, f"{_quote(value)} is not an object")
    values: dict[str, Any] = {}
    for declared in fields:
        got = typed_value(declared, value.get(declared.name), (*keys, declared.name))
        values[python_name(declared.name)] = _required(declared, got, (*keys, declared.name))
    return Record(values)


def entry_values(collection: Collection, front_matter: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values of an entry (python_name -> value); Problem at the first break."""
    values: dict[str, Any] = {}
    for declared in collection.typed_fields:
        keys = (declared.name,)
        got = typed_value(declared, front_matter.get(declared.name), keys)
        values[python_name(declared.name)] = _required(declared, got, keys)
    return values


def problem_line(root: Path, page_path: str, keys: Sequence[Any]) -> int | None:
    """The line of the front matter value at `keys` in the page's file (the deepest key
    found), else of the front matter's opening line; None if the file cannot be read."""
    try:
        text = (root / page_path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return 1
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return 1
    try:
        data = yaml.load("\n".join(lines[1:end]), Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError:
        return 1
    line = 1
    node: Any = data
    for key in keys:
        if isinstance(node, _Map) and key in node:
            line = node.lines[key] + 1
            node = node[key]
        elif isinstance(node, _Seq) and isinstance(key, int) and key < len(node):
            line = node.lines[key] + 1
            node = node[key]
        else:
            break
    return line


@dataclass(slots=True)
class TypedCollection:
    """A collection's valid entries in a view, in path order, with lookups."""

    collection: Collection
    entries: tuple[Entry, ...]
    by_uri: dict[str, Entry] = field(default_factory=dict)
    by_slug: dict[str, Entry] = field(default_factory=dict)
    _by_title: dict[bool, tuple[Any, ...]] = field(default_factory=dict)

    def by_title(self, pages: bool) -> tuple[Any, ...]:
        """The entries (or their pages) in treatments' default order (title ignoring
        case, slug, uri): sorted once per view, not per request."""
        found = self._by_title.get(pages)
        if found is None:
            ordered = sorted(self.entries, key=by_title)  # type: ignore[arg-type]
            found = tuple(e.page for e in ordered) if pages else tuple(ordered)
            self._by_title[pages] = found
        return found


class TypedView:
    """Every collection's entries as one content view holds them, their relations
    resolved both ways, and the entries that break their collection as errors."""

    def __init__(
        self,
        model: ContentModel,
        view: ContentView,
        root: Path,
        type_names: Mapping[str, str],
        treatments: str | None,
    ) -> None:
        self.model = model
        self.treatments_collection = treatments
        self.errors: list[ContentError] = []
        self.collections: dict[str, TypedCollection] = {}
        # Pages of a collection other than the treatments one are not Treatments.
        self.not_treatments: set[str] = set()
        grouped: dict[str, list[Entry]] = {c.name: [] for c in model.collections}
        self.type_names = type_names
        self._pages_by_slug: dict[str, list[Treatment]] = {}
        for page in view.treatments:
            self._pages_by_slug.setdefault(page.slug, []).append(page)
        problems: list[tuple[Treatment, Problem]] = []
        for page in view.treatments:
            collection = model.collection_of(page.path)
            if collection is None:
                continue
            if collection.name != treatments:
                self.not_treatments.add(page.uri)
            try:
                values = entry_values(collection, page.front_matter)
            except Problem as broken:
                problems.append((page, broken))
                continue
            kind = entry_class(collection.name, type_names.get(collection.name, collection.name))
            grouped[collection.name].append(kind(page, values))
        for collection in model.collections:
            entries = tuple(grouped[collection.name])
            typed = TypedCollection(collection, entries)
            for entry in entries:
                typed.by_uri[entry.uri] = entry
                typed.by_slug.setdefault(entry.slug, entry)
            self.collections[collection.name] = typed
        self._relate(problems)
        for page, problem in problems:
            where = ".".join(str(k) for k in problem.keys)
            owner = model.collection_of(page.path)
            self.errors.append(
                ContentError(
                    page.path,
                    problem_line(root, page.path, problem.keys),
                    f"field {where}: {problem.message} (collection "
                    f"{owner.name if owner else '?'!r} of {model.path}); left out of its "
                    "collection",
                )
            )
        self.errors.sort(key=lambda error: (error.path, error.line or 0))
        # Reverse relations: (target collection, source collection, field) -> by target uri.
        self.reverse: dict[tuple[str, str, str], dict[str, list[Entry]]] = {}
        for typed in self.collections.values():
            for declared in typed.collection.typed_fields:
                if declared.widget != "relation":
                    continue
                table = self.reverse.setdefault(
                    (declared.collection or "", typed.collection.name, declared.name), {}
                )
                for entry in typed.entries:
                    for target in entry.relations.get(declared.name, ()):
                        table.setdefault(target.uri, []).append(entry)

    def _lookup(self, collection: str, value_field: str) -> dict[str, Entry]:
        typed = self.collections[collection]
        table: dict[str, Entry] = {}
        template = _TEMPLATE.fullmatch(value_field.strip())
        name = template.group(1) if template else value_field
        for entry in typed.entries:
            if name == "slug":
                # Decap's slug of an entry is its file's name (a bundle's folder name),
                # date prefix and all; this API's slug may differ (a Jekyll date prefix
                # dropped, a front matter slug): either names the entry.
                stem = entry.path.rpartition("/")[2].rpartition(".")[0]
                if stem in ("index", "_index") and "/" in entry.path:
                    stem = entry.path.rpartition("/")[0].rpartition("/")[2]
                table.setdefault(stem, entry)
                key: Any = entry.slug
            elif name == "title":
                key = entry.title
            else:
                key = entry.page.front_matter.get(name)
            if key is not None:
                table.setdefault(str(key), entry)
        return table

    def _relate(self, problems: list[tuple[Treatment, Problem]]) -> None:
        lookups: dict[tuple[str, str], dict[str, Entry]] = {}
        for typed in self.collections.values():
            relations = [f for f in typed.collection.typed_fields if f.widget == "relation"]
            if not relations:
                continue
            kept = []
            for entry in typed.entries:
                try:
                    for declared in relations:
                        key = (declared.collection or "", declared.value_field or "")
                        table = lookups.get(key)
                        if table is None:
                            table = lookups[key] = self._lookup(*key)
                        written = getattr(entry, python_name(declared.name))
                        values = (
                            ()
                            if written is None
                            else (written if isinstance(written, tuple) else (written,))
                        )
                        found = []
                        for i, value in enumerate(values):
                            target = table.get(value)
                            if target is None:
                                keys = (declared.name, i) if declared.multiple else (declared.name,)
                                raise Problem(
                                    keys,
                                    f"{_quote(value)} names no entry of {declared.collection!r} "
                                    f"(by {declared.value_field})",
                                )
                            found.append(target)
                        entry.relations[declared.name] = tuple(found)
                except Problem as problem:
                    problems.append((entry.page, problem))
                    continue
                kept.append(entry)
            if len(kept) != len(typed.entries):
                typed.entries = tuple(kept)
                typed.by_uri = {e.uri: e for e in kept}
                typed.by_slug = {}
                for e in kept:
                    typed.by_slug.setdefault(e.slug, e)

    def entry(self, collection: str, uri: str) -> Entry | None:
        """The valid entry of `collection` at `uri`, or None."""
        typed = self.collections.get(collection)
        return None if typed is None else typed.by_uri.get(uri)

    def document(self, page: Treatment) -> Entry | None:
        """A page as its collection's entry (None for a Treatment or an invalid entry)."""
        collection = self.model.collection_of(page.path)
        if collection is None or collection.name == self.treatments_collection:
            return None
        return self.entry(collection.name, page.uri)

    def treatments_by_slug(self, slug: str) -> list[Treatment]:
        """The pages with this slug served as Treatments, in path order."""
        return [p for p in self._pages_by_slug.get(slug, ()) if p.uri not in self.not_treatments]

    def by_type_key(self, type_name: str, key: str) -> Entry | bool | None:
        """For a global id: the entry of the collection whose type is `type_name`, False
        when that type has no such entry, None when the type is not a collection's; a
        Treatment id of another collection's page gives its entry (False if invalid)."""
        uri = "/" if key == "/" else f"/{key}/"
        if type_name == "Treatment":
            if uri not in self.not_treatments:
                return None
            # Change notifications (webhooks, changes(since:)) name every page by its
            # Treatment id: such an id of another collection's page gives that entry.
            for name, typed in self.collections.items():
                if name != self.treatments_collection and uri in typed.by_uri:
                    return typed.by_uri[uri]
            return False
        for name, typed in self.collections.items():
            if name != self.treatments_collection and self.type_names.get(name) == type_name:
                return typed.by_uri.get(uri) or False
        return None

    def is_treatment(self, page: Treatment) -> bool:
        """Whether a page is served as a Treatment (not an entry of another collection)."""
        return page.uri not in self.not_treatments


# --- Which model a content root has ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    """The model a content root is served with, and how its collections are named."""

    model: ContentModel
    type_names: Mapping[str, str]
    treatments: str | None


_served: dict[Path, Served | None] = {}
_lock = threading.Lock()
# Bumped by serve_model: typed views made before it are made again.
_generation = 0
_TYPED_ATTRIBUTE = "_contentmodel_typed"


def serve_model(root: Path, served: Served | None) -> None:
    """Serve `root` with this model (None: none), as the schema built for it names it."""
    global _generation
    with _lock:
        _served[root.resolve()] = served
        # Unresolved spellings of the root looked up before are looked up again.
        for other in [key for key in _served if key != root.resolve()]:
            if other.resolve() == root.resolve():
                del _served[other]
        _generation += 1


def served_model(root: Path) -> Served | None:
    """The model `root` is served with (serve_model), or None."""
    found = _served.get(root)
    if found is None and root not in _served:
        found = _served.get(root.resolve())
        _served[root] = found
    return found


def fresh_typed_view(view: ContentView) -> TypedView | None:
    """The typed entries typed_view made for this view, if still current; else None (ask
    typed_view, which also says None when there is no model)."""
    cached = view.__dict__.get(_TYPED_ATTRIBUTE)
    if cached is not None and cached[0] == _generation:
        return cached[1]  # type: ignore[no-any-return]
    return None


def typed_view(index: ContentIndex, view: ContentView) -> TypedView | None:
    """The typed entries of a view (built on first use), or None without a model.

    Kept on the view itself, with the serve_model generation it was made in: a list of 50
    with 10 typed fields asks 500 times per request, and a lookup by the content root
    (a Path, hashed each time) and a weak dictionary cost a third of such a request."""
    cached = view.__dict__.get(_TYPED_ATTRIBUTE)
    if cached is not None and cached[0] == _generation:
        return cached[1]  # type: ignore[no-any-return]
    served = served_model(index.root)
    with _lock:
        cached = view.__dict__.get(_TYPED_ATTRIBUTE)
        if cached is not None and cached[0] == _generation:
            return cached[1]  # type: ignore[no-any-return]
        found = (
            None
            if served is None
            else TypedView(served.model, view, index.root, served.type_names, served.treatments)
        )
        view.__dict__[_TYPED_ATTRIBUTE] = (_generation, found)
    return found


def load_content_model(root: Path, explicit: str | None = None) -> ContentModel | None:
    """The model of a content root (find_model), read and checked; None without one.
    ModelError if it is wrong (its path shown relative to the root where it lies there)."""
    path = find_model(root, explicit or None)
    if path is None:
        return None
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = str(path)
    return load_model(path, shown)
