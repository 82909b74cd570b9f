"""Languages: a clinic site in three locales with all three layouts (file-name suffix,
first folder, front matter lang with translationKey): lists and search show each
treatment once in the requested locale or its fallback, translations link both ways,
treatment(slug:) picks the locale, and an unknown locale lists the configured ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.index import ContentIndex
from contentapi.content.locales import LocaleError, Locales, file_locale, normalise
from contentapi.content.translations import group_key
from contentapi.schema import Context, build_schema

SITE = Path(__file__).parent.parent / "fixtures" / "locales"
SCHEMA = build_schema()
LOCALES = Locales(("en", "de", "fr"))
LIST = (
    "query($l: String, $f: [String!]) { treatments(first: 50, locale: $l, fallback: $f) {"
    " nodes { title uri locale } } }"
)

# Each translation group of the fixture: its page in each locale it has.
GROUPS = {
    "botox": {"en": "/botox/", "de": "/de/botox/", "fr": "/fr/botox/"},
    "mesotherapy": {"en": "/mesotherapy/", "de": "/de/mesotherapy/", "fr": "/fr/mesotherapy/"},
    "peel": {"en": "/peel/", "de": "/de/peel/", "fr": "/fr/peel/"},
    "fillers": {"en": "/fillers/", "fr": "/fr/fillers/"},
    "laser": {"en": "/laser/"},
    "akupunktur": {"de": "/de/akupunktur/"},
}


@pytest.fixture(scope="module")
def index() -> ContentIndex:
    index = ContentIndex.from_directory(SITE)
    assert index.errors == ()
    return index


def run(index: ContentIndex, query: str, locales: Locales = LOCALES, **variables: Any) -> Any:
    result = SCHEMA.execute_sync(
        query,
        variable_values=variables or None,
        context_value=Context(index, locales=locales),
    )
    assert result.errors is None, result.errors
    return result.data


def errors_of(index: ContentIndex, query: str, locales: Locales = LOCALES) -> list[str]:
    result = SCHEMA.execute_sync(query, context_value=Context(index, locales=locales))
    return [error.message for error in result.errors or []]


def expected(chain: tuple[str, ...]) -> list[tuple[str, str]]:
    """(uri, locale) of each group's page in the first locale of the chain it has."""
    found = []
    for pages in GROUPS.values():
        locale = next((tag for tag in chain if tag in pages), None)
        if locale is not None:
            found.append((pages[locale], locale))
    return sorted(found)


@pytest.mark.parametrize(
    ("locale", "fallback", "chain"),
    [
        (None, None, ("en",)),
        ("en", None, ("en",)),
        ("de", None, ("de", "en")),
        ("fr", None, ("fr", "en")),
        ("fr", [], ("fr",)),
        ("fr", ["de", "en"], ("fr", "de", "en")),
        ("de", ["fr"], ("de", "fr")),
    ],
)
def test_every_list_shows_each_treatment_once_in_its_best_locale(
    index: ContentIndex, locale: str | None, fallback: list[str] | None, chain: tuple[str, ...]
) -> None:
    nodes = run(index, LIST, l=locale, f=fallback)["treatments"]["nodes"]
    assert sorted((node["uri"], node["locale"]) for node in nodes) == expected(chain)
    assert len({node["uri"] for node in nodes}) == len(nodes)


def test_lists_are_in_the_locales_own_titles(index: ContentIndex) -> None:
    nodes = run(index, LIST, l="de")["treatments"]["nodes"]
    assert [node["title"] for node in nodes] == [
        "Akupunktur",
        "Botox (Faltenbehandlung)",
        "Chemisches Peeling",
        "Dermal Fillers",  # no German: the English page
        "Laser Hair Removal",
        "Mesotherapie",
    ]


def test_translations_link_every_page_of_a_group_both_ways(index: ContentIndex) -> None:
    for pages in GROUPS.values():
        for locale, uri in pages.items():
            data = run(
                index,
                "query($u: String!) { treatment(uri: $u) { uri locale translations"
                " { locale uri } } }",
                u=uri,
            )["treatment"]
            assert data["uri"] == uri and data["locale"] == locale
            others = {t["locale"]: t["uri"] for t in data["translations"]}
            assert others == {tag: u for tag, u in pages.items() if tag != locale}
            # In the configured order of their locales.
            order = [t["locale"] for t in data["translations"]]
            assert order == [tag for tag in LOCALES.tags if tag in others]


@pytest.mark.parametrize(
    ("slug", "locale", "uri"),
    [
        ("mesotherapy", None, "/mesotherapy/"),
        ("mesotherapy", "de", "/de/mesotherapy/"),
        ("mesotherapy", "fr", "/fr/mesotherapy/"),
        ("botox", "fr", "/fr/botox/"),
        ("peel", "de", "/de/peel/"),
        ("fillers", "de", "/fillers/"),  # no German: the fallback, English
        ("akupunktur", "de", "/de/akupunktur/"),
        ("akupunktur", "en", None),  # no English, and English falls back to nothing
    ],
)
def test_treatment_by_slug_picks_the_locale(
    index: ContentIndex, slug: str, locale: str | None, uri: str | None
) -> None:
    data = run(
        index,
        "query($s: String, $l: String) { treatment(slug: $s, locale: $l) { uri } }",
        s=slug,
        l=locale,
    )
    assert (data["treatment"] or {}).get("uri") == uri


def test_a_uri_with_a_locale_gives_its_translation(index: ContentIndex) -> None:
    query = 'query($l: String) { treatment(uri: "/peel/", locale: $l) { uri } }'
    assert run(index, query, l="fr")["treatment"] == {"uri": "/fr/peel/"}
    assert run(index, query)["treatment"] == {"uri": "/peel/"}
    german = '{ treatment(uri: "/de/akupunktur/") { uri locale } }'
    assert run(index, german)["treatment"] == {"uri": "/de/akupunktur/", "locale": "de"}


def test_search_finds_each_treatment_once_in_the_locale(index: ContentIndex) -> None:
    query = "query($q: String!, $l: String) { search(query: $q, locale: $l) { treatment { uri } } }"

    def found(text: str, locale: str | None = None) -> list[str]:
        hits = run(index, query, q=text, l=locale)["search"]
        return [hit["treatment"]["uri"] for hit in hits]

    assert found("botox") == ["/botox/"]
    assert found("botox", "fr") == ["/fr/botox/"]
    assert found("botox", "de") == ["/de/botox/"]
    assert sorted(found("haut", "de")) == ["/de/mesotherapy/", "/de/peel/"]
    # The German word is on German pages only; the English page of a group is no hit.
    assert found("haut", "en") == []
    assert found("laser", "fr") == ["/laser/"]  # no French: its fallback


def test_indications_of_a_german_page_are_german(index: ContentIndex) -> None:
    query = '{ treatment(slug: "mesotherapy", locale: "de") { indications { name } } }'
    names = [i["name"] for i in run(index, query)["treatment"]["indications"]]
    assert names == ["Haarausfall", "Cellulite"]


def test_an_unknown_locale_lists_the_configured_ones(index: ContentIndex) -> None:
    assert errors_of(index, '{ treatments(locale: "es") { totalCount } }') == [
        "locale 'es' is not one of the configured locales: en, de, fr"
    ]
    assert errors_of(index, '{ search(query: "x", locale: "klingon!") { score } }') == [
        "locale 'klingon!' is not one of the configured locales: en, de, fr"
    ]
    assert errors_of(index, '{ treatments(locale: "de", fallback: ["it"]) { totalCount } }') == [
        "fallback locale 'it' is not one of the configured locales: en, de, fr"
    ]
    assert errors_of(index, '{ treatment(slug: "x", locale: "de") { uri } }', Locales()) == [
        "locale 'de' is not one of the configured locales: none (set CONTENTAPI_LOCALES)"
    ]


def test_a_requested_locale_is_normalised(index: ContentIndex) -> None:
    data = run(index, '{ treatment(slug: "peel", locale: "DE") { uri } }')
    assert data["treatment"] == {"uri": "/de/peel/"}


def test_without_locales_every_page_is_listed_as_before(index: ContentIndex) -> None:
    nodes = run(index, LIST, Locales())["treatments"]["nodes"]
    assert len(nodes) == len(index.public.treatments) == 13
    # The locale a file names still shows; a folder means nothing without locales.
    by_uri = {node["uri"]: node["locale"] for node in nodes}
    assert by_uri["/de/mesotherapy/"] == "de"
    assert by_uri["/fr/botox/"] == "fr-FR"
    assert by_uri["/de/peel/"] is None


@pytest.mark.parametrize(
    ("written", "tag"),
    [("de", "de"), ("EN_gb", "en-GB"), ("pt-br", "pt-BR"), ("zh-hans", "zh-Hans"), ("iw", "he")],
)
def test_tags_are_normalised_bcp_47(written: str, tag: str) -> None:
    assert normalise(written) == tag


@pytest.mark.parametrize(
    "written", ["", "english", "x", "de--DE", "12", "en-x-" + "-".join(["abcdefgh"] * 8)]
)
def test_what_is_no_tag_is_refused(written: str) -> None:
    with pytest.raises(LocaleError):
        normalise(written)


@pytest.mark.parametrize(
    ("stem", "found"),
    [
        ("mesotherapy.de", ("mesotherapy", "de")),
        ("index.pt-br", ("index", "pt-BR")),
        ("mesotherapy", ("mesotherapy", None)),
        ("1.94.1-release", ("1.94.1-release", None)),
        ("jquery.min", ("jquery.min", None)),  # three letters: a word, not a language
        (".de", (".de", None)),
    ],
)
def test_a_file_names_its_locale_by_a_suffix(stem: str, found: tuple[str, str | None]) -> None:
    assert file_locale(stem) == found


def test_a_page_with_a_bad_lang_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\nlang: english\n---\n", encoding="utf-8")
    index = ContentIndex.from_directory(tmp_path)
    assert [str(error) for error in index.errors] == [
        "a.md:3: 'lang' must be a BCP 47 language tag such as en, de or pt-BR, not 'english'"
    ]


def test_the_three_layouts_share_a_group_key(index: ContentIndex) -> None:
    by_path = {t.path: t for t in index.preview.treatments}
    assert {group_key(by_path[p], LOCALES) for p in ("peel.md", "de/peel.md", "fr/peel.md")} == {
        "path:peel.md"
    }
    assert {
        group_key(by_path[p], LOCALES)
        for p in ("mesotherapy.md", "mesotherapy.de.md", "mesotherapy.fr.md")
    } == {"path:mesotherapy.md"}
    assert {group_key(by_path[p], LOCALES) for p in ("botox.md", "botox-de.md")} == {"key:botox"}


def test_locale_chains() -> None:
    assert LOCALES.chain("de") == ("de", "en")
    assert Locales(("en", "de", "de-AT")).chain("de-AT") == ("de-AT", "de", "en")
    assert LOCALES.chain("fr", ["de"]) == ("fr", "de")
    assert LOCALES.match("fr-FR") == "fr" and LOCALES.match("es") == "es"
    assert Locales(("en", "de-DE")).match("de") == "de-DE"


def _section(title: str) -> str:
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n## {title}\n")
    return readme[start : readme.index("\n## ", start + 1)]


def _blocks(text: str, language: str) -> list[str]:
    parts = text.split(f"```{language}\n")[1:]
    return [part.split("```", 1)[0] for part in parts]


def test_the_readmes_languages_example_is_what_the_fixture_answers(
    index: ContentIndex,
) -> None:
    section = _section("Languages")
    (query,) = _blocks(section, "graphql")
    (answer,) = _blocks(section, "json")
    assert {"data": run(index, query)} == json.loads(answer)


def test_the_readmes_redirect_example_is_what_the_jekyll_docs_answer() -> None:
    section = _section("Sitemaps, feeds, redirects")
    (query,) = _blocks(section, "graphql")
    jekyll = ContentIndex.from_directory(SITE.parent / "sites" / "jekyll")
    data = run(jekyll, query, Locales())
    assert data["redirect"] == {"from": "/docs/home/", "to": "/docs/", "status": 301}
    assert data["redirect"] in data["redirects"]
    assert '"from":\n"/docs/home/", "to": "/docs/", "status": 301}' in section


def test_indications_and_categories_are_listed_per_locale(index: ContentIndex) -> None:
    query = (
        "query($l: String) { indications(first: 50, locale: $l) { nodes { name slug"
        " treatments { nodes { uri } } } } }"
    )

    def listed(locale: str | None) -> dict[str, list[str]]:
        nodes = run(index, query, l=locale)["indications"]["nodes"]
        return {n["name"]: [t["uri"] for t in n["treatments"]["nodes"]] for n in nodes}

    assert listed(None) == {
        "Acne scars": ["/peel/"],
        "Cellulite": ["/mesotherapy/"],
        "Hair loss": ["/mesotherapy/"],
    }
    assert listed("de") == {
        "Aknenarben": ["/de/peel/"],
        "Cellulite": ["/de/mesotherapy/"],
        "Haarausfall": ["/de/mesotherapy/"],
    }
    one = '{ indication(slug: "chute-de-cheveux", locale: "fr") { name treatmentCount } }'
    assert run(index, one)["indication"] == {"name": "Chute de cheveux", "treatmentCount": 1}
    assert run(index, '{ indication(slug: "chute-de-cheveux") { name } }')["indication"] is None
    # Without locales every page's indications, as before.
    everything = run(index, "{ indications(first: 50) { totalCount } }", Locales())
    assert everything["indications"]["totalCount"] == 7


def test_categories_are_listed_per_locale(tmp_path: Path) -> None:
    for name, text in {
        "a.md": "---\ntitle: A\ncategory: Skin\n---\n",
        "a.de.md": "---\ntitle: A de\ncategory: Haut\n---\n",
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    site = ContentIndex.from_directory(tmp_path)
    query = "query($l: String) { categories(locale: $l) { name treatmentCount } }"
    assert run(site, query)["categories"] == [{"name": "Skin", "treatmentCount": 1}]
    assert run(site, query, l="de")["categories"] == [{"name": "Haut", "treatmentCount": 1}]
    assert run(site, '{ category(slug: "haut", locale: "de") { name } }')["category"] == {
        "name": "Haut"
    }


def test_a_real_hugo_multilingual_site_lists_and_links_its_translations() -> None:
    """google/docsy-example: a content folder per language (en, no, fa), as Hugo's
    contentDir per language lays it out."""
    docsy = ContentIndex.from_directory(SITE.parent / "sites" / "docsy" / "content")
    assert docsy.errors == ()
    locales = Locales(("en", "no", "fa"))
    query = "query($l: String) { treatments(first: 50, locale: $l) { nodes { uri locale } } }"

    def listed(locale: str) -> list[tuple[str, str]]:
        nodes = run(docsy, query, locales, l=locale)["treatments"]["nodes"]
        return sorted((n["uri"], n["locale"]) for n in nodes)

    assert listed("no") == [
        ("/en/about/", "en"),
        ("/en/docs/concepts/", "en"),
        ("/en/docs/overview/", "en"),
        ("/en/search/", "en"),
        ("/no/", "no"),
        ("/no/docs/", "no"),
    ]
    assert listed("fa") == [
        ("/en/docs/concepts/", "en"),
        ("/fa/", "fa"),
        ("/fa/about/", "fa"),
        ("/fa/docs/", "fa"),
        ("/fa/docs/overview/", "fa"),
        ("/fa/search/", "fa"),
    ]
    one = "query($u: String!) { treatment(uri: $u) { title translations { locale uri } } }"
    docs = run(docsy, one, locales, u="/no/docs/")["treatment"]
    assert docs["translations"] == [
        {"locale": "en", "uri": "/en/docs/"},
        {"locale": "fa", "uri": "/fa/docs/"},
    ]
    overview = run(docsy, one, locales, u="/fa/docs/overview/")["treatment"]
    assert overview["title"] == "مرور کلی"
    assert overview["translations"] == [{"locale": "en", "uri": "/en/docs/overview/"}]


def test_a_built_index_file_keeps_locales_translations_and_redirects(tmp_path: Path) -> None:
    from contentapi.content.indexfile import build, open_index

    out = tmp_path / "index.sqlite"
    build(SITE, out)
    served = open_index(out, SITE).index
    query = (
        '{ treatment(slug: "botox", locale: "fr") { uri locale translations { locale uri } }'
        ' redirect(path: "/anti-wrinkle") { to } }'
    )
    assert run(served, query) == run(ContentIndex.from_directory(SITE), query)
    assert run(served, query) == {
        "treatment": {
            "uri": "/fr/botox/",
            "locale": "fr",
            "translations": [
                {"locale": "en", "uri": "/botox/"},
                {"locale": "de", "uri": "/de/botox/"},
            ],
        },
        "redirect": {"to": "/botox/"},
    }


def test_drafts_are_no_translation_without_the_preview_token(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n", encoding="utf-8")
    (tmp_path / "a.de.md").write_text("---\ntitle: A de\ndraft: true\n---\n", encoding="utf-8")
    site = ContentIndex.from_directory(tmp_path)
    query = '{ treatment(slug: "a", locale: "de") { uri translations { uri } } }'

    def answer(preview: bool) -> Any:
        result = SCHEMA.execute_sync(
            query, context_value=Context(site, preview=preview, locales=LOCALES)
        )
        assert result.errors is None
        return result.data

    assert answer(False) == {"treatment": {"uri": "/a/", "translations": []}}
    assert answer(True) == {"treatment": {"uri": "/de/a/", "translations": [{"uri": "/a/"}]}}


@pytest.mark.parametrize("locale", [None, "en", "de", "fr"])
@pytest.mark.parametrize(
    "text", ["botox", "peel", "peeling", "haut", "peau", "skin", "laser", "mesotherap", "hy"]
)
def test_every_search_shows_each_treatment_once_in_its_best_locale(
    index: ContentIndex, locale: str | None, text: str
) -> None:
    query = (
        "query($q: String!, $l: String) { search(query: $q, locale: $l, first: 100)"
        " { treatment { uri locale } } }"
    )
    hits = [hit["treatment"] for hit in run(index, query, q=text, l=locale)["search"]]
    best = dict(expected(LOCALES.chain(locale or "en")))
    groups = [
        name for hit in hits for name, pages in GROUPS.items() if hit["uri"] in pages.values()
    ]
    assert len(groups) == len(set(groups)) == len(hits)  # each group at most once
    for hit in hits:
        assert best.get(hit["uri"]) == hit["locale"]  # and by its page in the best locale
    unfiltered = run(index, query, Locales(), q=text)["search"]
    matching = {hit["treatment"]["uri"] for hit in unfiltered}
    # Every group whose best page matches is found.
    assert {hit["uri"] for hit in hits} == {uri for uri in best if uri in matching}


def test_check_warns_of_pages_locale_lists_leave_out(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from contentapi.cli import cli

    for name, text in {
        "a.md": "---\ntitle: A\n---\n",
        "en/a.md": "---\ntitle: A again\n---\n",
        "b.md": "---\ntitle: B\nlang: es\n---\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(tmp_path)], env={"CONTENTAPI_LOCALES": "en,de"})
    assert result.exit_code == 0
    assert result.output == (
        "b.md: has the locale 'es', which is not one of the configured locales en, de: lists"
        " and search in a locale leave it out (warning)\n"
        "en/a.md: is a second en translation of a.md: lists and search in a locale leave it"
        " out (warning)\n"
        "3 pages, 0 errors, 2 warnings\n"
    )
    strict = runner.invoke(
        cli, ["check", "--strict", str(tmp_path)], env={"CONTENTAPI_LOCALES": "en,de"}
    )
    assert strict.exit_code == 1
    plain = runner.invoke(cli, ["check", str(tmp_path)], env={"CONTENTAPI_LOCALES": ""})
    assert plain.output == "3 pages, 0 errors, 0 warnings\n"


def test_a_slug_of_two_groups_is_an_error_listing_their_pages(tmp_path: Path) -> None:
    for name, text in {
        "page/params.md": "---\ntitle: Page params\n---\n",
        "page/params.de.md": "---\ntitle: Seitenparameter\n---\n",
        "site/params.md": "---\ntitle: Site params\n---\n",
        "botox.md": "---\ntitle: Botox\ntranslationKey: b\n---\n",
        "botox-de.md": "---\ntitle: Botox DE\nlang: de\ntranslationKey: b\n---\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    site = ContentIndex.from_directory(tmp_path)
    assert site.errors == ()
    assert errors_of(site, '{ treatment(slug: "params", locale: "de") { uri } }') == [
        "2 treatments in different translation groups have the slug 'params': ask for one by"
        " uri (/de/page/params/, /site/params/)"
    ]
    # A translation with a slug of its own is found by its group's slug.
    data = run(site, '{ treatment(slug: "botox", locale: "de") { uri title } }')
    assert data["treatment"] == {"uri": "/botox-de/", "title": "Botox DE"}


def test_a_long_locale_in_a_query_is_refused_quoting_its_start(index: ContentIndex) -> None:
    long = "en-x-" + "-".join(["abcdefgh"] * 1000)
    assert errors_of(index, '{ treatments(locale: "%s") { totalCount } }' % long) == [
        f"locale {long[:40]!r} is not one of the configured locales: en, de, fr"
    ]
