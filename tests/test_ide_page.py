"""GraphiQL works without internet: the page and every file it loads come from this server,
match the lock's integrity, and the page forbids anything from another origin.

What a browser makes of it (rendering, the requests it really sends, CSP reports) is checked
in tests/server/test_ide_browser.py, when Chromium is installed.
"""

from __future__ import annotations

import gzip
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from graphql_api.api.core.ide import fetch, page
from tests.security import production_client

HTML = {"accept": "text/html"}
OWN_ORIGIN_SOURCES = {"'self'", "'none'", "data:", "ws://testserver", "wss://testserver"}
# Every host named in the vendor JavaScript: comments, error texts, XML namespaces, the
# explorer's "by OneGraph" link. None is fetched (the browser test sees every request); a new
# host after an upgrade fails here so that someone looks at what it is for.
KNOWN_HOSTS = {
    "a",
    "bugs.chromium.org",
    "codemirror.net",
    "commonmark.org",
    "daringfireball.net",
    "datatracker.ietf.org",
    "developer.mozilla.org",
    "en.wikipedia.org",
    "esbench.com",
    "example.org",
    "expressjs.com",
    "floating-ui.com",
    "foo",
    "foo.com",
    "gist.github.com",
    "github.com",
    "github.github.com",
    "graphiql-test.netlify.app",
    "highlightjs.org",
    "host",
    "html.spec.whatwg.org",
    "json-schema.org",
    "marijnhaverbeke.nl",
    "mathiasbynens.be",
    "microsoft.github.io",
    "radix-ui.com",
    "reactjs.org",
    "serverfault.com",
    "spec.commonmark.org",
    "spec.graphql.org",
    "test1",
    "tools.ietf.org",
    "trac.webkit.org",
    "unicode.org",
    "webpack.js.org",
    "www.framer.com",
    "www.nayuki.io",
    "www.w3.org",
    "yarnpkg.com",
    "www.onegraph.com",
}
# Also protocol-relative addresses ("//unpkg.com/..."), which the host scan does not see.
CDN = re.compile(r"//[a-z0-9.-]*(unpkg|jsdelivr|cdnjs|esm\.sh|googleapis|gstatic|skypack|jspm)", re.IGNORECASE)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str | None]] = []  # (tag, url, integrity)
        self.inline: list[str] = []  # inline scripts, <style> elements, style="" attributes
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values or tag == "style":
            self.inline.append(f"<{tag} style>")
        if any(name.startswith("on") for name in values):
            self.inline.append(f"<{tag} on…=>")
        url = values.get("src") or values.get("href")
        if url is not None:
            self.refs.append((tag, url, values.get("integrity")))
        self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.inline.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in = None


@pytest.fixture
async def ide_page(client: httpx.AsyncClient) -> tuple[httpx.Response, Tags]:
    response = await client.get("/graphql", headers=HTML)
    tags = Tags()
    tags.feed(response.text)
    return response, tags


def directives(policy: str) -> dict[str, list[str]]:
    parsed = [part.split() for part in policy.split(";") if part.strip()]
    return {name: sources for name, *sources in parsed}


async def test_the_page_forbids_every_other_origin(ide_page: tuple[httpx.Response, Tags]) -> None:
    response, _ = ide_page
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    # graphql-ws connects to this host; listed because not every browser counts ws: as 'self'.
    assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
    assert policy["form-action"] == ["'none'"]  # the sign-in form can never be submitted to a URL
    assert policy["frame-ancestors"] == ["'none'"]
    for name, sources in policy.items():
        assert set(sources) <= OWN_ORIGIN_SOURCES, (name, sources)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_bad_host_header_does_not_reach_the_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={**HTML, "host": "evil; script-src *"})
    policy = directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]


async def test_the_page_has_no_inline_code_and_names_no_other_origin(ide_page: tuple[httpx.Response, Tags]) -> None:
    response, tags = ide_page
    assert tags.inline == []
    assert not re.search(r"https?:|//[a-z]", response.text.replace("<!doctype html>", ""), re.IGNORECASE)
    assert tags.refs, "the page loads nothing?"
    for _, url, _ in tags.refs:
        assert url.startswith(page.PREFIX), url


async def test_every_file_is_served_and_matches_the_lock(
    client: httpx.AsyncClient, ide_page: tuple[httpx.Response, Tags]
) -> None:
    _, tags = ide_page
    locked = {
        f"{page.PREFIX}{p['name']}@{p['version']}/{f['path']}": f["integrity"]
        for p in fetch.load_lock()
        for f in p["files"]
        if f.get("load")
    }
    referenced = {url: integrity for _, url, integrity in tags.refs}
    served = page.load_bundle().assets
    assert set(locked) <= set(referenced), "every locked file the page needs is on the page"
    for url, integrity in referenced.items():
        response = await client.get(url, headers={"accept-encoding": "identity"})
        assert response.status_code == 200, url
        assert "content-encoding" not in response.headers
        # The icon has no integrity attribute (<link rel=icon> takes none): the server's own value.
        integrity = integrity or served[url].integrity
        assert fetch.sri(response.content) == integrity, url  # what the browser's SRI check sees
        assert locked.get(url, integrity) == integrity, url
        expected_type = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}[Path(url).suffix]
        assert response.headers["content-type"].partition(";")[0] == expected_type
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_files_are_gzipped_for_clients_that_accept_it(client: httpx.AsyncClient) -> None:
    (graphiql,) = [url for url in page.load_bundle().assets if url.endswith("/graphiql.min.js")]
    raw = await client.get(graphiql, headers={"accept-encoding": "identity"})
    # httpx decodes gzip itself: compare what arrived on the wire.
    async with client.stream("GET", graphiql, headers={"accept-encoding": "gzip"}) as response:
        wire = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "accept-encoding"
    assert len(wire) < len(raw.content) / 3
    assert gzip.decompress(wire) == raw.content


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/ide/graphiql@3.8.3/LICENSE",  # shipped in vendor/ but not part of the page
        "/graphql/ide/graphiql@3.8.3/../../lock.json",
        "/graphql/ide/%2e%2e/fetch.py",
        "/graphql/ide/app/0000000000000000/ide.js",
        "/graphql/ide/",
    ],
)
async def test_only_the_pages_files_are_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_production_serves_no_ide_file(database_url: str) -> None:
    url = next(iter(page.load_bundle().assets))
    async with production_client(database_url) as prod:
        assert (await prod.get(url)).status_code == 404


def test_own_files_name_no_other_origin() -> None:
    for path in page.STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".svg":
            text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), path.name


def vendor_files() -> list[Path]:
    return [fetch.file_path(p, f["path"]) for p in fetch.load_lock() for f in p["files"] if f.get("load") is not None]


@pytest.mark.parametrize("path", vendor_files(), ids=lambda p: str(p.relative_to(fetch.VENDOR)))
def test_vendor_files_load_nothing_from_elsewhere(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".css":
        assert "@import" not in text
        urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", text)
        assert all(url.startswith("data:") for url in urls), {u[:40] for u in urls if not u.startswith("data:")}
    else:
        hosts = set(re.findall(r"https?://([A-Za-z0-9.-]+)", text))
        assert hosts <= KNOWN_HOSTS, sorted(hosts - KNOWN_HOSTS)
        assert not CDN.search(text)


def request_for(host: str = "testserver") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/graphql", "headers": [(b"host", host.encode())]})


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_damaged_install_is_not_served(tmp_path: Path, damage: str) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(fetch.VENDOR, vendor)
    target = vendor / "graphiql@3.8.3" / "graphiql.min.js"
    if damage == "altered":
        target.write_bytes(target.read_bytes().replace(b"GraphiQL", b"GraphiQl", 1))
    else:
        target.unlink()
    bundle = page.load_bundle(vendor)
    assert bundle.problem == f"graphiql@3.8.3/graphiql.min.js is {damage}"
    assert bundle.assets == {}
    response = page.page(request_for(), bundle)
    assert response.status_code == 503  # an explanation instead of "Loading..." forever
    assert b"scripts/bootstrap" in response.body
    assert "content-security-policy" in response.headers
