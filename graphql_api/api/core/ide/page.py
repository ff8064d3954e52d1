"""The GraphiQL page (GET /graphql with `Accept: text/html`) and its files (GET /graphql/ide/…).

Everything the page loads comes from this server: the npm files listed in `lock.json` (checked
against their integrity when first read, and again by the browser through `integrity`
attributes) and the page's own `static/` files. Asset URLs carry a version or a content hash,
so they are cached for a year; the page itself is revalidated.

The Content-Security-Policy allows only this origin. Two deliberate additions: `data:` for
fonts and images, because GraphiQL's stylesheet embeds its fonts and lint icons as data: URIs
(they arrive inside the integrity-checked file, no request leaves the server), and the
explicit ws:/wss: URL of this host in `connect-src`, because not every browser counts a
WebSocket to the same host as 'self' (subscriptions use graphql-ws over /graphql).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from graphql_api.api.core.ide import fetch

log = logging.getLogger(__name__)
PREFIX = "/graphql/ide/"
STATIC = Path(__file__).resolve().parent / "static"
OWN_FILES = ("ide.css", "ide.js", "favicon.svg")
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
ASSET_HEADERS = {
    "cache-control": "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "same-origin",
}
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@dataclass(slots=True)
class Asset:
    url: str
    data: bytes
    integrity: str
    load: str | None
    gzipped: bytes | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(Path(self.url).suffix, "application/octet-stream")


@dataclass(frozen=True, slots=True)
class Bundle:
    assets: dict[str, Asset]
    problem: str | None  # why GraphiQL cannot be served (its files are missing or altered)

    def loaded(self, kind: str) -> list[Asset]:
        return [asset for asset in self.assets.values() if asset.load == kind]


@functools.cache
def load_bundle(vendor: Path = fetch.VENDOR, lock: Path = fetch.LOCK) -> Bundle:
    """Read and verify every file once per process; the lock's order is the loading order."""
    assets: dict[str, Asset] = {}
    for package in fetch.load_lock(lock):
        for entry in package["files"]:
            if entry.get("load") is None:
                continue  # licences and metadata ship with the files but are not served
            path = fetch.file_path(package, entry["path"], vendor)
            data = path.read_bytes() if path.is_file() else None
            if data is None or fetch.sri(data) != entry["integrity"]:
                state = "missing" if data is None else "altered"
                return Bundle({}, f"{package['name']}@{package['version']}/{entry['path']} is {state}")
            url = f"{PREFIX}{package['name']}@{package['version']}/{entry['path']}"
            assets[url] = Asset(url, data, entry["integrity"], entry["load"])
    for name in OWN_FILES:
        data = (STATIC / name).read_bytes()
        load = {".css": "style", ".js": "script"}.get(Path(name).suffix)
        url = f"{PREFIX}app/{hashlib.sha256(data).hexdigest()[:16]}/{name}"
        assets[url] = Asset(url, data, fetch.sri(data), load or "icon")
    return Bundle(assets, None)


def render(bundle: Bundle) -> str:
    def tag(asset: Asset) -> str:
        url, integrity = html.escape(asset.url), html.escape(asset.integrity)
        if asset.load == "style":
            return f'<link rel="stylesheet" href="{url}" integrity="{integrity}">'
        return f'<script src="{url}" integrity="{integrity}"></script>'

    (icon,) = bundle.loaded("icon")
    return _template().substitute(
        icon=html.escape(icon.url),
        styles="\n    ".join(tag(asset) for asset in bundle.loaded("style")),
        scripts="\n    ".join(tag(asset) for asset in bundle.loaded("script")),
    )


@functools.cache
def _template() -> Template:
    return Template((STATIC / "index.html").read_text(encoding="utf-8"))


def content_security_policy(host: str | None) -> str:
    sockets = f" ws://{host} wss://{host}" if host and HOST.match(host) else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self' data:; connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def page(request: Request, bundle: Bundle | None = None) -> Response:
    bundle = load_bundle() if bundle is None else bundle
    headers = {**PAGE_HEADERS, "content-security-policy": content_security_policy(request.headers.get("host"))}
    if bundle.problem is not None:
        log.error("GraphiQL cannot be served: %s; run scripts/bootstrap", bundle.problem)
        body = (
            "<!doctype html><title>GraphiQL is not installed</title><p>GraphiQL's files are not "
            f"installed on this server ({html.escape(bundle.problem)}). Run <code>scripts/bootstrap</code> "
            "or <code>python -m graphql_api.api.core.ide.fetch</code>, then restart the server.</p>"
        )
        return HTMLResponse(body, status_code=503, headers=headers)
    return HTMLResponse(render(bundle), headers=headers)


async def asset(request: Request) -> Response:
    found = load_bundle().assets.get(request.url.path)
    if found is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    headers = dict(ASSET_HEADERS)
    headers["vary"] = "accept-encoding"
    body = found.data
    if len(body) > 1024 and _accepts_gzip(request.headers.get("accept-encoding", "")):
        if found.gzipped is None:
            # Once per file and process (GraphiQL is 3.5 MB, ~0.7 MB gzipped), off the event loop.
            found.gzipped = await anyio.to_thread.run_sync(gzip.compress, found.data, 6)
        body = found.gzipped
        headers["content-encoding"] = "gzip"
    return Response(body, media_type=found.content_type, headers=headers)


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def routes() -> list[Route]:
    return [Route(PREFIX + "{path:path}", asset, methods=["GET"])]
