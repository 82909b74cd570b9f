"""GraphQL object types. Each reads a model object as it is: no copies per request.

Resolvers take the model object as `root` and use `info` for `info.context` only. The
fast executor (schema/execution.py) calls resolvers directly and hands them, as `info`,
an object holding `.context` and nothing else: a resolver reading anything more
(`info.path`, `info.field_name`, `info.variable_values`, ...) raises AttributeError
there, and every operation using it falls back to graphql-core (same answer, slower,
counted in /readyz as fastPathFallbacks).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, TypeVar

import orjson
import strawberry
from strawberry.scalars import JSON

from contentapi.content import images as image_files
from contentapi.content import model
from contentapi.content.mdast import resolved_json, resolved_tree
from contentapi.schema.context import Context
from contentapi.schema.errors import QueryError
from contentapi.schema.locales import translations
from contentapi.schema.relay import (
    Connection,
    Node,
    PageAfter,
    PageBefore,
    PageFirst,
    PageLast,
    check_count,
    connect,
    global_id,
    global_id_field,
)

T = TypeVar("T")
Info = strawberry.Info[Context, None]


# Resolvers take the model object as `root`, so no GraphQL wrapper object is ever built.


def _treatment_id(root: model.Treatment) -> strawberry.ID:
    # The page's key: its uri without the outer slashes, so its slug at the top of the
    # folder (Treatment:mesotherapy), and unique where slugs repeat (Treatment:blog/post).
    return strawberry.ID(global_id("Treatment", root.key))


def _treatment_cover(root: model.Treatment) -> Image | None:
    cover: Any = root.cover_image
    return cover  # type: ignore[no-any-return]


def _treatment_category(root: model.Treatment, info: Info) -> Category | None:
    if root.category is None:
        return None
    found: Any = info.context.view.categories.get(root.category.slug)
    return found  # type: ignore[no-any-return]


def _treatment_indications(root: model.Treatment, info: Info) -> list[Indication]:
    found: Any = info.context.view.indications_of(root)
    return found  # type: ignore[no-any-return]


def _treatment_related(
    root: model.Treatment,
    info: Info,
    first: Annotated[
        int | None, strawberry.argument(description="How many related treatments, 0 to 100.")
    ] = 5,
) -> list[Treatment]:
    first = 5 if first is None else first
    check_count(first, "first")
    related: Any = info.context.view.related(root.uri)[:first]
    return list(related)


def _treatment_toc(root: model.Treatment) -> list[Heading]:
    headings: Any = list(root.toc)
    return headings  # type: ignore[no-any-return]


def _treatment_ast(root: model.Treatment, info: Info) -> JSON:
    key = root.key

    def image_id(position: int) -> str:
        return global_id("Image", f"{key}/{position}")

    # A link's page as the request may see it: drafts only with the preview token.
    link_data = [
        None if page is None else {"id": global_id("Treatment", page.key), "uri": page.uri}
        for page in info.context.view.link_targets(root)
    ]
    if info.context.json_fragments:
        # Written out as stored, the ids spliced in: no tree of objects per request.
        fragment: Any = orjson.Fragment(resolved_json(root.ast_packed, image_id, link_data))
        return fragment  # type: ignore[no-any-return]
    tree: Any = resolved_tree(root.ast_packed, image_id, link_data)
    return tree  # type: ignore[no-any-return]


@strawberry.type(name="Translation", description="A translation of a page: its locale and uri.")
class Translation:
    locale: str = strawberry.field(description="The translation's locale, a BCP 47 tag.")
    uri: str = strawberry.field(description="The translation's uri (treatment(uri:) finds it).")


def _treatment_locale(root: model.Treatment, info: Info) -> str | None:
    return translations(info.context).locale.get(root.uri, root.locale)


def _treatment_translations(root: model.Treatment, info: Info) -> list[Translation]:
    found = translations(info.context)
    return [
        Translation(locale=found.locale[page.uri] or "", uri=page.uri)
        for page in found.translations(root)
        if page.uri != root.uri and found.locale[page.uri]
    ]


def _treatment_links(root: model.Treatment, info: Info) -> list[Treatment]:
    found: Any = info.context.view.links(root)
    return list(found)


def _treatment_linked_from(root: model.Treatment, info: Info) -> list[Treatment]:
    found: Any = info.context.view.linked_from(root)
    return list(found)


def _treatment_excerpt(
    root: model.Treatment,
    length: Annotated[
        int | None,
        strawberry.argument(description="Most characters to return, the … included; at least 1."),
    ] = 160,
) -> str:
    length = 160 if length is None else length
    if length < 1:
        raise QueryError(f"'length' must be at least 1, got {length}")
    text = " ".join(root.text.split())
    if len(text) <= length:
        return text
    # The ellipsis counts towards the length.
    room = text[:length]
    cut = room.rsplit(" ", 1)[0] if " " in room else room[: length - 1]
    return cut.rstrip(" ,;:.-")[: length - 1] + "…"


def _page_of(root: Any) -> model.Treatment:
    # A Document is a page (a Treatment) or an entry of a collection holding its page.
    page: Any = root if isinstance(root, model.Treatment) else root.page
    return page  # type: ignore[no-any-return]


def _document_id(root: Any) -> strawberry.ID:
    # An entry's type name (Practitioner:anna), as a Treatment's is Treatment:key.
    return strawberry.ID(global_id(getattr(root, "type_name", "Treatment"), root.key))


def _document_ast(root: Any, info: Info) -> JSON:
    return _treatment_ast(_page_of(root), info)


@strawberry.interface(
    name="Document",
    description=(
        "A Markdown page of the content folder: a Treatment, or an entry of a collection "
        "the site's Decap CMS config.yml declares (one type per collection)."
    ),
)
class Document:
    id: strawberry.ID = global_id_field(_document_id, "document")
    uri: str = strawberry.field(
        description="The page's unique site path, starting and ending with /."
    )
    slug: str = strawberry.field(description="The last segment of uri.")
    title: str = strawberry.field(
        description="Front matter title, else the text of the body's first level-1 heading."
    )
    path: str = strawberry.field(
        description="Path of the Markdown file in the content folder, with / between folders."
    )
    summary: str | None = strawberry.field(
        description="Front matter description, else the body's first paragraph as plain text."
    )
    html: str = strawberry.field(description="The body as sanitised HTML.")
    text: str = strawberry.field(description="The body as plain text.")
    markdown: str = strawberry.field(description="The body as written in the file.")
    images: list[Image] = strawberry.field(description="Every picture on the page in page order.")
    cover_image: Image | None = strawberry.field(
        description="Front matter image, else the first image of the page; null if none."
    )
    date: dt.date | None = strawberry.field(description="Front matter date; null if not given.")
    updated_at: dt.datetime | None = strawberry.field(
        description="Front matter updated, as a date-time with its zone; null if not given."
    )
    front_matter: JSON = strawberry.field(
        description="Every front matter key of the page as a JSON object."
    )
    ast: JSON = strawberry.field(
        resolver=_document_ast, description="The body as an mdast tree (see Treatment.ast)."
    )


@strawberry.type(
    name="Treatment",
    description=(
        "A treatment page: one Markdown file of the content folder, with what was read from "
        "its front matter (title, category, dates, ...) and its body (HTML, text, images, "
        "headings, indications)."
    ),
)
class Treatment(Node, Document):
    id: strawberry.ID = global_id_field(_treatment_id, "treatment")
    slug: str = strawberry.field(
        description=(
            "The last segment of uri: front matter slug, else the folder's name for a bundle "
            "(x/index.md, x/_index.md), else the file name without a Jekyll date prefix, "
            "lower-cased with other characters turned into -. Pages in different folders may "
            "share it (treatment(slug:) looks it up where one page has it)."
        )
    )
    uri: str = strawberry.field(
        description=(
            "The page's unique site path (permalink, url or path front matter, else its "
            "folder path and slug), starting and ending with /, such as /mesotherapy/ or "
            "/blog/first-post/: treatment(uri:) looks it up."
        )
    )
    title: str = strawberry.field(
        description="Front matter title, else the text of the body's first level-1 heading."
    )
    path: str = strawberry.field(
        description="Path of the Markdown file in the content folder, with / between folders."
    )
    category: Category | None = strawberry.field(
        resolver=_treatment_category,
        description=(
            "The category: front matter category, else the first of categories, else the "
            "collection folder (Jekyll _name/, Astro src/content/name/), else a layout that "
            "is not a template name (default, page, post, single, list, home); null if none."
        ),
    )
    summary: str | None = strawberry.field(
        description=(
            "Front matter description, else the body's first paragraph as plain text; "
            "null when there is neither."
        )
    )
    excerpt: str = strawberry.field(
        resolver=_treatment_excerpt,
        description=(
            "The plain text with runs of white space made single spaces, cut at a word "
            "boundary to at most `length` characters and ending in … when cut: for cards "
            "and meta descriptions."
        ),
    )
    html: str = strawberry.field(
        description=(
            "The body as HTML, sanitised (no scripts, event handlers, frames or styles) and "
            "safe to insert as is. Headings carry id anchors; the leading image carousel is "
            "left out (its pictures are in images)."
        )
    )
    ast: JSON = strawberry.field(
        resolver=_treatment_ast,
        description=(
            "The body as an mdast tree (syntax-tree/mdast with GFM: root, heading, paragraph, "
            "list, listItem, blockquote, code, table, tableRow, tableCell, thematicBreak, "
            "text, emphasis, strong, delete, inlineCode, break, link, image, html), for "
            "native views: the same content as html, sanitised the same way, the carousel "
            "left out. A heading's data.id is its anchor; an image's data.id the Image's "
            "global id; a link to another page of the site has that page's id and uri in "
            "data (drafts only with the preview token). Raw HTML with no mdast node is an "
            "html node."
        ),
    )
    links: list[Treatment] = strawberry.field(
        resolver=_treatment_links,
        description=(
            "The pages of the content folder this one links to (relative .md links, site "
            "paths and uris), in the order of their first link, each once, itself left out."
        ),
    )
    linked_from: list[Treatment] = strawberry.field(
        resolver=_treatment_linked_from,
        description="The pages of the content folder that link to this one, in path order.",
    )
    markdown: str = strawberry.field(
        description="The body as written in the file, front matter left out."
    )
    text: str = strawberry.field(
        description="The body as plain text: no tags, entities decoded, one line per block."
    )
    sections: list[Section] = strawberry.field(
        description=(
            "The body cut at its headings: one section per heading, up to the next heading, "
            "in page order. Text before the first heading is in no section."
        )
    )
    table_of_contents: list[Heading] = strawberry.field(
        resolver=_treatment_toc,
        description="Every heading of the body in page order, with its level and anchor.",
    )
    images: list[Image] = strawberry.field(
        description=(
            "Every picture on the page in page order: the front matter image first (unless "
            "the body shows it too), then the carousel's, <img> and <amp-img> tags and "
            "Markdown images."
        )
    )
    cover_image: Image | None = strawberry.field(
        resolver=_treatment_cover,
        description=(
            "Front matter image, else the first image of the page: front matter image, "
            "featured_image, featuredimage, cover, thumbnail, hero.image or heroImage (with "
            "alt, image_alt or imageAlt); null for a page without pictures."
        ),
    )
    indications: list[Indication] = strawberry.field(
        resolver=_treatment_indications,
        description=(
            "What this treatment helps with, in page order: the list after a heading such as "
            "'Mesotherapy also can help with:', then front matter indications and benefits."
        ),
    )
    related: list[Treatment] = strawberry.field(
        resolver=_treatment_related,
        description=(
            "Other treatments ranked by how many indications they share with this one "
            "(ties by title); treatments sharing none are left out."
        ),
    )
    word_count: int = strawberry.field(description="How many words text holds.")
    reading_time_minutes: int = strawberry.field(
        description="Minutes to read the page at 200 words a minute, rounded up; at least 1."
    )
    date: dt.date | None = strawberry.field(
        description="Front matter date (a date-time there gives its day); null if not given."
    )
    updated_at: dt.datetime | None = strawberry.field(
        description=(
            "Front matter updated, as a date-time with its zone (UTC when none is written, "
            "midnight for a bare date); null if not given."
        )
    )
    draft: bool = strawberry.field(
        description=(
            "True for a draft (front matter draft: true or published: false). Drafts are "
            "served only to requests carrying the preview token, so others always see false."
        )
    )
    order: int | None = strawberry.field(
        description=(
            "Front matter order (or weight), for a hand-made order with "
            "orderBy: {field: ORDER}; null if not given."
        )
    )
    front_matter: JSON = strawberry.field(
        description=(
            "Every front matter key of the page as a JSON object, keys this API does not "
            "know included (dates as ISO 8601 strings): for site-specific data."
        )
    )
    locale: str | None = strawberry.field(
        resolver=_treatment_locale,
        description=(
            "The page's locale (BCP 47): front matter lang, language or locale, else a "
            "file-name suffix (x.de.md), else a folder named by a configured locale "
            "(de/x.md), else the default locale; null on a one-language site."
        ),
    )
    translations: list[Translation] = strawberry.field(
        resolver=_treatment_translations,
        description=(
            "The other translations of the page, in the configured order of their locales: "
            "pages sharing front matter translationKey, else its path without the locale part."
        ),
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Treatment)


def _image_id(root: model.Image) -> strawberry.ID:
    # Its page's key (as in the page's id) and its position: Image:mesotherapy/0.
    key = model.page_key(root.treatment_uri)
    return strawberry.ID(global_id("Image", f"{key}/{root.position}"))


def _image_treatment(root: model.Image, info: Info) -> Treatment:
    found: Any = info.context.view.by_uri[root.treatment_uri]
    return found  # type: ignore[no-any-return]


def _plain_url(root: model.Image, info: Info) -> str:
    base = info.context.public_url.rstrip("/")
    if not base or "://" in root.src or root.src.startswith("//"):
        return root.src
    return base + root.src


@strawberry.enum(name="ImageFit", description="How a picture fills both a width and a height.")
class ImageFit(enum.Enum):
    CONTAIN = strawberry.enum_value("contain", description="Fits inside, aspect kept.")
    COVER = strawberry.enum_value("cover", description="Fills both, cropped at the centre.")
    FILL = strawberry.enum_value("fill", description="Stretched to exactly both.")


@strawberry.enum(name="ImageFormat", description="A format pictures are converted to.")
class ImageFormat(enum.Enum):
    JPEG = strawberry.enum_value("jpg", description="JPEG: photographs, no transparency.")
    PNG = strawberry.enum_value("png", description="PNG: lossless, with transparency.")
    WEBP = strawberry.enum_value("webp", description="WebP: smaller than JPEG, with transparency.")
    AVIF = strawberry.enum_value("avif", description="AVIF: smallest, slowest to make.")


@strawberry.input(
    name="ImageTransform",
    description=(
        "A resized or converted copy made by this server (CONTENTAPI_IMAGE_MAX_SIDE pixels "
        "a side at most). Width or height alone keep the aspect; both use fit."
    ),
)
class ImageTransform:
    width: int | None = strawberry.field(default=None, description="Pixels, 1 or more.")
    height: int | None = strawberry.field(default=None, description="Pixels, 1 or more.")
    fit: ImageFit | None = strawberry.field(
        default=None, description="With both width and height: CONTAIN by default."
    )
    format: ImageFormat | None = strawberry.field(
        default=None, description="The file's own format by default."
    )
    quality: int | None = strawberry.field(
        default=None, description="1 to 100, for JPEG, WebP and AVIF."
    )


def _meta(root: model.Image, info: Info) -> image_files.ImageMeta | None:
    found: Any = info.context.index.images.get(root.src)
    return found  # type: ignore[no-any-return]


def _check_side(value: int | None, name: str, info: Info) -> None:
    most = info.context.image_max_side
    if value is not None and not 1 <= value <= most:
        raise QueryError(f"transform {name} must be from 1 to {most}, not {value}")


def _image_url(
    root: model.Image,
    info: Info,
    transform: Annotated[
        ImageTransform | None,
        strawberry.argument(
            description=(
                "Resize or convert: the URL of the copy this server makes (null transform: "
                "the file as it is)."
            )
        ),
    ] = None,
) -> str:
    url = _plain_url(root, info)
    if transform is None:
        return url
    _check_side(transform.width, "width", info)
    _check_side(transform.height, "height", info)
    if transform.quality is not None and not 1 <= transform.quality <= 100:
        raise QueryError(f"transform quality must be from 1 to 100, not {transform.quality}")
    meta = _meta(root, info)
    if meta is None or meta.width is None:
        # A remote picture, one this server cannot read, or an SVG: nothing to transform.
        return url
    fit: Any = transform.fit.value if transform.fit is not None else None
    fmt: Any = transform.format.value if transform.format is not None else None
    return image_files.transform_url(
        url, meta.version, transform.width, transform.height, fit, fmt, transform.quality
    )


# srcSet's widths when none are given: Next.js's default device sizes, shortened.
_SRCSET_WIDTHS = (320, 640, 960, 1280, 1920)


def _image_src_set(
    root: model.Image,
    info: Info,
    widths: Annotated[
        list[int] | None,
        strawberry.argument(
            description="Widths in pixels; by default 320, 640, 960, 1280 and 1920."
        ),
    ] = None,
    format: Annotated[
        ImageFormat | None, strawberry.argument(description="The file's own by default.")
    ] = None,
) -> str | None:
    meta = _meta(root, info)
    if meta is None or meta.width is None:
        return None
    for width in widths or ():
        _check_side(width, "width", info)
    url = _plain_url(root, info)
    fmt: Any = format.value if format is not None else None
    # A list of 50 asks for the same widths 50 times, and the next request again: each
    # picture's value is made once (so srcSet costs a lookup, as placeholder does).
    key = (url, meta.version, meta.width, tuple(widths) if widths else None, fmt)
    found = _src_sets.get(key)
    if found is None:
        wanted = sorted({*(widths or _SRCSET_WIDTHS)})
        kept = [width for width in wanted if width < meta.width]
        if len(kept) < len(wanted):
            kept.append(meta.width)
        found = ", ".join(
            f"{image_files.transform_url(url, meta.version, width, None, None, fmt)} {width}w"
            for width in kept
        )
        if len(_src_sets) >= _SRC_SETS_KEPT:
            _src_sets.clear()
        _src_sets[key] = found
    return found


# srcSet values made, by picture URL, version, width and the arguments; bounded.
_SRC_SETS_KEPT = 4096
_src_sets: dict[tuple[Any, ...], str] = {}


def _image_width(root: model.Image, info: Info) -> int | None:
    if root.width is not None:
        return root.width
    meta = _meta(root, info)
    return None if meta is None else meta.width


def _image_height(root: model.Image, info: Info) -> int | None:
    if root.height is not None:
        return root.height
    meta = _meta(root, info)
    return None if meta is None else meta.height


def _image_content_type(root: model.Image, info: Info) -> str | None:
    meta = _meta(root, info)
    return None if meta is None else meta.content_type


def _image_byte_size(root: model.Image, info: Info) -> int | None:
    meta = _meta(root, info)
    return None if meta is None else meta.byte_size


def _image_blurhash(root: model.Image, info: Info) -> str | None:
    meta = _meta(root, info)
    return None if meta is None else meta.blurhash


def _image_placeholder(root: model.Image, info: Info) -> str | None:
    meta = _meta(root, info)
    return None if meta is None else meta.placeholder


def _image_dominant_color(root: model.Image, info: Info) -> str | None:
    meta = _meta(root, info)
    return None if meta is None else meta.dominant_color


@strawberry.type(
    name="Image",
    description=(
        "A picture on a treatment page: an <img> or <amp-img> tag or a Markdown image, "
        "carousel pictures included."
    ),
)
class Image(Node):
    id: strawberry.ID = global_id_field(_image_id, "image")
    src: str = strawberry.field(
        description=(
            "The picture's address as written on the page, tidied: backslashes become /, a "
            "relative path gets a leading /, and URLs with a scheme are kept as written."
        )
    )
    url: str = strawberry.field(
        resolver=_image_url,
        description=(
            "src made absolute with the server's public URL (CONTENTAPI_PUBLIC_URL) when one "
            "is set; otherwise the same as src. URLs with a scheme are kept as written. With "
            "a transform, the URL of a copy this server makes (?w=&h=&fit=&fm=&q=&v=, v the "
            "file's content version, so an edited picture gets a new URL); a remote or "
            "unreadable picture keeps its plain URL."
        ),
    )
    src_set: str | None = strawberry.field(
        resolver=_image_src_set,
        description=(
            "An srcset value: one URL per width (widths above the original left out, the "
            "original's own width in their place); null for a remote or unreadable picture."
        ),
    )
    alt: str | None = strawberry.field(
        description="Text for screen readers (alt, or ![alt] in Markdown); null if none."
    )
    title: str | None = strawberry.field(
        description='Tooltip text (title, or ![](src "title") in Markdown); null if none.'
    )
    width: int | None = strawberry.field(
        resolver=_image_width,
        description=(
            "Width in pixels: the tag's width attribute as written, else the file's (EXIF "
            "orientation applied); null when neither is known."
        ),
    )
    height: int | None = strawberry.field(
        resolver=_image_height,
        description=(
            "Height in pixels: the tag's height attribute as written, else the file's (EXIF "
            "orientation applied); null when neither is known."
        ),
    )
    content_type: str | None = strawberry.field(
        resolver=_image_content_type,
        description="MIME type of the file; null when the file is not under the content folder.",
    )
    byte_size: int | None = strawberry.field(
        resolver=_image_byte_size, description="Bytes of the file; null as contentType."
    )
    blurhash: str | None = strawberry.field(
        resolver=_image_blurhash,
        description="A BlurHash of the picture (blurha.sh); null for SVG and as contentType.",
    )
    placeholder: str | None = strawberry.field(
        resolver=_image_placeholder,
        description=(
            "A tiny blurred preview as a data: URI (WebP, under 1 KB) to show while the "
            "picture loads; null for SVG and as contentType."
        ),
    )
    dominant_color: str | None = strawberry.field(
        resolver=_image_dominant_color,
        description="#rrggbb, the picture's most common colour; null for SVG and as contentType.",
    )
    position: int = strawberry.field(
        description="Where the picture comes on its page, counting from 0."
    )
    treatment: Treatment = strawberry.field(
        resolver=_image_treatment, description="The treatment page the picture is on."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Image)


def _indication_id(root: model.Indication) -> strawberry.ID:
    return strawberry.ID(global_id("Indication", root.slug))


def _category_id(root: model.Category) -> strawberry.ID:
    return strawberry.ID(global_id("Category", root.slug))


def _member_count(root: model.Indication | model.Category) -> int:
    return len(root.treatment_uris)


def _member_treatments(
    root: model.Indication | model.Category,
    info: Info,
    first: PageFirst = None,
    after: PageAfter = None,
    last: PageLast = None,
    before: PageBefore = None,
) -> Connection[Treatment]:
    members = info.context.view.members(root.treatment_uris)
    return connect(members, first, after, last, before)  # type: ignore[no-any-return]


@strawberry.type(
    name="Indication",
    description=(
        "Something treatments help with, such as Hair loss. Pages listing the same name "
        "(by slug) share one Indication that lists all of their treatments."
    ),
)
class Indication(Node):
    id: strawberry.ID = global_id_field(_indication_id, "indication")
    slug: str = strawberry.field(
        description=(
            "The name lower-cased with other characters turned into - (Redundant (sagging) "
            "skin: redundant-sagging-skin); indication(slug:) and treatments(filter:) take it."
        )
    )
    name: str = strawberry.field(
        description="The name as spelled on the first page (by file path) that lists it."
    )
    treatment_count: int = strawberry.field(
        resolver=_member_count, description="How many treatments help with it."
    )
    treatments: Connection[Treatment] = strawberry.field(
        resolver=_member_treatments, description="Treatments that help with it, by title."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Indication)


@strawberry.type(
    name="Category",
    description=(
        "A group of treatments, named by their front matter category (or layout), such as "
        "Skin Treatment. Each treatment is in at most one."
    ),
)
class Category(Node):
    id: strawberry.ID = global_id_field(_category_id, "category")
    name: str = strawberry.field(
        description="The name as written in front matter on the first page (by file path)."
    )
    slug: str = strawberry.field(
        description=(
            "The name lower-cased with other characters turned into - (Skin Treatment: "
            "skin-treatment); category(slug:) and treatments(filter: {category:}) take it."
        )
    )
    treatment_count: int = strawberry.field(
        resolver=_member_count, description="How many treatments are in it."
    )
    treatments: Connection[Treatment] = strawberry.field(
        resolver=_member_treatments, description="Treatments in it, by title."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Category)


@strawberry.type(
    name="Heading", description="A heading of a page body: an entry of its table of contents."
)
class Heading:
    level: int = strawberry.field(description="1 for a top-level heading (# or <h1>) to 6.")
    title: str = strawberry.field(description="The heading's text, without markup.")
    anchor: str = strawberry.field(description="The heading's id in html: link to it with #anchor.")


@strawberry.type(name="Section", description="A part of a page body, from one heading to the next.")
class Section:
    heading: Heading = strawberry.field(description="The heading the section starts with.")
    html: str = strawberry.field(
        description="The section's HTML after its heading, sanitised like Treatment.html."
    )
    text: str = strawberry.field(description="The section's text after its heading, as plain text.")


@strawberry.type(
    name="SearchHit",
    description="A treatment matching a search, with how well it matches and where.",
)
class SearchHit:
    treatment: Treatment = strawberry.field(description="The matching treatment.")
    score: float = strawberry.field(
        description=(
            "How well it matches, higher is better (words in the title count most, then the "
            "summary, then the text); compare scores within one search only."
        )
    )
    snippet: str = strawberry.field(
        description="HTML-safe text around the match, matched words wrapped in <mark>."
    )
    document: Document = strawberry.field(
        description=(
            "The matching page as its collection's type when the site's content model has "
            "one for it (Practitioner, ...), else the Treatment."
        )
    )


@strawberry.type(
    name="ContentInfo",
    description="What is being served: a version that changes with the content, and counts.",
)
class ContentInfo:
    version: str = strawberry.field(
        description=(
            "Changes whenever any served page changes; "
            "equal on every replica serving the same files."
        )
    )
    treatment_count: int = strawberry.field(
        description="How many treatments this request can see (drafts only with the preview token)."
    )
    indication_count: int = strawberry.field(
        description="How many indications those treatments help with."
    )
    image_count: int = strawberry.field(
        description="How many pictures those treatments hold, all pages together."
    )
    category_count: int = strawberry.field(
        description="How many categories those treatments are in."
    )
    loaded_at: dt.datetime = strawberry.field(
        description=(
            "When the pages this request sees last changed on this server (its start or a "
            "reload); a reload that changed only drafts leaves it as it was for the public."
        )
    )


@strawberry.type(
    name="ContentError",
    description="A file that could not be read as a page: it is left out, the rest served.",
)
class ContentError:
    path: str = strawberry.field(description="Path of the file in the content folder.")
    line: int | None = strawberry.field(
        description="Line of the file where the problem is; null when not known."
    )
    message: str = strawberry.field(description="What is wrong, in a sentence.")


@strawberry.type(
    name="Redirect",
    description=(
        "An old path of a page and where the page lives now: front matter redirect_from "
        "(jekyll-redirect-from) and aliases (Hugo), and uris of pages renamed while served."
    ),
)
class Redirect:
    from_: str = strawberry.field(
        name="from", description="The old path, as the page's front matter writes it."
    )
    to: str = strawberry.field(description="The uri of the page now (its uri field).")
    status: int = strawberry.field(description="The HTTP status to answer it with: 301.")
