"""GraphQL types generated from a site's content model (content/contentmodel.py).

Strawberry types are made at start-up, one per folder collection (implementing Node and
Document), with a field per declared field typed by its widget, relations both ways,
and per collection `<type>(slug:, uri:)` and `<type>Collection(filter:, orderBy:, ...)`
on Query (Contentful's naming). The treatments collection is served as the built-in
Treatment, its typed fields added to it: Strawberry has no way to add fields to a type
another schema shares, so they are declared on a helper type and moved onto Treatment's
graphql-core type once the schema is built (move_treatment_fields).

Every generated name follows a rule (the README lists them); a generated name equal to
a built-in one, or two generated names alike, is a ModelError at start-up naming both.
"""

from __future__ import annotations

import datetime as dt
import enum
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from contentapi.content import contentmodel, model
from contentapi.content.contentmodel import (
    Collection,
    ContentModel,
    Entry,
    Field,
    ModelError,
    Served,
    TypedView,
    entry_class,
    fresh_typed_view,
    python_name,
    typed_view,
)
from contentapi.content.fragments import normalise_src, resolve_src
from contentapi.schema import keys, types
from contentapi.schema.errors import QueryError
from contentapi.schema.query import OrderDirection, Query
from contentapi.schema.relay import (
    Connection,
    Node,
    PageAfter,
    PageBefore,
    PageFirst,
    PageLast,
    connect,
    global_id_field,
)

Info = types.Info
TREATMENT_HELPER = "GeneratedTreatmentFields"

# Fields every Document has: a declared field with one of these names is served by it.
DOCUMENT_FIELDS = frozenset(
    (
        "id uri slug title path summary html text markdown images coverImage date "
        "updatedAt frontMatter ast"
    ).split()
)


def type_name(collection: str) -> str:
    """A collection's type: its name's words (split at anything not a letter or digit, and
    before capitals) capitalised and joined, the last made singular (a trailing s dropped
    unless it ends in ss, us or is; ies made y; news, series and species kept)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+|(?<=[a-z0-9])(?=[A-Z])", collection) if w]
    if not words:
        return ""
    last = words[-1]
    lower = last.lower()
    if lower in _SAME_PLURAL:
        pass
    elif lower.endswith("ies") and len(last) > 3:
        last = last[:-3] + "y"
    elif lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(last) > 1:
        last = last[:-1]
    words[-1] = last
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if not name[0].isdigit() else "_" + name


# Words whose plural is their singular.
_SAME_PLURAL = frozenset(("news", "series", "species"))


def field_name(name: str) -> str:
    """A declared field's GraphQL name: anything not a letter, digit or _ made _, then
    camelCase as Strawberry makes it (featured_image: featuredImage)."""
    cleaned = re.sub(r"[^0-9A-Za-z_]", "_", name)
    camel = to_camel_case(cleaned)
    return camel if camel and not camel[0].isdigit() else "_" + camel


def _pascal(name: str) -> str:
    camel = field_name(name)
    return camel[:1].upper() + camel[1:]


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@dataclass(frozen=True, slots=True)
class Generated:
    """What the schema is built with: the Query type, the extra types, and how the
    content is served."""

    query: type
    types: list[type]
    served: Served
    treatment_fields: list[str] = field(default_factory=list)


# --- Shared input types -----------------------------------------------------------


def _filter_input(name: str, kind: Any, ordered: bool, contains: bool, description: str) -> type:
    attrs: dict[str, Any] = {"__module__": __name__}
    notes: dict[str, Any] = {}
    notes["eq"] = kind | None
    attrs["eq"] = strawberry.field(default=None, description="Equal to this.")
    notes["in_"] = list[kind] | None
    attrs["in_"] = strawberry.field(default=None, name="in", description="Equal to one of these.")
    if ordered:
        for op, text in (
            ("lt", "Less than this."),
            ("lte", "Less than or equal to this."),
            ("gt", "More than this."),
            ("gte", "More than or equal to this."),
        ):
            notes[op] = kind | None
            attrs[op] = strawberry.field(default=None, description=text)
    if contains:
        notes["contains"] = str | None
        attrs["contains"] = strawberry.field(
            default=None, description="Holding this text, ignoring case."
        )
    attrs["__annotations__"] = notes
    return strawberry.input(type(name, (), attrs), name=name, description=description)


StringFilter = _filter_input("StringFilter", str, False, True, "Conditions on a text field.")
IntFilter = _filter_input("IntFilter", int, True, False, "Conditions on a whole-number field.")
FloatFilter = _filter_input("FloatFilter", float, True, False, "Conditions on a number field.")
DateFilter = _filter_input("DateFilter", dt.date, True, False, "Conditions on a date field.")
DateTimeFilter = _filter_input(
    "DateTimeFilter", dt.datetime, True, False, "Conditions on a date-time field."
)
RelationFilter = _filter_input(
    "RelationFilter",
    str,
    False,
    False,
    "Conditions on a reference field, by the referenced entries' slugs: eq matches when "
    "one of them has that slug, in when one has one of those.",
)


@strawberry.input(name="BooleanFilter", description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = strawberry.field(default=None, description="Equal to this.")


@strawberry.type(
    name="Markdown", description="A markdown field: as written, as sanitised HTML, as text."
)
class MarkdownValue:
    markdown: str = strawberry.field(description="The Markdown as written.")
    html: str = strawberry.field(
        description="Rendered as CommonMark (GFM tables, strikethrough), sanitised as bodies are."
    )
    text: str = strawberry.field(description="The HTML's plain text.")

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, contentmodel.Markdown)


# --- Generation --------------------------------------------------------------------


def _typed(info: Info) -> TypedView:
    found = typed_view(info.context.index, info.context.view)
    if found is None:
        raise QueryError("this content folder is served without its content model")
    return found


def _image_of(page: model.Treatment, written: str, public_folder: str) -> model.Image:
    """The Image a picture field names: the page's own picture with that source (read
    relative to the page's folder, as a page bundle's are, or in public_folder, where
    Decap puts uploads), else a picture of no page position (after the page's own)."""
    if "://" in written or written.startswith("//"):
        candidates = [written]
    else:
        folder = page.path.rpartition("/")[0]
        published = written
        if not written.startswith("/") and public_folder:
            published = public_folder.rstrip("/") + "/" + written
        candidates = [
            resolve_src(written, folder),
            normalise_src(written),
            normalise_src(published),
        ]
    for image in page.images:
        if image.src in candidates:
            return image
    return model.Image(page.uri, page.image_count, candidates[-1])


class _Builder:
    def __init__(self, content: ContentModel, treatments: str | None, builtin: set[str]) -> None:
        self.model = content
        self.treatments = treatments
        self.builtin = builtin
        # Generated name -> what made it, to name both in a clash.
        self.names: dict[str, str] = {}
        self.type_names: dict[str, str] = {}
        self.classes: dict[str, type] = {}
        self.extra: list[type] = []
        # A select's enum (by id of its Field): its name and type; and their filters.
        self.enums: dict[int, tuple[str, Any]] = {}
        self.enum_filters: dict[str, type] = {}
        # Fields made per type (id of its class) -> what made them.
        self.fields_made: dict[int, dict[str, str]] = {}

    def claim(self, name: str, what: str) -> str:
        if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", name) or name.startswith("__"):
            raise ModelError(self.model.path, None, f"{what} makes {name!r}, not a GraphQL name")
        if name in self.builtin:
            raise ModelError(
                self.model.path, None, f"{what} makes the name {name!r}, a built-in name"
            )
        if name in self.names:
            raise ModelError(
                self.model.path,
                None,
                f"{what} makes the name {name!r}, already made by {self.names[name]}",
            )
        self.names[name] = what
        return name

    def claim_field(self, owner: type, name: str, what: str) -> None:
        made = self.fields_made.setdefault(id(owner), {})
        if name in made:
            raise ModelError(
                self.model.path,
                None,
                f"{what} makes the field {name!r}, already made by {made[name]}",
            )
        made[name] = what

    def target_type(self, collection: str) -> type:
        if collection == self.treatments:
            return types.Treatment
        return self.classes[collection]

    def build(self) -> Generated:
        for collection in self.model.collections:
            what = f"collection {collection.name!r} (line {collection.line})"
            if collection.name == self.treatments:
                self.type_names[collection.name] = "Treatment"
                continue
            name = self.claim(type_name(collection.name), what)
            self.type_names[collection.name] = name
            self.classes[collection.name] = type(
                name,
                (Node, types.Document),
                {
                    "__module__": __name__,
                    "id": global_id_field(types._document_id, lower_first(name)),
                },
            )
        query_attrs: dict[str, Any] = {"__module__": __name__}
        treatment_fields: list[str] = []
        helper: type | None = None
        for collection in self.model.collections:
            if collection.name == self.treatments:
                helper = type(TREATMENT_HELPER, (), {"__module__": __name__})
                treatment_fields = self.fill(helper, collection, "Treatment", on_treatment=True)
                self.collection_query(collection, "Treatment", query_attrs)
                continue
            cls = self.classes[collection.name]
            self.fill(cls, collection, self.type_names[collection.name], on_treatment=False)
            self.collection_query(collection, self.type_names[collection.name], query_attrs)
        self.reverse_fields(helper)
        generated: list[type] = []
        for collection in self.model.collections:
            if collection.name == self.treatments:
                continue
            name = self.type_names[collection.name]
            cls = self.classes[collection.name]
            kind = entry_class(collection.name, name)
            cls.is_type_of = classmethod(  # type: ignore[attr-defined]
                lambda c, obj, _info, kind=kind: isinstance(obj, kind)
            )
            label = collection.label or collection.name
            generated.append(
                strawberry.type(
                    cls,
                    name=name,
                    description=(
                        f"An entry of the {label} collection (folder "
                        f"{collection.folder or '.'}/ of {self.model.path})."
                    ),
                )
            )
        if helper is not None and any(
            isinstance(value, StrawberryField) for value in vars(helper).values()
        ):
            # A treatments collection of only built-in fields (title, body) adds none.
            generated.append(
                strawberry.type(
                    helper,
                    name=TREATMENT_HELPER,
                    description="Moved onto Treatment when the schema is built.",
                )
            )
        query = strawberry.type(
            type("Query", (Query,), query_attrs),
            name="Query",
            description=Query.__strawberry_definition__.description,  # type: ignore[attr-defined]
        )
        keys.GENERATED_DOCUMENTS.update(
            name for collection, name in self.type_names.items() if collection != self.treatments
        )
        served = Served(self.model, dict(self.type_names), self.treatments)
        return Generated(query, [*generated, *self.extra], served, treatment_fields)

    # A field per declared field.
    def fill(
        self, cls: type, collection: Collection, owner: str, *, on_treatment: bool
    ) -> list[str]:
        notes: dict[str, Any] = dict(cls.__dict__.get("__annotations__", {}))
        made: list[str] = []
        taken = _TREATMENT_NAMES if on_treatment else DOCUMENT_FIELDS
        seen: dict[str, str] = {}
        for declared in collection.typed_fields:
            name = field_name(declared.name)
            if name in taken:
                continue  # Served by the built-in field of that name.
            if name in seen:
                raise ModelError(
                    self.model.path,
                    declared.line,
                    f"collection {collection.name!r}: fields {seen[name]!r} and "
                    f"{declared.name!r} both make the field {name!r}",
                )
            seen[name] = declared.name
            self.claim_field(cls, name, f"collection {collection.name!r}, field {declared.name!r}")
            graphql_type = self.output_type(declared, owner, f"collection {collection.name!r}")
            required = declared.required and not on_treatment
            if not required and not _is_list_type(declared):
                graphql_type = graphql_type | None
            description = self.describe(declared)
            attribute = python_name(declared.name)
            resolver = self.resolver(declared, collection, on_treatment)
            if resolver is None:
                notes[attribute] = graphql_type
                setattr(cls, attribute, strawberry.field(name=name, description=description))
            else:
                setattr(
                    cls,
                    attribute,
                    strawberry.field(
                        resolver=resolver,
                        name=name,
                        description=description,
                        graphql_type=graphql_type,
                    ),
                )
            made.append(name)
        cls.__annotations__ = notes
        return made

    def describe(self, declared: Field) -> str:
        parts = [declared.label or declared.name]
        if declared.hint:
            parts.append(declared.hint)
        parts.append(f"(Decap widget {declared.widget}, front matter {declared.name})")
        return ": ".join(parts[:2]) + " " + parts[-1] if declared.hint else " ".join(parts)

    def output_type(self, declared: Field, owner: str, what: str, nested: bool = False) -> Any:
        """The GraphQL type of a field's value; `nested` inside an object or a list item,
        where pictures and references are their values as written (a String)."""
        widget = declared.widget
        if declared.is_list and widget != "list":
            single = contentmodel.Field(
                **{**contentmodel._asdict(declared), "multiple": False, "required": True}
            )
            return list[self.output_type(single, owner, what, nested)]  # type: ignore[misc]
        if widget in contentmodel.STRING_WIDGETS or (
            nested and widget in ("image", "file", "relation")
        ):
            return str
        if widget == "markdown":
            return MarkdownValue
        if widget == "number":
            kinds = {"float": float, "int": int}
            return kinds.get(declared.value_type, str)
        if widget == "boolean":
            return bool
        if widget in ("datetime", "date"):
            return dt.datetime if declared.has_time else dt.date
        if widget == "select":
            if all(
                re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", o) and o not in ("true", "false", "null")
                for o in declared.options
            ):
                name = self.claim(
                    owner + _pascal(declared.name), f"{what}, field {declared.name!r}"
                )
                members = enum.Enum(  # type: ignore[misc]
                    name,
                    {
                        o: strawberry.enum_value(o, description=f"{declared.name} is {o}.")
                        for o in declared.options
                    },
                )
                made = strawberry.enum(
                    members, name=name, description=f"The options of {declared.name}."
                )
                self.enums[id(declared)] = (name, made)
                return made
            return str
        if widget in ("image", "file"):
            return types.Image
        if widget == "relation":
            return self.target_type(declared.collection or "")
        if widget == "list":
            if declared.fields is not None:
                item = self.record_type(declared, owner, what)
                return list[item]  # type: ignore[valid-type]
            if declared.item is not None:
                inner = contentmodel.Field(
                    **{**contentmodel._asdict(declared.item), "required": True}
                )
                # A list of pictures is resolved (the page is at hand); one of references
                # is their values as written.
                inner_nested = nested or inner.widget == "relation"
                inner_type = self.output_type(
                    inner, owner + _pascal(declared.name), what, inner_nested
                )
                return list[inner_type]  # type: ignore[valid-type]
            return list[str]
        if widget == "object":
            return self.record_type(declared, owner, what)
        raise ModelError(self.model.path, declared.line, f"widget {widget!r} has no type")

    def record_type(self, declared: Field, owner: str, what: str) -> type:
        name = self.claim(owner + _pascal(declared.name), f"{what}, field {declared.name!r}")
        cls = type(name, (), {"__module__": __name__})
        notes: dict[str, Any] = {}
        for sub in declared.fields or ():
            sub_type = self.output_type(sub, name, f"{what}, field {declared.name!r}", True)
            if not sub.required and not _is_list_type(sub):
                sub_type = sub_type | None
            attribute = python_name(sub.name)
            resolver = self.sub_resolver(sub)
            if resolver is None:
                notes[attribute] = sub_type
                setattr(
                    cls,
                    attribute,
                    strawberry.field(name=field_name(sub.name), description=self.describe(sub)),
                )
            else:
                setattr(
                    cls,
                    attribute,
                    strawberry.field(
                        resolver=resolver,
                        name=field_name(sub.name),
                        description=self.describe(sub),
                        graphql_type=sub_type,
                    ),
                )
        cls.__annotations__ = notes
        made = strawberry.type(cls, name=name, description=f"The value of {declared.name}.")
        self.extra.append(made)
        return made

    def sub_resolver(self, declared: Field) -> Callable[..., Any] | None:
        # Inside objects and list items, pictures and references are served as written.
        return None

    def resolver(
        self, declared: Field, collection: Collection, on_treatment: bool
    ) -> Callable[..., Any] | None:
        attribute = python_name(declared.name)
        widget = declared.widget
        public_folder = self.model.public_folder
        # A picture field, or a list of pictures (list with an image or file field).
        pictures = widget in ("image", "file") or (
            widget == "list"
            and declared.item is not None
            and declared.item.widget in ("image", "file")
        )
        if on_treatment:
            name = collection.name
            treatment_base = self.treatments

            def value(root: Any, info: Info) -> Any:
                # Asked for once per field and entry (500 times for a list of 50 with 10
                # typed fields): the view's typed entries read straight off the view.
                context = info.context
                typed = fresh_typed_view(context.index.view(context.preview)) or _typed(info)
                entry = typed.collections[name].by_uri.get(root.uri)
                return None if entry is None else getattr(entry, attribute)

            if pictures:

                def treatment_image(root: Any, info: Info) -> Any:
                    written = value(root, info)
                    if written is None:
                        return [] if declared.is_list else None
                    if isinstance(written, tuple):
                        return [_image_of(root, w, public_folder) for w in written]
                    return _image_of(root, written, public_folder)

                return treatment_image
            if widget == "relation":
                target_is_treatment = declared.collection == treatment_base

                def treatment_relation(root: Any, info: Info) -> Any:
                    entry = _typed(info).entry(name, root.uri)
                    found = () if entry is None else entry.relations.get(declared.name, ())
                    out = [e.page if target_is_treatment else e for e in found]
                    return out if declared.multiple else (out[0] if out else None)

                return treatment_relation
            if declared.is_list:

                def listed(root: Any, info: Info) -> Any:
                    found = value(root, info)
                    return [] if found is None else found

                return listed
            return value
        if pictures:

            def image(root: Entry) -> Any:
                written = getattr(root, attribute)
                if written is None:
                    return [] if declared.is_list else None
                if isinstance(written, tuple):
                    return [_image_of(root.page, w, public_folder) for w in written]
                return _image_of(root.page, written, public_folder)

            return image
        if widget == "relation":
            target_is_treatment = declared.collection == self.treatments

            def relation(root: Entry) -> Any:
                found = root.relations.get(declared.name, ())
                out = [e.page if target_is_treatment else e for e in found]
                return out if declared.multiple else (out[0] if out else None)

            return relation
        if declared.is_list:

            def entry_list(root: Entry) -> Any:
                found = getattr(root, attribute)
                return () if found is None else found

            return entry_list
        return None

    def reverse_fields(self, helper: type | None) -> None:
        for source in self.model.collections:
            for declared in source.typed_fields:
                if declared.widget != "relation":
                    continue
                target = declared.collection or ""
                name = lower_first(_pascal(source.name)) + "By" + _pascal(declared.name)
                what = f"collection {source.name!r}, field {declared.name!r} (reverse)"
                on_treatment = target == self.treatments
                owner = helper if on_treatment else self.classes.get(target)
                if owner is None:
                    continue
                taken = _TREATMENT_NAMES if on_treatment else DOCUMENT_FIELDS
                if name in taken:
                    raise ModelError(
                        self.model.path, declared.line, f"{what} makes {name!r}, a built-in field"
                    )
                source_type = self.target_type(source.name)
                source_is_treatment = source.name == self.treatments
                self.claim_field(owner, name, what)
                bound = _bind((target, source.name, declared.name), source_is_treatment)
                setattr(
                    owner,
                    "r_" + python_name(source.name + "__" + declared.name),
                    strawberry.field(
                        resolver=bound,
                        name=name,
                        graphql_type=list[source_type],  # type: ignore[valid-type]
                        description=(
                            f"The entries of {source.name} whose {declared.name} names this "
                            "one, in path order."
                        ),
                    ),
                )

    # Query fields.
    def collection_query(self, collection: Collection, name: str, attrs: dict[str, Any]) -> None:
        what = f"collection {collection.name!r}"
        cls: Any = (
            types.Treatment if collection.name == self.treatments else self.classes[collection.name]
        )
        as_pages = collection.name == self.treatments
        coll_name = collection.name
        single = lower_first(name)
        if not as_pages:
            self.claim(single, what)
            attrs["q_" + python_name(coll_name)] = strawberry.field(
                resolver=_bind_lookup(coll_name),
                name=single,
                graphql_type=cls | None,
                description=(
                    f"An entry of {collection.name} by slug or uri (give one of the two); null "
                    "if there is none."
                ),
            )
        listed = self.claim(single + "Collection", what)
        filter_type = self.filter_type(collection, name, what)
        order_type, order_fields = self.order_type(collection, name, what)
        attrs["c_" + python_name(coll_name)] = strawberry.field(
            resolver=_bind_collection(coll_name, as_pages, filter_type, order_type, order_fields),
            name=listed,
            graphql_type=Connection[cls],
            description=(
                f"Entries of {collection.name} meeting every filter given, by title unless "
                "ordered. A connection: pages of up to 100, 20 without first or last."
            ),
        )

    def filter_type(self, collection: Collection, owner: str, what: str) -> type:
        name = self.claim(owner + "CollectionFilter", what)
        notes: dict[str, Any] = {"slug": StringFilter | None, "title": StringFilter | None}
        attrs: dict[str, Any] = {
            "__module__": __name__,
            "slug": strawberry.field(default=None, description="On the slug."),
            "title": strawberry.field(default=None, description="On the title."),
        }
        for declared in collection.typed_fields:
            kind = self.filter_kind(declared, owner)
            gql = field_name(declared.name)
            if kind is None or gql in ("slug", "title"):
                continue
            attribute = python_name(declared.name)
            notes[attribute] = kind | None
            attrs[attribute] = strawberry.field(
                default=None, name=gql, description=f"On {declared.name}."
            )
        attrs["__annotations__"] = notes
        made = strawberry.input(
            type(name, (), attrs),
            name=name,
            description=f"Conditions on {collection.name}: all must hold.",
        )
        return made

    def filter_kind(self, declared: Field, owner: str) -> Any:
        widget = declared.widget
        if widget == "relation":
            return RelationFilter
        if declared.is_list or widget in ("object", "markdown", "image", "file"):
            return None
        if widget == "select" and id(declared) in self.enums:
            name, kind = self.enums[id(declared)]
            made = self.enum_filters.get(name)
            if made is None:
                made = _filter_input(
                    self.claim(name + "Filter", f"field {declared.name!r}"),
                    kind,
                    False,
                    False,
                    f"Conditions on a field of options {name}.",
                )
                self.enum_filters[name] = made
            return made
        if widget in contentmodel.STRING_WIDGETS or widget == "select":
            return StringFilter
        if widget == "number":
            filters = {"float": FloatFilter, "int": IntFilter}
            return filters.get(declared.value_type, StringFilter)
        if widget == "boolean":
            return BooleanFilter
        if widget in ("datetime", "date"):
            return DateTimeFilter if declared.has_time else DateFilter
        return None

    def order_type(
        self, collection: Collection, owner: str, what: str
    ) -> tuple[type, dict[str, str]]:
        field_enum = self.claim(owner + "CollectionOrderField", what)
        order_name = self.claim(owner + "CollectionOrder", what)
        fields: dict[str, str] = {"TITLE": "title", "SLUG": "slug", "DATE": "date"}
        for declared in collection.typed_fields:
            if declared.is_list or declared.widget in (
                "object",
                "markdown",
                "image",
                "file",
                "relation",
            ):
                continue
            upper = (
                re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field_name(declared.name))
                .upper()
                .lstrip("_")
            )
            if upper in fields:
                continue
            fields[upper] = declared.name
        members = enum.Enum(  # type: ignore[misc]
            field_enum,
            {
                k: strawberry.enum_value(
                    k, description=f"By {'front matter ' + v if v not in _OWN else 'the ' + v}."
                )
                for k, v in fields.items()
            },
        )
        field_type = strawberry.enum(
            members,
            name=field_enum,
            description=(
                f"What {lower_first(owner)}Collection(orderBy:) sorts by; entries without a "
                "value come last."
            ),
        )
        order = strawberry.input(
            type(
                order_name,
                (),
                {
                    "__module__": __name__,
                    "__annotations__": {"field": field_type, "direction": OrderDirection},
                    "field": strawberry.field(description="What to sort by."),
                    "direction": strawberry.field(
                        default=OrderDirection.ASC,
                        description="Which way; ascending when left out.",
                    ),
                },
            ),
            name=order_name,
            description="One sort key; entries equal on every key keep title order.",
        )
        return order, fields


_TREATMENT_NAMES = frozenset(
    f.graphql_name or to_camel_case(f.python_name)
    for f in types.Treatment.__strawberry_definition__.fields  # type: ignore[attr-defined]
)


def _is_list_type(declared: Field) -> bool:
    return declared.is_list


def _bind(key: tuple[str, str, str], pages: bool) -> Callable[..., Any]:
    def reverse(root: Any, info: Info) -> Any:
        found = _typed(info).reverse.get(key, {}).get(root.uri, ())
        return [e.page for e in found] if pages else list(found)

    return reverse


def _bind_lookup(collection: str) -> Callable[..., Any]:
    def lookup(info: Info, slug: str | None = None, uri: str | None = None) -> Any:
        if (slug is None) == (uri is None):
            raise QueryError(
                "give exactly one of 'slug' and 'uri', "
                + ("got both" if slug is not None else "got neither")
            )
        typed = _typed(info).collections.get(collection)
        if typed is None:
            return None
        if uri is not None:
            return typed.by_uri.get(uri)
        return typed.by_slug.get(slug or "")

    lookup.__annotations__ = {
        "info": Info,
        "slug": Annotated[
            str | None,
            strawberry.argument(description="The entry's slug (its file name, as Decap makes it)."),
        ],
        "uri": Annotated[
            str | None,
            strawberry.argument(description="The entry's uri, as its uri field gives it."),
        ],
        "return": Any,
    }
    return lookup


def _value_of(item: Any, declared: str, as_pages: bool, typed: TypedView, collection: str) -> Any:
    if declared in ("title", "slug", "date"):
        return getattr(item, declared)
    entry = typed.entry(collection, item.uri) if as_pages else item
    return None if entry is None else getattr(entry, python_name(declared), None)


_OWN = frozenset(("title", "slug", "date"))
_COMPARISONS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("lt", operator.lt),
    ("lte", operator.le),
    ("gt", operator.gt),
    ("gte", operator.ge),
)


def _matches(condition: Any, value: Any) -> bool:
    if condition is None:
        return True
    eq = _filter_value(getattr(condition, "eq", None))
    if eq is not None and value != eq:
        return False
    within = getattr(condition, "in_", None)
    if within is not None and value not in [_filter_value(item) for item in within]:
        return False
    for op, test in _COMPARISONS:
        bound = getattr(condition, op, None)
        if bound is not None and (value is None or not test(value, bound)):
            return False
    contains = getattr(condition, "contains", None)
    if contains is not None and (value is None or contains.casefold() not in str(value).casefold()):
        return False
    return True


def _bind_collection(
    collection: str,
    as_pages: bool,
    filter_type: type,
    order_type: type,
    order_fields: dict[str, str],
) -> Callable[..., Any]:
    def listing(
        info: Info,
        filter: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        typed = _typed(info)
        items: list[Any] = list(typed.collections[collection].by_title(as_pages))
        declared = {f.name: f for f in typed.collections[collection].collection.typed_fields}
        if filter is not None:
            for attribute, condition in vars(filter).items():
                if condition is None:
                    continue
                name = (
                    attribute
                    if attribute in ("slug", "title")
                    else _declared_of(attribute, declared)
                )
                relation = name in declared and declared[name].widget == "relation"
                if relation:
                    entry_of = (
                        (lambda i: typed.entry(collection, i.uri)) if as_pages else (lambda i: i)
                    )
                    items = [i for i in items if _relation_matches(condition, entry_of(i), name)]
                else:
                    items = [
                        i
                        for i in items
                        if _matches(
                            condition,
                            _filter_value(_value_of(i, name, as_pages, typed, collection)),
                        )
                    ]
        for order in reversed(order_by or []):
            name = order_fields[order.field.value]
            desc = order.direction is OrderDirection.DESC
            present = [
                i for i in items if _value_of(i, name, as_pages, typed, collection) is not None
            ]
            absent = [i for i in items if _value_of(i, name, as_pages, typed, collection) is None]
            present.sort(
                key=lambda i: _sort_key(_value_of(i, name, as_pages, typed, collection)),
                reverse=desc,
            )
            items = present + absent
        return connect(items, first, after, last, before)

    # Strawberry reads the arguments' GraphQL types from the annotations.
    listing.__annotations__ = {
        "info": Info,
        "filter": Annotated[
            filter_type | None,
            strawberry.argument(description="Conditions to meet; every entry when left out."),
        ],
        "order_by": Annotated[
            list[order_type] | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="Sort keys, the first deciding first; by title when left out."
            ),
        ],
        "first": PageFirst,
        "after": PageAfter,
        "last": PageLast,
        "before": PageBefore,
        "return": Any,
    }
    return listing


def _declared_of(attribute: str, declared: dict[str, Field]) -> str:
    for name in declared:
        if python_name(name) == attribute:
            return name
    return attribute


def _filter_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return value


def _relation_matches(condition: Any, entry: Entry | None, name: str) -> bool:
    slugs = {e.slug for e in (entry.relations.get(name, ()) if entry is not None else ())}
    eq = getattr(condition, "eq", None)
    if eq is not None and eq not in slugs:
        return False
    within = getattr(condition, "in_", None)
    return not (within is not None and not slugs.intersection(within))


def builtin_names(schema: GraphQLSchema) -> set[str]:
    """Type names and Query field names of the schema without a model."""
    names = set(schema.type_map)
    query = schema.query_type
    if query is not None:
        names.update(query.fields)
    return names


def generate(content: ContentModel, treatments: str | None, builtin: set[str]) -> Generated:
    """The types of a model; ModelError for a name clash."""
    if treatments is not None and content.collection(treatments) is None:
        treatments = None
    return _Builder(content, treatments, builtin).build()


def move_treatment_fields(schema: GraphQLSchema, names: Sequence[str]) -> None:
    """Put the helper type's fields on Treatment (see the module's docstring)."""
    helper = schema.type_map.pop(TREATMENT_HELPER, None)
    treatment = schema.type_map["Treatment"]
    if not isinstance(helper, GraphQLObjectType) or not isinstance(treatment, GraphQLObjectType):
        return
    fields = treatment.fields
    for name, found in helper.fields.items():
        fields[name] = found
