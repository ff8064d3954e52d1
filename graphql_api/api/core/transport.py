"""GraphQL over HTTP (graphql.github.io/graphql-over-http): which media type answers a request,
the status codes that go with it, and transport-level errors as GraphQL JSON bodies.

`application/json` stays the default (no Accept header, `*/*`, `application/*`): every
GraphQL result is a 200 there, as before. A client that names
`application/graphql-response+json` gets the spec's status codes instead: a request error
(the document does not parse or validate, variables do not coerce: nothing was executed) is
a 4xx without `data`. An Accept header that admits neither type gets 406, the spec's
recommended answer. Errors of the transport itself (method, media types, body) are
`{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}` with a 4xx status in
either mode, never text/plain.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTENT_TYPE = {JSON: JSON, GRAPHQL_RESPONSE: f"{GRAPHQL_RESPONSE}; charset=utf-8"}

# Status of a request error (no `data`) in application/graphql-response+json, by error code;
# the first code present wins. Anything else is the client's fault: 400.
_STATUS_BY_CODE = (("INTERNAL", 500), ("DB_UNAVAILABLE", 503), ("RATE_LIMITED", 429), ("FORBIDDEN", 403))


# ---- Accept ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # clients send the same few Accept headers over and over
def negotiate(accept: str | None) -> str | None:
    """The media type of the response, or None when `accept` admits neither supported type.

    The highest q-value wins (RFC 9110 §12.5.1: each type takes the q of the most specific
    range that matches it). On a tie, a type named explicitly beats one reached by a wildcard,
    and between equals `application/graphql-response+json` wins when named and
    `application/json` (the legacy default) when only a wildcard reaches both.
    """
    if not accept or not accept.strip():
        return JSON
    ranges = list(_media_ranges(accept))
    best: tuple[float, int, bool] | None = None
    chosen = None
    for media_type in (JSON, GRAPHQL_RESPONSE):
        matched = _match(ranges, media_type)
        if matched is None or matched[0] <= 0:
            continue
        quality, specificity = matched
        preferred = media_type == (GRAPHQL_RESPONSE if specificity == 2 else JSON)
        key = (quality, specificity, preferred)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def _media_ranges(accept: str) -> Iterator[tuple[str, str, float]]:
    for item in accept.split(","):
        media, *params = item.split(";")
        kind, _, subtype = media.strip().lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0 <= quality <= 1:  # a malformed q (or NaN) drops the range
            yield kind, subtype, quality


def _match(ranges: list[tuple[str, str, float]], media_type: str) -> tuple[float, int] | None:
    """(q, specificity) of the most specific range that matches `media_type`; specificity
    is 2 for the type itself, 1 for `type/*`, 0 for `*/*`."""
    kind, _, subtype = media_type.partition("/")
    found: tuple[float, int] | None = None
    for range_kind, range_subtype, quality in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 2
        elif (range_kind, range_subtype) == (kind, "*"):
            specificity = 1
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        if found is None or specificity > found[1]:
            found = (quality, specificity)
    return found


# ---- responses ---------------------------------------------------------------------------------


def result_status(body: GraphQLHTTPResponse, media_type: str) -> int:
    """The status of a GraphQL result sent as `media_type`. In graphql-response+json, a
    request error also loses its `data` (the spec: a response without `data` is 4xx/5xx)."""
    if media_type == JSON or body.get("data") is not None:
        return 200
    errors = cast("list[dict[str, Any]]", body.get("errors") or [])  # GraphQLError.formatted
    # Field errors carry a path: execution ran and nulled `data`, which is still a 200.
    if not errors or any("path" in error for error in errors):
        return 200
    body.pop("data", None)
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return next((status for code, status in _STATUS_BY_CODE if code in codes), 400)


def error_body(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


def error_response(
    headers: Mapping[str, str], status: int, message: str, extra_headers: Mapping[str, str] | None = None
) -> Response:
    """A transport-level error, in the media type the client accepts (JSON when none)."""
    media_type = negotiate(headers.get("accept")) or JSON
    return Response(
        orjson.dumps(error_body(message)),
        status_code=status,
        headers=dict(extra_headers or {}),
        media_type=CONTENT_TYPE[media_type],
    )


# ---- what a request must be before it reaches GraphQL -----------------------------------------


def refuse(request: Request, *, ide: bool) -> Response | None:
    """A transport error for a request that GraphQL must not see (None lets it through):
    operations run over POST only (never GET: no CSRF-able reads, no GET mutations, as
    the spec requires); GET serves GraphiQL when it is enabled."""
    headers = request.headers
    if request.method != "POST":
        if request.method == "GET" and ide and "query" not in request.query_params:
            return None  # strawberry renders GraphiQL
        allow = {"Allow": "GET, POST" if ide else "POST"}
        if request.method == "GET":
            return error_response(headers, 405, "GraphQL operations are executed over POST only.", allow)
        return error_response(headers, 405, f"Method {request.method} is not allowed; use POST.", allow)
    if negotiate(headers.get("accept")) is None:
        return error_response(headers, 406, f"The response can only be {GRAPHQL_RESPONSE} or {JSON}.")
    if not is_json(headers.get("content-type")):
        return error_response(headers, 415, "The request body must be JSON (Content-Type: application/json).")
    return None


def is_json(content_type: str | None) -> bool:
    """application/json in UTF-8, the only encoding the spec has (and the JSON RFC's)."""
    if not content_type:
        return False
    media, *params = content_type.split(";")
    if media.strip().lower() != JSON:
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


# ---- request body limit ------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class BodyLimit:
    """MAX_BODY_BYTES for every HTTP request, answered with a GraphQL JSON 413. Starlette's
    own `max_body_size` answers in text/plain, and replaces any response the application
    starts once the declared length is over the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if started:
                raise
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        await error_response(Headers(scope=scope), 413, message)(scope, receive, send)


class SubResponse(Response):
    """strawberry's sub-response (headers and a status that resolvers may set), carrying the
    media type negotiated for the request to `create_response`."""

    def __init__(self, media_type: str) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]  # as strawberry's: "not set"
        del self.headers["content-length"]
        self.negotiated = media_type


def http_error_message(reason: str, cause: BaseException | None) -> str:
    """strawberry's reason for a 400, with the JSON decoder's own when there is one."""
    if isinstance(cause, json.JSONDecodeError) and cause.msg:
        return f"{reason}: {cause.msg}"
    return reason
