"""GraphiQL in a real browser (headless Chromium) against a real uvicorn: it renders from this
server alone under the page's Content-Security-Policy, signs in through its own form without
the password or token reaching GraphiQL, the URL or storage, and sends the token on every
request, over HTTP and in the WebSocket's connection_init.

Needs Debian's Chromium (`apt-get install chromium`, as root). Without it these tests are
skipped, unless BROWSER_TESTS=required (set by .ci/run after installing it), which makes a
missing browser a failure.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphql_api.db import models
from graphql_api.db.embedded import free_port
from tests.conftest import PASSWORD, Actor, gid, without_cost
from tests.server.browser import Chromium, Page, chromium_binary
from tests.server.conftest import Seeded, ServerProcess, process_env, uvicorn_command

pytestmark = pytest.mark.server

EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror')"
RESULT = "(document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() ?? '')"
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


@pytest.fixture(scope="module")
async def user(server_db: Seeded) -> Actor:
    # Its own account: one test signs it out everywhere, which must not touch other tests' users.
    email = f"ide.{uuid.uuid4().hex[:8]}@test.local"
    return await server_db.factory.user(models.Role.INSTRUCTOR, server_db.environment, email=email, password=PASSWORD)


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


def create_item(server: ServerProcess, seeded: Seeded) -> None:
    """A new item in the test's room, made by its supervisor over HTTP (its INITIAL movement
    is a stock event of the room)."""
    login = "mutation($i: LoginInput!) { login(input: $i) { ... on AuthPayload { accessToken } } }"
    credentials = {"email": seeded.supervisor.user.email, "password": PASSWORD}
    token = httpx.post(server.graphql_url, json={"query": login, "variables": {"i": credentials}}).json()
    create = "mutation($i: CreateItemInput!) { createItem(input: $i) { __typename } }"
    values = {
        "environmentId": gid("Environment", seeded.environment.id),
        "name": "Browser test item",
        "internalCode": f"IDE-{uuid.uuid4().hex[:8]}",
        "category": "OTHER",
    }
    answer = httpx.post(
        server.graphql_url,
        json={"query": create, "variables": {"i": values}},
        headers={"authorization": f"Bearer {token['data']['login']['accessToken']}"},
    ).json()
    assert answer["data"]["createItem"]["__typename"] == "ItemPayload", answer


def run(page: Page, query: str | None = None) -> None:
    if query is not None:
        page.evaluate(f"{EDITOR}.CodeMirror.setValue({json.dumps(query)})")
        # GraphiQL takes the operation name from the editor a moment later; run before that
        # and it sends the previous one.
        name = json.dumps(query.split()[1])
        page.wait_for(f"localStorage.getItem('graphiql:operationName') === {name}")
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")


def requests(page: Page) -> list[dict[str, Any]]:
    return [event["request"] for event in page.named("Network.requestWillBeSent")]


def sign_in(page: Page, email: str, password: str) -> str:
    page.evaluate(
        f"document.getElementById('sign-in-email').value = {json.dumps(email)};"
        f"document.getElementById('sign-in-password').value = {json.dumps(password)};"
        "document.getElementById('sign-in').requestSubmit()"
    )
    shown = "!document.getElementById('signed-in').hidden && document.getElementById('signed-in-who').textContent"
    who: str = page.wait_for(shown)
    return who


def session(page: Page) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(page.evaluate("sessionStorage.getItem('graphql-api.ide.session') || '{}'"))
    return stored


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
    urls = [request["url"] for request in requests(page)]
    assert any(url.endswith("/graphiql.min.js") for url in urls)
    elsewhere = [url for url in urls if not url.startswith(server.base_url + "/") and not url.startswith("data:")]
    assert elsewhere == []
    statuses = {e["response"]["url"]: e["response"]["status"] for e in page.named("Network.responseReceived")}
    assert {url: status for url, status in statuses.items() if status >= 400} == {}


def test_sign_in_query_refresh_subscription_and_sign_out(
    page: Page, server: ServerProcess, user: Actor, server_db: Seeded
) -> None:
    email = user.user.email
    assert sign_in(page, email, PASSWORD) == f"{email} (INSTRUCTOR)"
    assert page.evaluate("document.getElementById('sign-in-password').value") == ""
    first = session(page)

    run(page)  # the welcome query: { me { email role } }
    assert without_cost(json.loads(page.wait_for(f"{RESULT}.includes('email') && {RESULT}"))) == {
        "data": {"me": {"email": email, "role": "INSTRUCTOR"}}
    }
    me = [r for r in requests(page) if r["method"] == "POST" and "query Me" in r.get("postData", "")]
    assert me[-1]["headers"]["authorization"] == f"Bearer {first['accessToken']}"

    # An expired access token is exchanged (once) before GraphiQL's next request.
    page.evaluate(
        "const s = JSON.parse(sessionStorage.getItem('graphql-api.ide.session')); s.expiresAt = 0;"
        "sessionStorage.setItem('graphql-api.ide.session', JSON.stringify(s))"
    )
    run(page, "query Again { me { email } }")
    shown = page.wait_for(f"{RESULT}.includes('email') && !{RESULT}.includes('role') && {RESULT}")
    assert without_cost(json.loads(shown)) == {"data": {"me": {"email": email}}}
    second = session(page)
    assert second["accessToken"] != first["accessToken"]
    assert sum("mutation Refresh" in r.get("postData", "") for r in requests(page)) == 1

    # A subscription over graphql-ws: the socket opens (CSP connect-src), is accepted with the
    # token, speaks text frames, and GraphiQL shows the event a stock movement publishes.
    environment = gid("Environment", server_db.environment.id)
    run(page, f'subscription Stock {{ itemStockChanged(environmentId: "{environment}") {{ movement {{ reason }} }} }}')
    time.sleep(1)  # the subscribe message reaches the server before the change below
    create_item(server, server_db)
    assert "INITIAL" in page.wait_for(f"{RESULT}.includes('itemStockChanged') && {RESULT}")
    sent = [json.loads(f["response"]["payloadData"]) for f in page.named("Network.webSocketFrameSent")]
    assert sent[0] == {"type": "connection_init", "payload": {"authorization": f"Bearer {second['accessToken']}"}}
    received = page.named("Network.webSocketFrameReceived")
    assert [f["response"]["opcode"] for f in received][:2] == [1, 1]  # text frames
    assert json.loads(received[0]["response"]["payloadData"])["type"] == "connection_ack"

    # Neither the password nor a token is in the URL, GraphiQL's storage or its history.
    assert page.evaluate("location.href") == server.graphql_url
    local = page.evaluate("JSON.stringify(localStorage)")
    assert "graphiql:queries" in local  # the history exists, and holds none of them
    for secret in (PASSWORD, first["accessToken"], second["accessToken"], second["refreshToken"]):
        assert secret not in local
        assert secret not in page.evaluate("location.href")
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    assert all(PASSWORD not in r["url"] and encoded not in r["url"] for r in requests(page))

    page.evaluate("document.getElementById('sign-out').click()")
    page.wait_for("!document.getElementById('sign-in').hidden")
    assert session(page) == {}
    # Signing out ended the session on the server: its refresh token no longer works.
    query = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { __typename } }"
    body = httpx.post(server.graphql_url, json={"query": query, "variables": {"t": second["refreshToken"]}}).json()
    assert without_cost(body) == {"data": {"refreshToken": {"__typename": "InvalidCredentialsError"}}}


def test_wrong_password_is_reported_and_nothing_is_kept(page: Page, user: Actor) -> None:
    page.evaluate(
        f"document.getElementById('sign-in-email').value = {json.dumps(user.user.email)};"
        "document.getElementById('sign-in-password').value = 'not-the-password';"
        "document.getElementById('sign-in').requestSubmit()"
    )
    assert page.wait_for("document.getElementById('session-message').textContent")
    assert page.evaluate("document.getElementById('signed-in').hidden") is True
    assert session(page) == {}


def test_dialogs_scroll_lock_style_is_the_only_thing_refused(page: Page) -> None:
    # GraphiQL's dialogs (react-remove-scroll) insert a <style> that locks the body's scrolling;
    # 'style-src self' refuses it, which changes nothing because this page never scrolls.
    page.evaluate("document.querySelector('[aria-label=\"Open settings dialog\"]').click()")
    page.wait_for("!!document.querySelector('[role=dialog]')")
    assert page.evaluate("window.violations") == ["style-src-elem inline"]
    assert page.named("Runtime.exceptionThrown") == []


def test_a_browser_clock_an_hour_ahead_does_not_refresh_every_request(
    browser_binary: str, server: ServerProcess, user: Actor
) -> None:
    # Expiry is kept on this browser's clock (from the server's Date header), not the server's.
    ahead = "const realNow = Date.now; Date.now = () => realNow() + 3600 * 1000;"
    with open_page(browser_binary, server, before=ahead) as page:
        sign_in(page, user.user.email, PASSWORD)
        run(page)
        assert "email" in page.wait_for(f"{RESULT}.includes('data') && {RESULT}")
        assert not any("mutation Refresh" in r.get("postData", "") for r in requests(page))


def test_a_session_ended_on_the_server_signs_the_page_out(page: Page, server: ServerProcess, user: Actor) -> None:
    sign_in(page, user.user.email, PASSWORD)
    token = session(page)["accessToken"]
    everywhere = "mutation { logout(input: {everywhere: true}) { ok } }"
    answer = httpx.post(server.graphql_url, json={"query": everywhere}, headers={"authorization": f"Bearer {token}"})
    assert without_cost(answer.json()) == {"data": {"logout": {"ok": True}}}
    run(page)
    assert "UNAUTHENTICATED" in page.wait_for(f"{RESULT}.includes('errors') && {RESULT}")
    assert page.wait_for("!document.getElementById('sign-in').hidden")
    assert "sign in again" in page.evaluate("document.getElementById('session-message').textContent")
    assert session(page) == {}
