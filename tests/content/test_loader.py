"""The loader on the real seed page, on fixture folders for each contract rule, and on bad input."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contentapi.content.index import ContentIndex
from contentapi.content.model import ContentError, Heading, Image, Indication, Mention, Treatment
from contentapi.content.page import load_page, slugify
from contentapi.content.paths import find_pages

from expected import BAD_ERRORS, SEED_INDICATIONS

PROJECT = Path(__file__).resolve().parent.parent.parent
SEED = PROJECT / "content" / "mesotherapy.md"
# shared/ lies beside the checkout (in CI beside the clone).
SHARED_SEED = PROJECT.parent / "shared" / "seed" / "mesotherapy.md"


# --------------------------------------------------------------------------- the seed page


@pytest.fixture(scope="module")
def seed(seed_index: ContentIndex) -> Treatment:
    assert seed_index.errors == ()
    assert [t.slug for t in seed_index.public.treatments] == ["mesotherapy"]
    return seed_index.public.by_slug["mesotherapy"]


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="the shared seed copy is not on this machine")
def test_seed_is_byte_identical_to_the_shared_copy() -> None:
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_seed_identity(seed: Treatment) -> None:
    assert seed.title == "Mesotherapy"
    assert seed.slug == "mesotherapy"
    assert seed.path == "mesotherapy.md"
    assert seed.draft is False
    assert seed.date is None
    assert seed.updated_at is None
    assert seed.order is None
    assert seed.front_matter == {"title": "Mesotherapy", "layout": "Skin Treatment"}


def test_seed_category(seed: Treatment, seed_index: ContentIndex) -> None:
    assert seed.category == Mention("Skin Treatment", "skin-treatment")
    category = seed_index.public.categories["skin-treatment"]
    assert (category.name, category.slug, category.treatment_uris) == (
        "Skin Treatment",
        "skin-treatment",
        ("/mesotherapy/",),
    )


def test_seed_images(seed: Treatment, seed_index: ContentIndex) -> None:
    assert seed.images == (
        Image(
            treatment_uri="/mesotherapy/",
            position=0,
            src="/img/pages/mesotherapy_london.jpg",
            alt="and another sample image",
            title="Liona XXX",
            width=400,
            height=300,
        ),
        Image(
            treatment_uri="/mesotherapy/",
            position=1,
            src="/img/pages/mesotherapy_london2.jpg",
            alt="a sample image",
            title="At international homeopathic conference 2017",
            width=400,
            height=300,
        ),
    )
    assert tuple(seed_index.public.images) == seed.images
    assert seed_index.public.image("/mesotherapy/", 1) == seed.images[1]
    assert seed_index.public.image("/mesotherapy/", 2) is None
    assert seed.cover_image == seed.images[0]


def test_seed_uri_and_key(seed: Treatment, seed_index: ContentIndex) -> None:
    assert (seed.slug, seed.uri, seed.key) == ("mesotherapy", "/mesotherapy/", "mesotherapy")
    assert seed_index.public.by_uri["/mesotherapy/"] is seed
    assert seed_index.public.by_key("mesotherapy") is seed


def test_seed_indications(seed: Treatment, seed_index: ContentIndex) -> None:
    assert [(m.name, m.slug) for m in seed.indications] == SEED_INDICATIONS
    assert list(seed_index.public.indications.values()) == [
        Indication(slug, name, ("/mesotherapy/",)) for name, slug in SEED_INDICATIONS
    ]


def test_seed_summary_and_toc(seed: Treatment) -> None:
    assert seed.summary == (
        "Homeopathic mesotherapy is a treatment to improve the condition of the skin "
        "and to combat cellulites, hair loss and many others."
    )
    assert [(h.level, h.title, h.anchor) for h in seed.toc] == [
        (4, "The Method", "the-method"),
        (5, "Mesotherapy also can help with:", "mesotherapy-also-can-help-with"),
    ]
    assert [s.heading for s in seed.sections] == list(seed.toc)
    assert seed.sections[1].text.splitlines() == [name for name, _ in SEED_INDICATIONS]


def test_seed_html(seed: Treatment) -> None:
    assert "amp-" not in seed.html
    assert "carousel" not in seed.html
    assert "<img" not in seed.html  # the carousel's images are in `images` only
    assert "\u201cMESO\u201d in Greek means \u201cMiddle\u201d" in seed.html
    assert "cell\u2019s own collagen" in seed.html
    assert '<h4 id="the-method">The Method</h4>' in seed.html
    assert (
        '<h5 id="mesotherapy-also-can-help-with">Mesotherapy also can help with:</h5>' in seed.html
    )
    assert seed.html.startswith("<p>Homeopathic mesotherapy is a treatment")
    assert seed.html.count("<li>") == 10


def test_seed_text_and_counts(seed: Treatment) -> None:
    assert "<" not in seed.text
    assert seed.text.startswith("Homeopathic mesotherapy is a treatment")
    assert seed.text.endswith("Reducing inflammation")
    assert "\u201cMESO\u201d in Greek means \u201cMiddle\u201d" in seed.text
    assert seed.word_count == len(seed.text.split())
    assert seed.word_count == 311
    assert seed.reading_time_minutes == math.ceil(seed.word_count / 200) == 2


def test_seed_markdown_is_the_body(seed: Treatment) -> None:
    body = SEED.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert seed.markdown == body.lstrip("\n")


def test_load_page_gives_the_same_treatment(seed: Treatment) -> None:
    page = load_page(SEED, SEED.parent)
    assert page == seed
    assert isinstance(page, Treatment)
    assert page.front_matter == seed.front_matter


# --------------------------------------------------------------------------- discovery


def test_find_pages_path_order_suffixes_and_dot_files(fixtures_dir: Path) -> None:
    root = fixtures_dir / "pages"
    found = [
        p.relative_to(root.resolve()).as_posix() for p in find_pages(root) if isinstance(p, Path)
    ]
    assert found == [
        "My Page.md",
        "crlf-bom.md",
        "custom-slug.md",
        "dates.md",
        "draft.md",
        "h1-title.md",
        "images.md",
        "indications.md",
        "legacy.markdown",
        "nested/deeper/inner.md",
        "no-category.md",
        "other.md",
        "published.md",
        "unpublished.md",
    ]


def test_path_order_compares_folders_with_files(fixtures_dir: Path) -> None:
    # `a-folder/page.md` sorts before `b.md` and `page.md`: path order is not "files first".
    index = ContentIndex.from_directory(fixtures_dir / "shared")
    assert [t.path for t in index.preview.treatments] == [
        "a-folder/first.md",
        "a-folder/page.md",
        "b.md",
        "c.md",
        "page.md",
    ]
    assert index.errors == ()
    # Both are served, each under its uri; by slug the first by path order comes first.
    assert [(t.path, t.uri) for t in index.public.treatments if t.slug == "page"] == [
        ("a-folder/page.md", "/a-folder/page/"),
        ("page.md", "/page/"),
    ]
    assert index.public.by_slug["page"].title == "Nested Page"


@pytest.fixture(scope="module")
def pages(fixtures_dir: Path) -> ContentIndex:
    return ContentIndex.from_directory(fixtures_dir / "pages")


def test_pages_fixture_loads_without_errors(pages: ContentIndex) -> None:
    assert pages.errors == ()
    assert [t.slug for t in pages.preview.treatments] == [
        "my-page",
        "crlf-bom",
        "special-slug",
        "dates",
        "draft",
        "h1-title",
        "images",
        "indications",
        "legacy",
        "inner",
        "no-category",
        "other",
        "published",
        "unpublished",
    ]


def test_dot_files_dot_folders_and_other_suffixes_are_skipped(pages: ContentIndex) -> None:
    titles = {t.title for t in pages.preview.treatments}
    assert "Hidden" not in titles
    assert "In a hidden folder" not in titles
    assert all(not t.path.endswith(".txt") for t in pages.preview.treatments)


def test_markdown_suffix_and_nested_folders(pages: ContentIndex) -> None:
    legacy = pages.public.by_slug["legacy"]
    assert (legacy.path, legacy.title) == ("legacy.markdown", "Legacy Suffix")
    inner = pages.public.by_slug["inner"]
    assert (inner.path, inner.title) == ("nested/deeper/inner.md", "Inner")


def test_crlf_and_bom(pages: ContentIndex) -> None:
    page = pages.public.by_slug["crlf-bom"]
    assert page.title == "Windows Page"
    assert page.front_matter == {"title": "Windows Page", "layout": "Skin Treatment"}
    assert page.category == Mention("Skin Treatment", "skin-treatment")
    assert page.summary == "Written on Windows with a BOM."
    assert "\r" not in page.markdown + page.html + page.text
    assert "\ufeff" not in page.title + page.markdown
    assert [(m.name, m.slug) for m in page.indications] == [
        ("Dry skin", "dry-skin"),
        ("Hair loss", "hair-loss"),
    ]
    assert page.toc == (Heading(2, "Suitable for:", "suitable-for"),)


def test_slug_from_file_name_and_from_front_matter(pages: ContentIndex) -> None:
    assert pages.public.by_slug["my-page"].path == "My Page.md"
    assert pages.public.by_slug["special-slug"].path == "custom-slug.md"
    assert "custom-slug" not in pages.public.by_slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("My Page", "my-page"),
        ("Redundant (sagging) skin", "redundant-sagging-skin"),
        ("Skin Treatment", "skin-treatment"),
        ("  --Already--slugged--  ", "already-slugged"),
        ("Crème Brûlée", "creme-brulee"),
        ("UPPER_and_lower 2024", "upper-and-lower-2024"),
        # Letters with no accent to fold are spelled out, not dropped.
        ("Ærø", "aero"),
        ("Straße", "strasse"),
        ("Crème brûlée", "creme-brulee"),
        ("Łódź", "lodz"),
        ("Þórshöfn", "thorshofn"),
        ("Œuvre", "oeuvre"),
        ("Ĳsselmeer", "ijsselmeer"),
        # Other scripts are transliterated too.
        ("Здоровье кожи", "zdorove-kozhi"),
        # Every other character still separates words, digits included.
        ("1,000 units", "1-000-units"),
        ("Dr. O'Brien's peel", "dr-o-brien-s-peel"),
        ("R&amp;D", "r-amp-d"),
        ("½ dose", "1-2-dose"),
        ("Skin Treatment", "skin-treatment"),
        *SEED_INDICATIONS,
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugs_of_pages_indications_and_categories_spell_letters_out(tmp_path: Path) -> None:
    (tmp_path / "Straße.md").write_text(
        "---\ntitle: Straße\ncategory: Ærø Øst\nindications: [Crème brûlée, Straße]\n---\n\n"
        "## Helps with:\n\n- Ærø skin\n",
        encoding="utf-8",
    )
    (tmp_path / "named.md").write_text(
        "---\ntitle: Named\nslug: Ærø\n---\n\nText.\n", encoding="utf-8"
    )
    index = ContentIndex.from_directory(tmp_path)
    assert index.errors == ()
    assert sorted(index.public.by_slug) == ["aero", "strasse"]
    page = index.public.by_slug["strasse"]
    assert page.category == Mention("Ærø Øst", "aero-ost")
    assert page.indications == (
        Mention("Ærø skin", "aero-skin"),
        Mention("Crème brûlée", "creme-brulee"),
        Mention("Straße", "strasse"),
    )


def test_title_from_first_h1(pages: ContentIndex) -> None:
    page = pages.public.by_slug["h1-title"]
    assert page.title == "Heading Title"
    assert page.front_matter == {}
    assert page.summary == "The title comes from the first level-1 heading."


def test_category_beats_layout_and_no_category_is_none(pages: ContentIndex) -> None:
    assert pages.public.by_slug["indications"].category == Mention(
        "Body Contouring", "body-contouring"
    )
    assert pages.public.by_slug["no-category"].category is None
    assert set(pages.public.categories) == {"skin-treatment", "body-contouring"}
    assert "ignored-layout" not in pages.public.categories


def test_dates_and_json_safe_front_matter(pages: ContentIndex) -> None:
    page = pages.public.by_slug["dates"]
    assert page.date == dt.date(2024, 5, 31)
    assert page.updated_at == dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.UTC)
    assert page.order == 3
    assert page.summary == "Given by the front matter."
    assert page.front_matter == {
        "title": "Dated",
        "description": "Given by the front matter.",
        "date": "2024-05-31",
        "updated": "2024-06-01T09:30:00+00:00",
        "order": 3,
        "tags": ["one", "two"],
        "seo": {"when": "2020-01-02", "weight": 1.5},
    }


def test_drafts_only_in_preview(pages: ContentIndex) -> None:
    for slug in ("draft", "unpublished"):
        assert slug not in pages.public.by_slug
        assert pages.preview.by_slug[slug].draft is True
    assert pages.public.by_slug["published"].draft is False
    assert len(pages.public.treatments) == len(pages.preview.treatments) - 2


def test_front_matter_indications_merge_with_heading_lists(pages: ContentIndex) -> None:
    page = pages.public.by_slug["indications"]
    # Heading lists first (in page order), then front matter; the same slug only once.
    assert [(m.name, m.slug) for m in page.indications] == [
        ("Cellulite", "cellulite"),
        ("Loose skin", "loose-skin"),
        ("Tired legs", "tired-legs"),
        ("Stretch marks", "stretch-marks"),
        ("hair loss", "hair-loss"),
    ]


def test_one_indication_shared_by_pages_named_from_the_first(fixtures_dir: Path) -> None:
    index = ContentIndex.from_directory(fixtures_dir / "shared")
    assert index.public.indications["hair-loss"] == Indication(
        "hair-loss", "Hair LOSS", ("/a-folder/first/", "/b/", "/c/")
    )
    assert index.public.indications["acne"] == Indication("acne", "Acne", ("/a-folder/first/",))
    assert len(index.public.indications) == 2


def test_shared_indication_in_pages_fixture(pages: ContentIndex) -> None:
    hair = pages.public.indications["hair-loss"]
    assert hair == Indication(
        "hair-loss",
        "Hair loss",
        ("/crlf-bom/", "/indications/", "/nested/deeper/inner/", "/other/"),
    )


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def bad(bad_dir: Path) -> ContentIndex:
    return ContentIndex.from_directory(bad_dir)


def test_bad_pages_are_errors_of_their_own_file(bad: ContentIndex) -> None:
    assert [str(e) for e in bad.errors] == BAD_ERRORS


def test_good_pages_beside_bad_ones_all_load(bad: ContentIndex) -> None:
    assert [(t.path, t.slug, t.title) for t in bad.public.treatments] == [
        ("good-one.md", "good-one", "Good One"),
        ("good-two.md", "good-two", "Good Two"),
        # Its front matter slug is good-one's, but in another folder: its own uri.
        ("sub/dupe.md", "good-one", "Dupe"),
        ("sub/good-three.md", "good-three", "Good Three"),
    ]
    assert bad.preview.treatments == bad.public.treatments


@pytest.mark.parametrize(
    ("path", "line", "fragment"),
    [
        ("not-utf8.md", 5, "byte offset 25"),
        ("broken-yaml.md", 4, "not valid YAML"),
        ("list-front.md", 2, "not a list"),
        ("title-list.md", 3, "'title' must be a string"),
        ("bad-draft.md", 3, "'draft' must be true or false"),
        ("empty.md", None, "is empty"),
        ("no-title.md", None, "has no title"),
        ("unclosed.md", 1, "never closed"),
    ],
)
def test_each_bad_file(bad: ContentIndex, path: str, line: int | None, fragment: str) -> None:
    (error,) = [e for e in bad.errors if e.path == path]
    assert error.line == line
    assert fragment in error.message


def test_a_slug_repeated_in_another_folder_is_served_under_its_own_uri(
    bad: ContentIndex,
) -> None:
    assert [e for e in bad.errors if "slug" in e.message or "uri" in e.message] == []
    assert bad.public.by_uri["/good-one/"].path == "good-one.md"
    assert bad.public.by_uri["/sub/good-one/"].path == "sub/dupe.md"
    # The first by path order, and both uris for whoever asks by slug.
    assert bad.public.by_slug["good-one"].title == "Good One"
    assert bad.public.by_unique_slug("good-one") is None
    assert bad.public.shared_slugs == {"good-one": ("/good-one/", "/sub/good-one/")}


def test_load_page_reports_the_file_relative_to_the_root(bad_dir: Path) -> None:
    root = bad_dir
    error = load_page(root / "not-utf8.md", root)
    assert error == ContentError(
        "not-utf8.md", 5, "is not valid UTF-8: byte 0xe9 at byte offset 25"
    )
    missing = load_page(root / "missing.md", root)
    assert isinstance(missing, ContentError)
    assert (missing.path, missing.line) == ("missing.md", None)
    assert missing.message.startswith("cannot be read")


def test_symlink_outside_the_root_is_refused(
    copy_fixture: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_fixture("bad")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("---\ntitle: Secret\n---\nDo not serve.\n")
    os.symlink(outside / "secret.md", root / "link.md")
    os.symlink(outside, root / "linked-folder")
    os.symlink(root / "good-two.md", root / "sub" / "inside-link.md")
    index = ContentIndex.from_directory(root)
    messages = {e.path: e.message for e in index.errors}
    assert messages["link.md"] == (
        f"is a symlink to {str(outside / 'secret.md')!r}, outside the content root: refused"
    )
    assert messages["linked-folder"] == (
        f"is a symlink to {str(outside)!r}, outside the content root: refused"
    )
    assert "Secret" not in {t.title for t in index.preview.treatments}
    # A link that stays inside the root is an ordinary page.
    assert index.public.by_slug["inside-link"].path == "sub/inside-link.md"
    assert [t.slug for t in index.public.treatments] == [
        "good-one",
        "good-two",
        "good-one",
        "good-three",
        "inside-link",
    ]


def test_symlink_loop_and_dangling_link_are_errors(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nFine.\n")
    os.symlink("loop.md", tmp_path / "loop.md")
    os.symlink("nowhere.md", tmp_path / "dangling.md")
    index = ContentIndex.from_directory(tmp_path)
    assert [t.slug for t in index.public.treatments] == ["good"]
    errors = {e.path: e.message for e in index.errors}
    assert errors["loop.md"] == "is a symlink that cannot be followed"
    assert errors["dangling.md"].startswith("cannot be read")


def test_a_named_pipe_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nFine.\n")
    os.mkfifo(tmp_path / "pipe.md")
    index = ContentIndex.from_directory(tmp_path)
    assert [t.slug for t in index.public.treatments] == ["good"]
    assert [str(e) for e in index.errors] == ["pipe.md: is not a regular file"]


def test_missing_folder_is_an_error_of_the_call(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ContentIndex.from_directory(tmp_path / "nope")


# --------------------------------------------------------------------------- properties

GOOD_PAGE = "---\ntitle: Good\nlayout: Skin Treatment\n---\n\nAlways served.\n"
FRAGMENTS = [
    "---",
    "---\n",
    ":",
    ": ",
    "title",
    "title: ",
    "slug: good",
    "draft: true",
    "indications",
    "<amp-img",
    "<amp-img src=",
    "</amp-img>",
    "<amp-carousel>",
    "<img ",
    ' src="',
    '"',
    "'",
    ">",
    "![",
    "](",
    ")",
    "#",
    "# ",
    "## Good for:",
    "*",
    "* ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&",
    "&amp;",
    "\\",
    "```",
    "\r\n",
    "\n",
    "\r",
    "\ufeff",
    "\t",
    " ",
    "\x00",
    "\u0301",
    "é",
    "word",
    "&a [*a]",
    "!!python/object",
]


def _check_folder_with(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "good.md").write_text(GOOD_PAGE, encoding="utf-8")
        (root / "zz-bad.md").write_bytes(data)
        index = ContentIndex.from_directory(root)
        good = index.public.by_slug["good"]
        assert (good.path, good.title, good.summary) == ("good.md", "Good", "Always served.")
        served = [t for t in index.preview.treatments if t.path == "zz-bad.md"]
        errors = [e for e in index.errors if e.path == "zz-bad.md"]
        assert len(served) + len(errors) == 1
        assert [e for e in index.errors if e.path != "zz-bad.md"] == []
        for error in errors:
            # An unexpected exception inside the loader shows as "could not be parsed".
            assert not error.message.startswith("could not be parsed"), error
        for page in served:
            assert page.word_count == len(page.text.split())
            assert re.search(r"<\s*/?\s*amp-", page.html, re.I) is None
            assert [image.position for image in page.images] == list(range(len(page.images)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_break_the_folder(data: bytes) -> None:
    _check_folder_with(data)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=40))
def test_markdownish_text_never_breaks_the_folder(parts: list[str]) -> None:
    _check_folder_with("".join(parts).encode("utf-8", "surrogatepass"))


def test_property_helper_catches_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # The helper must notice an internal failure rather than pass it as "an error".
    import contentapi.content.markup

    original = contentapi.content.markup.Renderer.render

    def broken(
        self: contentapi.content.markup.Renderer, body: str, slug: str, *rest: object
    ) -> object:
        if slug == "/zz-bad/":
            raise ValueError("boom")
        return original(self, body, slug, *rest)

    monkeypatch.setattr(contentapi.content.markup.Renderer, "render", broken)
    with pytest.raises(AssertionError):
        _check_folder_with(b"---\ntitle: X\n---\nbody\n")
