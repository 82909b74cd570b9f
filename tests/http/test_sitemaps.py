"""GET /sitemap.xml and /feed.xml: checked against the sitemaps.org XML schema and read
back with feedparser; drafts never, ETags, and the sitemap index past the limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from contentapi.content import sitemap as sitemap_module
from contentapi.content.index import ContentIndex
from contentapi.content.sitemap import atom, sitemaps
from contentapi.settings import Settings

from clients import CLINIC, make_client

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCHEMAS = FIXTURES / "sitemaps"
SITE = "https://clinic.example"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def valid(body: bytes, name: str = "all.xsd") -> etree._Element:
    document = etree.fromstring(body)
    checker = schema(name)
    assert checker.validate(document), checker.error_log
    return document


def locs(document: etree._Element) -> list[str]:
    return [str(loc) for loc in document.xpath("//s:url/s:loc/text()", namespaces=NS)]


def test_the_sitemap_lists_every_published_page_once_and_validates() -> None:
    with make_client(site_url=SITE + "/") as client:
        response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    document = valid(response.content)
    index = ContentIndex.from_directory(CLINIC)
    published = sorted(SITE + t.uri for t in index.public.treatments)
    assert locs(document) == published
    assert SITE + "/secret/" not in locs(document)  # the draft
    assert len(index.preview.treatments) == len(published) + 1
    # lastmod from the front matter date (acupuncture.md's), none where there is none.
    got = {
        str(url.findtext("s:loc", namespaces=NS)): url.findtext("s:lastmod", namespaces=NS)
        for url in document.xpath("//s:url", namespaces=NS)
    }
    dated = {t.uri: t.date for t in index.public.treatments if t.date is not None}
    assert dated
    for uri, date in dated.items():
        assert got[SITE + uri] == date.isoformat()
    # The updated date-time wins over the date (peel.md has one).
    assert got[SITE + "/peel/"] == "2025-01-02T10:00:00+00:00"


def test_drafts_stay_out_with_the_preview_token_too() -> None:
    with make_client(site_url=SITE, preview_token="tok") as client:
        headers = {"authorization": "Bearer tok"}
        body = client.get("/sitemap.xml", headers=headers).content
        feed = client.get("/feed.xml", headers=headers).content
    assert b"/secret/" not in body
    assert b"/secret/" not in feed


def test_the_jekyll_docs_sitemap_has_each_posts_date() -> None:
    index = ContentIndex.from_directory(FIXTURES / "sites" / "jekyll")
    made = sitemaps(SITE, index.public.treatments)
    assert made.index is None
    document = valid(made.root)
    assert len(locs(document)) == len(index.public.treatments) == 10
    dates = document.xpath(
        "//s:url[s:loc='%s']/s:lastmod/text()"
        % (SITE + "/posts/alfredxing-welcome-to-jekyll-core/"),
        namespaces=NS,
    )
    assert [str(d) for d in dates] == ["2014-12-17"]


def test_answers_carry_an_etag_and_revalidate() -> None:
    with make_client(site_url=SITE) as client:
        for path in ("/sitemap.xml", "/feed.xml"):
            first = client.get(path)
            etag = first.headers["etag"]
            assert etag.startswith('"') and first.headers["cache-control"] == "public, max-age=60"
            again = client.get(path, headers={"if-none-match": etag})
            assert again.status_code == 304 and again.content == b""
            assert client.get(path, headers={"if-none-match": '"other"'}).status_code == 200
            assert client.head(path).headers["etag"] == etag


def test_the_etag_follows_the_content(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n", encoding="utf-8")
    settings = Settings(content_dir=tmp_path, cache_dir=None, site_url=SITE)
    with make_client(settings) as client:
        before = client.get("/sitemap.xml").headers["etag"]
    (tmp_path / "b.md").write_text("---\ntitle: B\n---\n", encoding="utf-8")
    with make_client(settings) as client:
        response = client.get("/sitemap.xml")
    assert response.headers["etag"] != before
    assert locs(valid(response.content)) == [SITE + "/a/", SITE + "/b/"]


def test_without_a_site_url_there_is_no_sitemap_or_feed() -> None:
    with make_client() as client:
        for path in ("/sitemap.xml", "/feed.xml", "/sitemap-1.xml"):
            response = client.get(path)
            assert response.status_code == 404
            assert "CONTENTAPI_SITE_URL" in response.json()["errors"][0]["message"]


def test_past_the_url_limit_the_sitemap_is_an_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sitemap_module, "MAX_URLS", 2)
    index = ContentIndex.from_directory(CLINIC)
    count = len(index.public.treatments)
    with make_client(site_url=SITE) as client:
        root = client.get("/sitemap.xml")
        document = valid(root.content, "siteindex.xsd")
        parts = [str(p) for p in document.xpath("//s:sitemap/s:loc/text()", namespaces=NS)]
        assert parts == [f"{SITE}/sitemap-{n}.xml" for n in range(1, (count + 1) // 2 + 1)]
        listed = []
        for part in parts:
            answer = client.get(part.removeprefix(SITE))
            assert answer.status_code == 200
            listed += locs(valid(answer.content))
        assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
        assert client.get("/sitemap-0.xml").status_code == 404
    assert listed == sorted(SITE + t.uri for t in index.public.treatments)
    # Each file's entry says when its newest page changed (clinic: /acupuncture/'s date
    # is in the first file, /peel/'s updated in the second).
    modified = [str(m) for m in document.xpath("//s:sitemap/s:lastmod/text()", namespaces=NS)]
    assert modified[:2] == ["2024-03-01T00:00:00Z", "2025-01-02T10:00:00Z"]


def test_a_uri_is_percent_encoded_in_its_loc(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\npermalink: /café & co/\n---\n")
    index = ContentIndex.from_directory(tmp_path)
    document = valid(sitemaps(SITE, index.public.treatments).root)
    assert locs(document) == [SITE + "/caf%C3%A9%20&%20co/"]


def test_past_the_byte_limit_urls_go_to_another_file() -> None:
    index = ContentIndex.from_directory(CLINIC)
    treatments = index.public.treatments
    one = sitemaps(SITE, treatments[:1]).root
    made = sitemaps(SITE, treatments, max_bytes=len(one) + 10)
    assert made.index is not None
    assert len(made.files) == len(treatments)
    for file in made.files:
        assert len(file) <= len(one) + 10 or len(locs(valid(file))) == 1
        valid(file)
    valid(made.index, "siteindex.xsd")


def test_the_feed_is_atom_newest_first(tmp_path: Path) -> None:
    pages = {
        "old.md": "---\ntitle: Old\ndate: 2020-01-01\ndescription: The first\n---\n",
        "new.md": "---\ntitle: New & improved\ndate: 2024-05-01\ncategory: Laser\n---\n",
        "edited.md": (
            "---\ntitle: Edited\ndate: 2019-01-01\nupdated: 2025-02-03T10:00:00+01:00\n---\n"
        ),
        "undated.md": "---\ntitle: Undated\n---\n",
        "draft.md": "---\ntitle: Draft\ndate: 2030-01-01\ndraft: true\n---\n",
    }
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings = Settings(content_dir=tmp_path, cache_dir=None, site_url=SITE, feed_entries=3)
    with make_client(settings) as client:
        response = client.get("/feed.xml")
    assert response.headers["content-type"] == "application/atom+xml"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.title == "clinic.example"
    assert [entry.title for entry in feed.entries] == ["Edited", "New & improved", "Old"]
    assert [entry.link for entry in feed.entries] == [
        SITE + "/edited/",
        SITE + "/new/",
        SITE + "/old/",
    ]
    assert feed.entries[0].updated == "2025-02-03T10:00:00+01:00"
    assert feed.entries[1].tags[0].term == "laser"
    assert feed.entries[2].summary == "The first"


def test_undated_pages_come_last_dated_when_loaded() -> None:
    index = ContentIndex.from_directory(CLINIC)
    loaded = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    feed = feedparser.parse(atom(SITE, "Clinic", index.public.treatments, loaded, 100))
    assert feed.bozo == 0
    assert len(feed.entries) == len(index.public.treatments)
    # peel.md's updated, then acupuncture.md's date; the rest when the content loaded.
    assert [entry.title for entry in feed.entries[:2]] == ["Chemical Peel", "Acupuncture"]
    assert feed.entries[0].updated == "2025-01-02T10:00:00Z"
    assert {entry.updated for entry in feed.entries[2:]} == {"2026-01-02T03:04:05Z"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"CONTENTAPI_SITE_URL": "clinic.example"},
            "CONTENTAPI_SITE_URL 'clinic.example' is not a site URL: write http:// or https://"
            " and a host, e.g. 'https://www.example.com'",
        ),
        (
            {"CONTENTAPI_LOCALES": "en,deutsch"},
            "CONTENTAPI_LOCALES holds 'deutsch', which is not a BCP 47 language tag (such as"
            " en, de or pt-BR)",
        ),
    ],
)
def test_a_bad_site_url_or_locale_is_refused(changes: dict[str, str], message: str) -> None:
    from contentapi.errors import SettingsError

    with pytest.raises(SettingsError) as raised:
        Settings.from_env(changes)
    assert str(raised.value) == message
    assert Settings.from_env({"CONTENTAPI_LOCALES": "EN, de_de ,fr"}).locale_tags == (
        "en",
        "de-DE",
        "fr",
    )
