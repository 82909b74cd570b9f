"""Locales over HTTP: the response cache, ETags and CDN purge keys keep locales apart,
and the sitemap lists every translation with its hreflang alternates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from starlette.testclient import TestClient

from contentapi.schema.keys import document_key
from contentapi.settings import Settings

from clients import make_client

FIXTURES = Path(__file__).parent.parent / "fixtures"
SITE = "https://clinic.example"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
QUERY = 'query($l: String) { treatment(slug: "mesotherapy", locale: $l) { title } }'


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(
        content_dir=FIXTURES / "locales", cache_dir=None, locales="en,de,fr", site_url=SITE
    )
    with make_client(settings) as client:
        yield client


def get(client: TestClient, locale: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    response = client.get(
        "/graphql",
        params={"query": QUERY, "variables": '{"l": "%s"}' % locale},
        headers=headers,
    )
    body = response.json() if response.status_code == 200 else {}
    title = body.get("data", {}).get("treatment", {}).get("title", "")
    return response.status_code, title, dict(response.headers)


def test_each_locale_has_its_own_answer_etag_and_keys(client: TestClient) -> None:
    seen = {}
    for locale, title, uri in [
        ("en", "Mesotherapy", "/mesotherapy/"),
        ("de", "Mesotherapie", "/de/mesotherapy/"),
        ("fr", "Mésothérapie", "/fr/mesotherapy/"),
    ]:
        # Twice: the second from the response cache, still this locale's.
        for _ in range(2):
            status, got, headers = get(client, locale)
            assert (status, got) == (200, title)
            assert headers["surrogate-key"] == f"all {document_key(uri)}"
        seen[locale] = headers["etag"]
        # Its ETag revalidates it, and no other locale's does.
        assert get(client, locale, **{"if-none-match": headers["etag"]})[0] == 304
    assert len(set(seen.values())) == 3
    assert get(client, "de", **{"if-none-match": seen["fr"]})[:2] == (200, "Mesotherapie")


def test_the_sitemap_lists_each_translation_with_its_alternates(client: TestClient) -> None:
    response = client.get("/sitemap.xml")
    document = etree.fromstring(response.content)
    schema = etree.XMLSchema(etree.parse(str(FIXTURES / "sitemaps" / "all.xsd")))
    assert schema.validate(document), schema.error_log
    urls = {
        str(url.findtext("s:loc", namespaces=NS)): [
            (link.get("hreflang"), link.get("href"))
            for link in url.findall("x:link", namespaces=NS)
        ]
        for url in document.findall("s:url", namespaces=NS)
    }
    assert len(urls) == 13  # every page once
    meso = [
        ("en", SITE + "/mesotherapy/"),
        ("de", SITE + "/de/mesotherapy/"),
        ("fr", SITE + "/fr/mesotherapy/"),
        ("x-default", SITE + "/mesotherapy/"),
    ]
    for uri in ("/mesotherapy/", "/de/mesotherapy/", "/fr/mesotherapy/"):
        assert urls[SITE + uri] == meso
    assert urls[SITE + "/fr/fillers/"] == [
        ("en", SITE + "/fillers/"),
        ("fr", SITE + "/fr/fillers/"),
        ("x-default", SITE + "/fillers/"),
    ]
    # A page without translations has no alternates; one with no default has no x-default.
    assert urls[SITE + "/laser/"] == []
    assert urls[SITE + "/de/akupunktur/"] == []


def test_the_feed_gives_each_entry_its_language(client: TestClient) -> None:
    body = client.get("/feed.xml").content
    assert feedparser.parse(body).bozo == 0
    atom = {"a": "http://www.w3.org/2005/Atom"}
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    languages = {
        str(entry.findtext("a:id", namespaces=atom)).removeprefix(SITE): entry.get(lang)
        for entry in etree.fromstring(body).findall("a:entry", namespaces=atom)
    }
    assert len(languages) == 13
    assert (languages["/peel/"], languages["/de/peel/"], languages["/fr/peel/"]) == (
        "en",
        "de",
        "fr",
    )


DECAP = """\
backend:
  name: git-gateway
media_folder: img
i18n:
  structure: multiple_folders
  locales: [de, en]
  default_locale: en
collections:
  - name: treatments
    label: Treatments
    folder: treatments
    create: true
    i18n: true
    fields:
      - {label: Title, name: title, widget: string, i18n: true}
      - {label: Price, name: price, widget: number, required: false}
      - {label: Body, name: body, widget: markdown, i18n: true}
"""


def decap_site(root: Path, locales: str = "[de, en]") -> Path:
    files = {
        "admin/config.yml": DECAP.replace("[de, en]", locales),
        "treatments/en/mesotherapy.md": "---\ntitle: Mesotherapy\nprice: 120\n---\nText.\n",
        "treatments/de/mesotherapy.md": "---\ntitle: Mesotherapie\nprice: 120\n---\nText.\n",
        "treatments/en/peel.md": "---\ntitle: Chemical Peel\n---\nText.\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_decaps_i18n_block_gives_the_locales(tmp_path: Path) -> None:
    settings = Settings(content_dir=decap_site(tmp_path), cache_dir=None)
    query = (
        "{ en: treatments { nodes { title locale translations { locale uri } } }"
        ' de: treatments(locale: "de") { nodes { title locale } } }'
    )
    with make_client(settings) as client:
        data = client.post("/graphql", json={"query": query}).json()["data"]
        unknown = client.post(
            "/graphql", json={"query": '{ treatments(locale: "fr") { totalCount } }'}
        )
    # default_locale first, whatever the order of the list.
    assert data["en"]["nodes"] == [
        {"title": "Chemical Peel", "locale": "en", "translations": []},
        {
            "title": "Mesotherapy",
            "locale": "en",
            "translations": [{"locale": "de", "uri": "/treatments/de/mesotherapy/"}],
        },
    ]
    assert data["de"]["nodes"] == [
        {"title": "Chemical Peel", "locale": "en"},
        {"title": "Mesotherapie", "locale": "de"},
    ]
    assert unknown.json()["errors"][0]["message"] == (
        "locale 'fr' is not one of the configured locales: en, de"
    )


def test_a_bad_tag_in_decaps_i18n_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from contentapi.cli import cli

    root = decap_site(tmp_path, "[de, en, deutsch]")
    result = CliRunner().invoke(
        cli, ["query", "{ contentInfo { version } }", "--content", str(root)]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {root / 'admin' / 'config.yml'}: i18n locales holds 'deutsch', which is not a"
        " BCP 47 language tag (such as en, de or pt-BR)\n"
    )


def test_locale_queries_stay_on_the_fast_executor(client: TestClient) -> None:
    for query in (
        '{ treatments(locale: "de", fallback: ["fr"]) { nodes { title locale translations'
        " { locale uri } } } }",
        '{ search(query: "botox", locale: "fr") { treatment { uri } snippet } }',
        '{ indications(locale: "de") { nodes { name treatments { nodes { uri } } } } }',
        '{ categories(locale: "fr") { name } redirect(path: "/anti-wrinkle/") { to } }',
        "{ redirects { from to status } }",
    ):
        response = client.post("/graphql", json={"query": query})
        assert response.status_code == 200 and "errors" not in response.json(), response.json()
    assert client.get("/readyz").json()["fastPathFallbacks"] == 0


def test_hugos_languages_give_the_locales(tmp_path: Path) -> None:
    """google/docsy-example's hugo.yaml: en, no (a YAML key Hugo reads as a string, not
    as false) and fa, without CONTENTAPI_LOCALES."""
    settings = Settings(content_dir=FIXTURES / "sites" / "docsy" / "content", cache_dir=None)
    query = '{ treatment(uri: "/no/docs/") { locale translations { locale } } }'
    with make_client(settings) as client:
        data = client.post("/graphql", json={"query": query}).json()["data"]
        refused = client.post(
            "/graphql", json={"query": '{ treatments(locale: "de") { totalCount } }'}
        )
    assert data["treatment"] == {
        "locale": "no",
        "translations": [{"locale": "en"}, {"locale": "fa"}],
    }
    assert refused.json()["errors"][0]["message"] == (
        "locale 'de' is not one of the configured locales: en, fa, no"
    )


@pytest.mark.parametrize(
    ("name", "text", "tags"),
    [
        (
            "hugo.toml",
            'defaultContentLanguage = "de"\n[languages.en]\nweight = 2\n'
            "[languages.de]\nweight = 3\n[languages.fr]\nweight = 1\n",
            ("de", "fr", "en"),
        ),
        ("config.yaml", "languages:\n  en: {}\n  no: {weight: -1}\n", ("en", "no")),
        ("hugo.json", '{"languages": {"en": {}}}', ()),  # one language: none
    ],
)
def test_hugo_configurations_in_each_format(
    tmp_path: Path, name: str, text: str, tags: tuple[str, ...]
) -> None:
    from contentapi.content.translations import hugo_locales

    (tmp_path / "content").mkdir()
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert hugo_locales(tmp_path / "content").tags == tags
