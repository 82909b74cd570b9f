"""Decap CMS itself reads the bundled content model: its browser bundle (the decap-cms npm
package's dist/, tests/decap's lockfile) served from 127.0.0.1 with content/admin/config.yml
in headless Chromium, on Decap's test-repo backend holding content/'s own files.

Only the backend is swapped (git-gateway needs Netlify): the collections and fields are the
file's. Decap shows a configuration error instead of its UI when it refuses a config, so
its collections, their entries and an entry's editor with the seed's title show that the
model contentapi reads (tests/schema/test_generated.py) is one Decap accepts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_browser import LOCAL_HOST, Browser, browser

try:
    from selenium.webdriver.common.by import By
except ImportError:  # pragma: no cover - reported by the browser fixture
    pass

ROOT = Path(__file__).resolve().parent.parent.parent
CONTENT = ROOT / "content"
DIST = ROOT / "tests" / "decap" / "node_modules" / "decap-cms" / "dist"

pytestmark = pytest.mark.system
__all__ = ["browser"]


def repo_files(config: dict[str, Any]) -> dict[str, Any]:
    """content/'s pages as the test-repo backend holds a repository: a tree keyed by each
    collection's folder as the config writes it (its root folder "." included)."""
    tree: dict[str, Any] = {}
    for collection in config["collections"]:
        folder = collection["folder"]
        where = CONTENT / folder
        files = {
            path.name: {"content": path.read_text(encoding="utf-8")}
            for path in sorted(where.glob("*.md"))
        }
        tree[folder] = files
    return tree


def admin_page(config: dict[str, Any]) -> bytes:
    files = json.dumps(repo_files(config)).replace("</", "<\\/")
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Content Manager</title>'
        f"<script>window.repoFiles = {files};</script></head>"
        '<body><script src="/dist/decap-cms.js"></script></body></html>'
    ).encode()


@pytest.fixture
def decap() -> Iterator[str]:
    """An HTTP server on 127.0.0.1: /admin/ (Decap's page), /admin/config.yml (the bundled
    model on the test-repo backend) and /dist/ (the npm package's bundle and chunks)."""
    if not (DIST / "decap-cms.js").is_file():
        pytest.skip("tests/decap/node_modules is missing: run `make node-deps`")
    config = yaml.safe_load((CONTENT / "admin" / "config.yml").read_text(encoding="utf-8"))
    config["backend"] = {"name": "test-repo"}
    page = admin_page(config)
    config_text = yaml.safe_dump(config, sort_keys=False).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in ("/admin/", "/admin/index.html"):
                self.answer(page, "text/html; charset=utf-8")
            elif path == "/admin/config.yml":
                self.answer(config_text, "text/yaml; charset=utf-8")
            elif path.startswith("/dist/") and "/" not in path[len("/dist/") :]:
                found = DIST / path[len("/dist/") :]
                if found.is_file():
                    self.answer(found.read_bytes(), "application/javascript")
                else:
                    self.send_error(404)
            else:
                self.send_error(404)

        def answer(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def body_text(browser: Browser) -> str:
    return str(browser.driver.find_element(By.TAG_NAME, "body").text)


def test_decap_cms_accepts_the_bundled_content_model(browser: Browser, decap: str) -> None:
    browser.driver.get(decap + "/admin/")
    login = browser.until(
        lambda d: next(iter(d.find_elements(By.XPATH, "//button[contains(., 'Login')]")), None),
        "Decap never offered the test-repo login (a configuration error shows instead)",
    )
    login.click()
    browser.until(
        lambda d: "Collections" in d.find_element(By.TAG_NAME, "body").text,
        "Decap never showed its collections",
    )
    text = body_text(browser)
    assert "Error loading the CMS configuration" not in text
    assert "Config Errors" not in text
    links = [
        link.text
        for link in browser.find_all("a[href^='#/collections/']")
        if link.text in ("Treatments", "Practitioners")
    ]
    assert links[:2] == ["Treatments", "Practitioners"]

    browser.driver.get(decap + "/admin/#/collections/practitioners")
    browser.until(
        lambda d: "Dr Anna Berg" in d.find_element(By.TAG_NAME, "body").text,
        "Decap never listed the practitioners",
    )
    assert "James Okafor" in body_text(browser)

    browser.driver.get(decap + "/admin/#/collections/treatments")
    browser.until(
        lambda d: "Mesotherapy" in d.find_element(By.TAG_NAME, "body").text,
        "Decap never listed the seed treatment",
    )
    browser.screenshot("decap-treatments")

    # The seed's editor: every declared field, the title as the file has it.
    browser.driver.get(decap + "/admin/#/collections/treatments/entries/mesotherapy")
    title = browser.until(
        lambda d: next(
            (
                field
                for field in d.find_elements(By.CSS_SELECTOR, "input")
                if field.get_attribute("value") == "Mesotherapy"
            ),
            None,
        ),
        "Decap's editor never showed the seed's title",
    )
    assert title is not None
    text = body_text(browser)
    for label in ("Title", "Category", "Price", "Duration", "Sessions", "Practitioners", "Body"):
        assert label.upper() in text.upper(), label
    browser.screenshot("decap-editor")
    # Everything Decap loaded came from here (its chunks from /dist/), no script failed.
    browser.assert_stayed_local()
