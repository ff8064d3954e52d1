"""GraphiQL in a real browser (headless Chromium) against a real uvicorn: it renders from this
server alone under the page's Content-Security-Policy.

Needs Debian's Chromium (`apt-get install chromium`, as root). Without it these tests are
skipped, unless BROWSER_TESTS=required (set by .ci/run after installing it), which makes a
missing browser a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from graphql_api.db.embedded import free_port
from tests.server.browser import Chromium, Page, chromium_binary
from tests.server.conftest import Seeded, ServerProcess, process_env, uvicorn_command

pytestmark = pytest.mark.server

EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror')"
# Collects what the page's policy refused, from before the page's first script runs.
VIOLATIONS = (
    "window.violations = []; document.addEventListener('securitypolicyviolation', (e) =>"
    " window.violations.push(`${e.effectiveDirective} ${e.blockedURI}`));"
)


@pytest.fixture(scope="module")
def browser_binary() -> str:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("BROWSER_TESTS") == "required":
            pytest.fail("BROWSER_TESTS=required but no Chromium: apt-get install chromium")
        pytest.skip("no Chromium (apt-get install chromium); see the README's Tests section")
    return binary


@pytest.fixture(scope="module")
def server(server_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    log = tmp_path_factory.mktemp("ide") / "uvicorn.log"
    process = ServerProcess(uvicorn_command(port), process_env(DATABASE_URL=server_db.url), port, log)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def open_page(binary: str, server: ServerProcess, *, before: str = "") -> Iterator[Page]:
    """GraphiQL loaded in a fresh browser; `before` runs ahead of the page's own scripts."""
    browser = Chromium(binary)
    try:
        with browser.page() as tab:
            for domain in ("Page", "Runtime", "Log", "Network"):
                tab.send(f"{domain}.enable")
            tab.send("Page.addScriptToEvaluateOnNewDocument", source=VIOLATIONS + before)
            tab.send("Page.navigate", url=server.graphql_url)
            tab.wait_for(f"!!{EDITOR}", timeout=60)
            yield tab
    finally:
        browser.close()


@pytest.fixture
def page(browser_binary: str, server: ServerProcess) -> Iterator[Page]:
    with open_page(browser_binary, server) as tab:
        yield tab


def test_graphiql_renders_from_this_server_alone(page: Page, server: ServerProcess) -> None:
    # The docs explorer has loaded the schema; a protected field says who may call it.
    page.evaluate("document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click()")
    link = "(name) => [...document.querySelectorAll('.graphiql-doc-explorer a')].find((a) => a.textContent === name)"
    page.wait_for(f"!!({link})('Query')")
    page.evaluate(f"({link})('Query').click()")
    page.wait_for(f"!!({link})('me')")
    page.evaluate(f"({link})('me').click()")
    text = "document.querySelector('.graphiql-doc-explorer').innerText"
    docs = page.wait_for(f"{text}.includes('Requires:') && {text}")
    assert "The signed-in user.\n\nRequires: signed in." in docs

    assert page.evaluate("window.violations") == []
    assert page.named("Runtime.exceptionThrown") == []
    assert [e["args"] for e in page.named("Runtime.consoleAPICalled") if e["type"] == "error"] == []
    assert page.named("Network.loadingFailed") == []
    urls = [event["request"]["url"] for event in page.named("Network.requestWillBeSent")]
    assert any(url.endswith("/graphiql.min.js") for url in urls)
    elsewhere = [url for url in urls if not url.startswith(server.base_url + "/") and not url.startswith("data:")]
    assert elsewhere == []
    statuses = {e["response"]["url"]: e["response"]["status"] for e in page.named("Network.responseReceived")}
    assert {url: status for url, status in statuses.items() if status >= 400} == {}


def test_dialogs_scroll_lock_style_is_the_only_thing_refused(page: Page) -> None:
    # GraphiQL's dialogs (react-remove-scroll) insert a <style> that locks the body's scrolling;
    # 'style-src self' refuses it, which changes nothing because this page never scrolls.
    page.evaluate("document.querySelector('[aria-label=\"Open settings dialog\"]').click()")
    page.wait_for("!!document.querySelector('[role=dialog]')")
    assert page.evaluate("window.violations") == ["style-src-elem inline"]
    assert page.named("Runtime.exceptionThrown") == []
