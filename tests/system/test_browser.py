"""In a real browser: GraphiQL at /graphql and the example frontend at /examples/.

Headless Chromium driven by Selenium against the real server (tests/server.py).
The browser records every request it makes (the performance log) and each test
checks that none left 127.0.0.1: GraphiQL is vendored and the example page
fetches /graphql on its own origin. Outside hosts also fail to resolve
(--host-resolver-rules), so a stray request cannot reach the network either.
Screenshots go to the test's tmp_path; the assertions are on the DOM.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from expected import SEED_IMAGES, SEED_INDICATIONS
from server import running_server

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # pragma: no cover - reported by the browser fixture
    webdriver = None

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = ROOT / "content"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOCAL_HOST = "127.0.0.1"
WAIT = 20  # seconds an explicit wait may take before the test fails

SEED_INDICATION_NAMES = [name for name, _ in SEED_INDICATIONS]

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--window-size=1280,900",
    # Only the test server's address resolves; any other host name fails to.
    f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {LOCAL_HOST}",
]


def _require_browser() -> None:
    """Skip (or, under CI=true, fail) when Selenium, Chromium or chromedriver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if webdriver is None:
        missing.append("the selenium package")
    if not missing:
        return
    what = ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"browser tests need {what}, which is missing; CI=true, so they may not be skipped "
            "(install with `make test`: apt packages chromium and chromium-driver, "
            "pip extra [test])",
            pytrace=False,
        )
    pytest.skip(f"browser tests need {what}; run `make test`, which installs them")


class Browser:
    """A headless Chromium session that keeps every URL it requested."""

    def __init__(self, driver: WebDriver, artefacts: Path) -> None:
        self.driver = driver
        self.artefacts = artefacts
        self.requests: list[dict[str, Any]] = []
        self.console: list[dict[str, Any]] = []

    def wait(self, timeout: float = WAIT) -> WebDriverWait[WebDriver]:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1)

    def until(self, condition: Callable[[WebDriver], Any], message: str) -> Any:
        """Wait for condition to return something truthy (stale elements mean: try again)."""
        return self.wait(WAIT).until(condition, message)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def testid(self, name: str) -> str:
        return f'[data-testid="{name}"]'

    def screenshot(self, name: str) -> Path:
        path = self.artefacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def collect(self) -> None:
        """Move the browser's performance and console logs into self.requests/console."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                request = params["request"]
                self.requests.append(
                    {
                        "url": request["url"],
                        "method": request["method"],
                        "postData": request.get("postData", ""),
                    }
                )
            elif message.get("method") == "Network.webSocketCreated":
                self.requests.append({"url": params["url"], "method": "WS", "postData": ""})
        self.console.extend(self.driver.get_log("browser"))

    def graphql_posts(self) -> list[dict[str, Any]]:
        """The JSON bodies of the POSTs to /graphql so far."""
        self.collect()
        return [
            json.loads(request["postData"])
            for request in self.requests
            if request["method"] == "POST"
            and urlsplit(request["url"]).path == "/graphql"
            and request["postData"]
        ]

    def assert_stayed_local(self) -> None:
        """No request went anywhere but 127.0.0.1, and the page broke no CSP rule."""
        self.collect()
        assert self.requests, "the performance log recorded no requests at all"
        outside = []
        for request in self.requests:
            parts = urlsplit(request["url"])
            if parts.scheme in ("data", "blob", "about"):
                continue  # in-page resources (GraphiQL's fonts are data: URLs)
            if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname != LOCAL_HOST:
                outside.append(request["url"])
        assert outside == [], f"requests beyond {LOCAL_HOST}: {outside}"
        blocked = [
            entry["message"]
            for entry in self.console
            if "Content Security Policy" in entry["message"]
            or "Content-Security-Policy" in entry["message"]
        ]
        assert blocked == [], f"the page broke its Content-Security-Policy: {blocked}"
        script_errors = [
            entry["message"]
            for entry in self.console
            if entry.get("source") == "javascript" and entry.get("level") == "SEVERE"
        ]
        assert script_errors == [], f"script errors in the page: {script_errors}"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A fresh headless Chromium (own profile in tmp_path); screenshots in tmp_path too."""
    _require_browser()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    artefacts = tmp_path / "artefacts"
    artefacts.mkdir()
    service = Service(str(CHROMEDRIVER), log_output=str(artefacts / "chromedriver.log"))
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except WebDriverException as exc:
        pytest.fail(f"could not start headless Chromium: {exc.msg}", pytrace=False)
    driver.set_page_load_timeout(WAIT)
    driver.get("about:blank")
    driver.get_log("performance")  # drop the start-up tab's own (chrome://) loads
    try:
        yield Browser(driver, artefacts)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server on the bundled content/, with the example frontend at /examples/."""
    cache = tmp_path_factory.mktemp("cache")
    with running_server(SEED, "--examples", "--cache-dir", str(cache)) as url:
        yield url


def texts(elements: list[WebElement]) -> list[str]:
    return [element.text.strip() for element in elements]


def stable(condition: Callable[[WebDriver], Any]) -> Callable[[WebDriver], Any]:
    """A wait condition that treats a re-rendered (stale) element as 'not yet'."""

    def check(driver: WebDriver) -> Any:
        try:
            return condition(driver)
        except StaleElementReferenceException:
            return False

    return check


# ---- GraphiQL -----------------------------------------------------------------------------


def test_graphiql_loads_documents_schema_and_runs_the_default_query(
    browser: Browser, seed_server: str
) -> None:
    browser.driver.get(seed_server + "/graphql")
    browser.until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-container")),
        "GraphiQL did not render .graphiql-container",
    )
    browser.until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button")),
        "GraphiQL's run button did not appear",
    )
    browser.screenshot("graphiql-loaded")

    # The docs explorer, from the root: Query, then its `treatment` field's type.
    docs_button = 'button[aria-label="Show Documentation Explorer"]'
    if not browser.find_all(".graphiql-doc-explorer"):
        browser.until(
            EC.element_to_be_clickable((By.CSS_SELECTOR, docs_button)),
            "no button opens the docs explorer",
        ).click()
    explorer = ".graphiql-doc-explorer"
    type_link = explorer + " a.graphiql-doc-explorer-type-name"
    browser.until(
        stable(lambda d: "Query" in texts(d.find_elements(By.CSS_SELECTOR, type_link))),
        "the docs explorer shows no root type Query (is introspection working?)",
    )
    all_types = texts(browser.find_all(type_link))
    assert "Treatment" in all_types, f"Treatment is not among the schema types: {all_types}"

    def open_type(name: str) -> None:
        next(link for link in browser.find_all(type_link) if link.text == name).click()
        browser.until(
            stable(
                lambda d: (
                    d.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer-title").text == name
                )
            ),
            f"the docs explorer did not open the {name} type",
        )

    open_type("Query")
    query_fields = texts(browser.find_all(explorer + " .graphiql-doc-explorer-field-name"))
    for field in ("treatment", "treatments", "indications", "search"):
        assert field in query_fields, f"Query's docs do not list {field!r}: {query_fields}"
    open_type("Treatment")
    treatment_page = browser.find(".graphiql-doc-explorer-content").text
    for field in ("slug", "title", "html", "images", "indications"):
        assert field in treatment_page, f"Treatment's docs do not list {field!r}"
    browser.screenshot("graphiql-docs-treatment")

    # The default query is the seed query: run it.
    editor = browser.find(".graphiql-query-editor").text
    assert 'treatment(slug: "mesotherapy")' in editor, f"unexpected default query: {editor!r}"
    browser.find(".graphiql-execute-button").click()
    browser.until(
        stable(
            lambda d: "Mesotherapy" in d.find_element(By.CSS_SELECTOR, ".graphiql-response").text
        ),
        "running the default query did not show Mesotherapy in the result pane",
    )
    result = browser.find(".graphiql-response").text
    assert '"errors"' not in result
    assert SEED_IMAGES[0] in result
    browser.screenshot("graphiql-result")

    posts = browser.graphql_posts()
    assert any("mesotherapy" in body.get("query", "") for body in posts), posts
    browser.assert_stayed_local()


# ---- The example frontend -----------------------------------------------------------------


def open_examples(browser: Browser, base: str, route: str = "") -> None:
    browser.driver.get(base + "/examples/" + route)
    browser.until(
        EC.presence_of_element_located((By.CSS_SELECTOR, browser.testid("treatment-list"))),
        "the example page has no treatment list (is /examples/ served?)",
    )


def list_titles(browser: Browser) -> list[str]:
    items = browser.testid("treatment-item") + " " + browser.testid("treatment-item-title")
    return texts(browser.find_all(items))


def wait_for_list(browser: Browser, expected: list[str], status_part: str = "") -> None:
    """Wait until the list is loaded, shows exactly `expected` and its status says `status_part`."""
    status = browser.testid("status")
    listing = browser.testid("treatment-list")

    def shown(driver: WebDriver) -> bool:
        if driver.find_element(By.CSS_SELECTOR, listing).get_attribute("aria-busy") == "true":
            return False
        said = driver.find_element(By.CSS_SELECTOR, status).text
        return list_titles(browser) == expected and status_part in said

    try:
        browser.until(stable(shown), f"the list never showed {expected} ({status_part!r})")
    except Exception:
        browser.screenshot("list-timeout")
        raise


def test_example_lists_shows_and_filters_the_seed(browser: Browser, seed_server: str) -> None:
    open_examples(browser, seed_server)
    wait_for_list(browser, ["Mesotherapy"], "1 treatment")
    item_image = browser.find(browser.testid("treatment-item-image"))
    assert item_image.get_dom_attribute("src") == SEED_IMAGES[0]
    assert item_image.get_dom_attribute("width") == "400"
    assert item_image.get_dom_attribute("height") == "300"

    # The filter lists the 10 indications (by name) once loaded.
    select = browser.find(browser.testid("indication-filter"))
    browser.until(
        stable(lambda d: select.get_attribute("data-loaded") == "true"),
        "the indication filter was never filled",
    )
    options = Select(select).options
    assert options[0].get_attribute("value") == ""
    names = [option.text.rsplit(" (", 1)[0] for option in options[1:]]
    assert names == sorted(SEED_INDICATION_NAMES, key=str.lower), names
    browser.screenshot("examples-list")

    # The treatment view: title, html, every image, indications in page order.
    browser.find(browser.testid("treatment-item") + " a").click()
    browser.until(
        stable(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, browser.testid("treatment-title")).text
                == "Mesotherapy"
            )
        ),
        "the treatment view never showed the title",
    )
    assert browser.driver.current_url.endswith("/examples/#/treatment/mesotherapy")
    assert browser.driver.title.startswith("Mesotherapy")
    assert not browser.find(browser.testid("list-view")).is_displayed()
    images = browser.find_all(browser.testid("treatment-image"))
    assert [image.get_dom_attribute("src") for image in images] == SEED_IMAGES
    assert [image.get_attribute("src") for image in images] == [
        seed_server + path for path in SEED_IMAGES
    ]
    for image in images:
        assert image.get_dom_attribute("width") == "400"
        assert image.get_dom_attribute("height") == "300"
        assert image.get_dom_attribute("alt"), "an image lost its alt text"
    body = browser.find(browser.testid("treatment-body"))
    assert "Homeopathic mesotherapy" in body.text
    assert body.find_elements(By.CSS_SELECTOR, "h4#the-method"), "the html lost its headings"
    indication_links = browser.find_all(browser.testid("treatment-indication"))
    assert texts(indication_links) == SEED_INDICATION_NAMES
    # The practitioners content/admin/config.yml's model points at this treatment.
    browser.until(
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, browser.testid("treatment-practitioner"))) == 2
        ),
        "the treatment view never showed its practitioners",
    )
    assert texts(browser.find_all(browser.testid("treatment-practitioner"))) == [
        "Dr Anna Berg · doctor · speaks English, Swedish",
        "James Okafor · nurse · speaks English, French",
    ]
    browser.screenshot("examples-treatment")

    # An indication links to the list, filtered by it.
    next(link for link in indication_links if link.text == "Cellulite").click()
    wait_for_list(browser, ["Mesotherapy"], "for Cellulite")
    assert browser.driver.current_url.endswith("#/?indication=cellulite")
    assert (
        Select(
            browser.find(browser.testid("indication-filter"))
        ).first_selected_option.get_attribute("value")
        == "cellulite"
    )

    # Going back returns to the treatment; a slug that does not exist says so.
    browser.driver.back()
    browser.until(
        stable(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, browser.testid("treatment-title")).text
                == "Mesotherapy"
            )
        ),
        "back did not return to the treatment view",
    )
    browser.driver.get(seed_server + "/examples/#/treatment/no-such-page")
    browser.until(
        stable(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, browser.testid("treatment-title")).text
                == "Not found"
            )
        ),
        "an unknown slug did not show Not found",
    )
    browser.assert_stayed_local()


def test_example_search_as_you_type(browser: Browser, seed_server: str) -> None:
    open_examples(browser, seed_server)
    wait_for_list(browser, ["Mesotherapy"], "1 treatment")
    search = browser.find(browser.testid("search"))

    search.send_keys("xyzzy")
    wait_for_list(browser, [], "No treatments matching “xyzzy”")
    search.clear()
    search.send_keys("cellu")
    wait_for_list(browser, ["Mesotherapy"], "matching “cellu”")
    assert browser.driver.current_url.endswith("#/?q=cellu")
    marks = browser.find_all(browser.testid("treatment-item") + " mark")
    assert marks and marks[0].text.lower().startswith("cellu"), "the snippet marks no match"
    browser.screenshot("examples-search")

    searched = [
        body["variables"]["query"]
        for body in browser.graphql_posts()
        if "search(" in body.get("query", "")
    ]
    assert searched[-1] == "cellu", searched
    # Debounced: one request per pause, not one per keystroke.
    assert searched.count("cellu") == 1 and len(searched) < 2 * len("cellu"), searched
    browser.assert_stayed_local()


def test_example_inserts_page_data_as_text(
    browser: Browser, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Titles, indications and alt texts with markup in them show as text, not as HTML."""
    content = tmp_path / "content"
    content.mkdir()
    title = '<img src=x data-injected="title"> Peel & "Co"'
    (content / "peel.md").write_text(
        "---\n"
        f"title: '{title}'\n"
        "indications:\n"
        "  - '<b data-injected=\"indication\">Acne</b>'\n"
        "---\n\n"
        "A <em>gentle</em> peel.<script>window.injected = true</script>\n\n"
        '<img src="/img/peel.jpg" alt="<b data-injected=alt>x</b>" width="10" height="20">\n',
        encoding="utf-8",
    )
    cache = tmp_path_factory.mktemp("cache")
    with running_server(content, "--examples", "--cache-dir", str(cache)) as base:
        open_examples(browser, base)
        wait_for_list(browser, [title], "1 treatment")
        browser.find(browser.testid("treatment-item") + " a").click()
        heading = browser.testid("treatment-title")
        browser.until(
            stable(lambda d: d.find_element(By.CSS_SELECTOR, heading).text == title),
            "the title did not show as text",
        )
        assert texts(browser.find_all(browser.testid("treatment-indication"))) == [
            '<b data-injected="indication">Acne</b>'
        ]
        assert browser.find(browser.testid("treatment-body") + " em").text == "gentle"
        assert browser.find_all("[data-injected]") == []
        assert browser.find_all(browser.testid("treatment-body") + " script") == []
        assert browser.driver.execute_script("return window.injected === undefined")
        browser.screenshot("examples-escaped")
        browser.assert_stayed_local()


# ---- CORS: a page on another origin ---------------------------------------------------------

# A frontend on its own origin, as Apollo Client with client awareness and a Sentry or
# OpenTelemetry tracer would call the API: every header but Content-Type needs CORS's leave.
CROSS_ORIGIN_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>Another origin</title>
<pre id="result">pending</pre>
<script>
const api = new URLSearchParams(location.search).get("api");
fetch(api + "/graphql", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    "apollographql-client-name": "clinic-web",
    "apollographql-client-version": "1.4.2",
    "sentry-trace": "771a43a4192642f0b136d5159a501700-b3f4b7a8c5e3d2f1-1",
    "baggage": "sentry-environment=production,sentry-release=1.4.2",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  },
  body: JSON.stringify({ query: '{ treatment(slug: "mesotherapy") { title } }' }),
})
  .then((response) => response.json())
  .then((body) => { show("answer " + JSON.stringify(body)); })
  .catch((error) => { show("blocked " + error); });
function show(text) { document.getElementById("result").textContent = text; }
</script>
"""


@contextmanager
def page_server(folder: Path) -> Iterator[str]:
    """A plain static server for `folder` on a free port of 127.0.0.1: its own origin."""

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOCAL_HOST, 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cross_origin_result(browser: Browser, page: str, api: str) -> str:
    """What the page at `page` got from the API at `api`: 'answer ...' or 'blocked ...'."""
    browser.driver.get(f"{page}/index.html?api={api}")
    result = browser.until(
        stable(lambda d: d.find_element(By.ID, "result").text.removeprefix("pending")),
        "the cross-origin page's fetch neither answered nor failed",
    )
    return str(result)


def test_a_page_on_another_origin_calls_the_api_with_apollo_and_tracing_headers(
    browser: Browser, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (tmp_path / "index.html").write_text(CROSS_ORIGIN_PAGE, encoding="utf-8")
    cache = str(tmp_path_factory.mktemp("cache"))
    with page_server(tmp_path) as allowed, page_server(tmp_path) as other:
        # Written with a trailing slash, as origins often are: it is the origin all the same.
        env = {"CONTENTAPI_CORS_ORIGINS": f"{allowed}/"}
        with running_server(SEED, "--cache-dir", cache, env=env) as api:
            assert cross_origin_result(browser, allowed, api) == (
                'answer {"data":{"treatment":{"title":"Mesotherapy"}}}'
            )
            # Chromium's POST, Origin and all, was answered by the protocol itself (the wire
            # replay, with the CORS headers Starlette's middleware makes), not by the app.
            with urlopen(f"{api}/readyz", timeout=10) as ready:
                assert json.load(ready)["wireReplays"] == 1
            # Another origin (another port) is not on the list: the browser withholds the answer.
            assert cross_origin_result(browser, other, api) == "blocked TypeError: Failed to fetch"
        # The same page where only Content-Type may be sent: its preflight is refused.
        narrow = {**env, "CONTENTAPI_CORS_ALLOW_HEADERS": "Content-Type"}
        with running_server(SEED, "--cache-dir", cache, env=narrow) as api:
            assert (
                cross_origin_result(browser, allowed, api) == "blocked TypeError: Failed to fetch"
            )
    browser.collect()
    blocked = [entry["message"] for entry in browser.console if "CORS policy" in entry["message"]]
    assert len(blocked) == 2, blocked
    assert "No 'Access-Control-Allow-Origin' header" in blocked[0]
    # Starlette refuses the preflight with a 400 naming the headers; Chromium says so.
    assert "Response to preflight request doesn't pass access control check" in blocked[1]


# ---- Pictures ----------------------------------------------------------------------------

# Installed before the page's own scripts: how each picture looked as it was inserted,
# before it had loaded (its srcset, sizes, classes and placeholder background).
RECORD_INSERTED_IMAGES = """
window.__inserted = [];
new MutationObserver(function (mutations) {
  mutations.forEach(function (mutation) {
    mutation.addedNodes.forEach(function (node) {
      if (!node.querySelectorAll) return;
      var found = node.tagName === 'IMG' ? [node] : [];
      node.querySelectorAll('img').forEach(function (img) { found.push(img); });
      found.forEach(function (img) {
        window.__inserted.push({
          testid: img.getAttribute('data-testid'),
          srcset: img.getAttribute('srcset'),
          sizes: img.getAttribute('sizes'),
          className: img.className,
          background: img.style.backgroundImage
        });
      });
    });
  });
}).observe(document, { childList: true, subtree: true });
"""

# Every <img> in the page: whether it is done, its size as decoded, what it loaded.
IMAGES_STATE = """
return Array.from(document.querySelectorAll('img')).map(function (img) {
  return {
    testid: img.getAttribute('data-testid'),
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight,
    currentSrc: img.currentSrc,
    broken: img.classList.contains('is-broken'),
    placeholder: img.classList.contains('has-placeholder'),
    background: img.style.backgroundImage
  };
});
"""


def loaded_images(browser: Browser, testid: str, count: int) -> list[dict[str, Any]]:
    """The `count` pictures with this test id once every one is done loading (or failed)."""

    def done(driver: WebDriver) -> list[dict[str, Any]] | None:
        state = [i for i in driver.execute_script(IMAGES_STATE) if i["testid"] == testid]
        if len(state) == count and all(image["complete"] for image in state):
            return state
        return None

    found: list[dict[str, Any]] = browser.until(done, f"the {testid} pictures never loaded")
    return found


def assert_no_broken_image(images: list[dict[str, Any]]) -> None:
    """What fails on a broken picture: a browser that could not decode one has
    naturalWidth 0, and the page marks it is-broken."""
    broken = [image["currentSrc"] for image in images if image["naturalWidth"] == 0]
    assert broken == [], f"broken pictures: {broken}"
    assert not any(image["broken"] for image in images)


def test_example_pictures_load_as_webp_copies_after_their_placeholders(
    browser: Browser, seed_server: str
) -> None:
    browser.driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_INSERTED_IMAGES}
    )
    open_examples(browser, seed_server)
    wait_for_list(browser, ["Mesotherapy"], "1 treatment")
    (card,) = loaded_images(browser, "treatment-item-image", 1)
    assert_no_broken_image([card])
    # A 24rem card (384 px, one device pixel per CSS pixel) picks the 400 px copy, as WebP
    # (naturalWidth is its width at the density srcset gives it: 400 px over 384).
    assert (card["naturalWidth"], card["naturalHeight"]) == (384, 288)
    path = urlsplit(card["currentSrc"])
    assert (path.path, path.query.split("&")[:2]) == (SEED_IMAGES[0], ["w=400", "fm=webp"])
    assert (card["placeholder"], card["background"]) == (False, "")
    browser.screenshot("examples-pictures-list")

    browser.find(browser.testid("treatment-item") + " a").click()
    carousel = loaded_images(browser, "treatment-image", 2)
    assert_no_broken_image(carousel)
    assert [urlsplit(image["currentSrc"]).path for image in carousel] == SEED_IMAGES
    for image in carousel:
        assert (image["naturalWidth"], image["naturalHeight"]) == (400, 300)
        assert "fm=webp" in image["currentSrc"]
    browser.screenshot("examples-pictures-carousel")

    # As inserted, before loading, each picture showed its blurred preview.
    inserted = browser.driver.execute_script("return window.__inserted;")
    shown = [
        image
        for image in inserted
        if image["testid"] in ("treatment-item-image", "treatment-image")
    ]
    assert [image["testid"] for image in shown] == [
        "treatment-item-image",
        "treatment-image",
        "treatment-image",
    ]
    for image in shown:
        assert image["className"] == "has-placeholder"
        assert image["background"].startswith('url("data:image/webp;base64,')
        candidates = [part.rsplit(" ", 1)[1] for part in image["srcset"].split(", ")]
        assert candidates == (
            ["240w", "400w"] if image["testid"] == "treatment-item-image" else ["320w", "400w"]
        )
    assert shown[0]["sizes"] == "(min-width: 40rem) 24rem, 100vw"
    assert shown[1]["sizes"] == "(max-width: 500px) 80vw, 400px"
    browser.assert_stayed_local()


def test_a_broken_picture_is_caught(browser: Browser, tmp_path: Path) -> None:
    """The check above can fail: a picture whose file is not an image decodes to nothing."""
    content = tmp_path / "content"
    (content / "img").mkdir(parents=True)
    (content / "img" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    (content / "page.md").write_text(
        "---\ntitle: Broken\n---\n![A broken picture](/img/broken.jpg)\n", encoding="utf-8"
    )
    with running_server(content, "--examples", "--cache-dir", str(tmp_path / "cache")) as base:
        open_examples(browser, base)
        wait_for_list(browser, ["Broken"], "1 treatment")
        (card,) = loaded_images(browser, "treatment-item-image", 1)
        browser.screenshot("examples-broken-picture")
        assert card["naturalWidth"] == 0
        assert card["broken"] is True
        with pytest.raises(AssertionError, match="broken pictures"):
            assert_no_broken_image([card])


# ---- The native-style view ----------------------------------------------------------------


def test_example_native_view_draws_the_seed_from_ast_alone(
    browser: Browser, seed_server: str
) -> None:
    """native.js: the treatment view a mobile app would draw, from Treatment.ast and
    images only (no html asked for, none inserted)."""
    open_examples(browser, seed_server, "#/treatment/mesotherapy")
    link = browser.find(browser.testid("native-link"))
    browser.until(
        stable(lambda d: (link.get_dom_attribute("href") or "") == "#/native/mesotherapy"),
        "the treatment view does not link to its native-style view",
    )
    link.click()
    view = browser.testid("native-view")
    browser.until(
        stable(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, view).get_attribute("data-slug") == "mesotherapy"
            )
        ),
        "the native-style view never showed the seed",
    )
    assert browser.find(browser.testid("native-title")).text == "Mesotherapy"
    assert not browser.find(browser.testid("list-view")).is_displayed()
    assert not browser.find(browser.testid("treatment-view")).is_displayed()

    body = browser.find(browser.testid("native-body"))
    headings = body.find_elements(By.CSS_SELECTOR, browser.testid("native-heading"))
    assert [
        (h.text, h.get_dom_attribute("aria-level"), h.get_dom_attribute("data-native-id"))
        for h in headings
    ] == [
        ("The Method", "4", "the-method"),
        ("Mesotherapy also can help with:", "5", "mesotherapy-also-can-help-with"),
    ]
    items = body.find_elements(By.CSS_SELECTOR, browser.testid("native-list-item"))
    assert [
        (
            item.find_element(By.CSS_SELECTOR, ".native-marker").text,
            item.find_element(By.CSS_SELECTOR, ".native-paragraph").text,
        )
        for item in items
    ] == [("•", name) for name in SEED_INDICATION_NAMES]
    assert "“MESO” in Greek means “Middle”" in body.text
    # Drawn from the tree, not from html: no HTML heading or list element in it.
    assert body.find_elements(By.CSS_SELECTOR, "h4, h5, ul, li") == []

    # The carousel's pictures (images no node of the tree shows), loaded.
    browser.until(
        stable(
            lambda d: d.execute_script(
                "return [...document.querySelectorAll(arguments[0])]"
                ".every((img) => img.complete && img.naturalWidth > 0)",
                browser.testid("native-image"),
            )
        ),
        "the native view's pictures did not load",
    )
    images = browser.find_all(browser.testid("native-images") + " img")
    assert [urlsplit(image.get_attribute("src") or "").path for image in images] == SEED_IMAGES
    assert [image.get_dom_attribute("width") for image in images] == ["400", "400"]
    assert all(image.get_dom_attribute("data-image-id") for image in images)
    browser.screenshot("examples-native")

    natives = [
        body["query"]
        for body in browser.graphql_posts()
        if "ExampleNativeTreatment" in body.get("query", "")
    ]
    assert len(natives) == 1
    assert " ast" in natives[0]
    assert " html" not in natives[0]
    html_view = browser.find(browser.testid("native-html-link"))
    assert html_view.get_dom_attribute("href") == "#/treatment/mesotherapy"
    browser.assert_stayed_local()


def test_example_native_view_follows_a_link_to_another_page(
    browser: Browser, tmp_path: Path
) -> None:
    """A link node with data.uri opens that page's native-style view; its images are the
    tree's image nodes, drawn with their Image's fields."""
    content = ROOT / "tests" / "fixtures" / "links"
    with running_server(content, "--examples", "--cache-dir", str(tmp_path / "cache")) as base:
        open_examples(browser, base, "#/native/a")
        view = browser.testid("native-view")

        def showing(slug: str) -> Callable[[WebDriver], Any]:
            return stable(
                lambda d: d.find_element(By.CSS_SELECTOR, view).get_attribute("data-slug") == slug
            )

        browser.until(showing("a"), "the native-style view never showed Alpha")
        body = browser.find(browser.testid("native-body"))
        links = {link.text: link for link in body.find_elements(By.CSS_SELECTOR, "a")}
        assert links["Beta"].get_dom_attribute("href") == "#/native?uri=%2Fb%2F"
        assert links["another site"].get_dom_attribute("href") == "https://example.com/b/"
        # The draft is not public: its link leads nowhere.
        assert links["the draft"].get_dom_attribute("href") is None
        pictures = body.find_elements(By.CSS_SELECTOR, browser.testid("native-image"))
        assert [(p.get_dom_attribute("alt"), p.get_dom_attribute("width")) for p in pictures] == [
            ("Pic", None),
            ("again", "40"),
        ]
        assert all(p.get_dom_attribute("data-image-id") for p in pictures)
        assert browser.find(browser.testid("native-images")).is_displayed() is False
        links["Beta"].click()
        browser.until(showing("b"), "following the link did not open Beta")
        assert browser.find(browser.testid("native-title")).text == "Beta"
        browser.assert_stayed_local()
