"""The HTTP/WebSocket view: strict body parsing, JSON via orjson, per-request context."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import uuid
from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.api.core import transport
from graphql_api.api.core.context import Context
from graphql_api.api.core.database import RequestDatabase
from graphql_api.api.core.execution import Schema
from graphql_api.api.core.ide import page as ide_page
from graphql_api.api.core.loaders import Loaders
from graphql_api.api.core.subscriptions.hub import Hub
from graphql_api.api.core.websocket import TextFrames, TransportWSHandler
from graphql_api.auth import tokens
from graphql_api.i18n import negotiate
from graphql_api.services.audit import RequestMeta
from graphql_api.settings import Settings

log = logging.getLogger(__name__)
MAX_JSON_DEPTH = 32
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BadJSON(json.JSONDecodeError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)


def _check_structure(value: Any, depth: int = 0) -> None:
    """Reject deeply nested JSON and NUL characters anywhere in it (400, not 500)."""
    if depth > MAX_JSON_DEPTH:
        raise BadJSON("JSON nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadJSON("strings may not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_structure(key, depth + 1)
            _check_structure(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_structure(item, depth + 1)


def client_ip(request: Request | WebSocket, trusted: tuple[str, ...]) -> str | None:
    """The client address; X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    if peer is None or not trusted or not _in(peer, trusted):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Walk from the nearest hop back; the first address that is not a trusted proxy is the client.
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop[:64]
    return peer


def _in(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def _request_id(request: Request | WebSocket) -> str:
    given = request.headers.get("x-request-id")
    return given if given and REQUEST_ID_RE.match(given) else uuid.uuid4().hex


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class GraphQLView(GraphQL[Context, None]):
    schema: Schema
    hub: Hub  # set by create_app
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        schema: Schema,
        *,
        settings: Settings,
        engine: AsyncEngine,
        db: async_sessionmaker[AsyncSession],
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self.settings = settings
        self.engine = engine
        self.db = db

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = orjson.loads(data)
        except (orjson.JSONDecodeError, UnicodeDecodeError, RecursionError, TypeError):
            raise BadJSON("invalid JSON") from None
        if not isinstance(value, dict | list):
            # strawberry calls .get() on the body: `null`, `1` or `"x"` would be a 500.
            raise BadJSON("the body must be a JSON object")
        _check_structure(value)
        return value

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        # WebSockets authenticate in on_ws_connect, from the connection_init payload.
        token = None if isinstance(request, WebSocket) else _bearer(request.headers.get("authorization"))
        db = RequestDatabase(self.engine, self.db)
        request.state.request_db = db
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            settings=self.settings,
            db=db,
            language=negotiate(request.headers.get("accept-language"), self.settings.default_language),
            meta=RequestMeta(
                request_id=_request_id(request),
                client_ip=client_ip(request, self.settings.trusted_proxies),
                user_agent=(request.headers.get("user-agent") or "")[:300] or None,
            ),
            loaders=None,  # type: ignore[arg-type]  # set just below; it needs the context
            claims=tokens.decode_access_token(self.settings, token) if token else None,
        )
        context.loaders = Loaders(db, lambda: (context.principal, context.principal_row))
        context.loaders.activate()
        context.big_pages.activate()
        request.state.graphql_context = context
        return context

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, Request):
            refused = transport.refuse(request, ide=self.graphql_ide is not None)
            if refused is not None:
                return refused
        try:
            if isinstance(request, Request) and context is UNSET and root_value is UNSET:
                response = await self._run_prepared(request)
                if response is not None:
                    return response
            return await super().run(request, context, root_value)
        except HTTPException as error:  # strawberry's 400s: a GraphQL body, not text/plain
            message = transport.http_error_message(error.reason, error.__cause__)
            return transport.error_response(request.headers, error.status_code, message)
        finally:
            # Whatever happened (even a 400 before execution), give the connection back, and
            # let go of the request's objects (see Loaders.release).
            db = getattr(request.state, "request_db", None)
            if db is not None:
                await db.close()
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                context.big_pages.release()
                context.loaders.release()

    async def _run_prepared(self, request: Request) -> Response | None:
        """A plain JSON POST of a document the schema has already validated: executed directly
        (`Schema.execute_prepared`). None sends the request down strawberry's own path, which
        answers everything else (first sight of a document, errors, batches, streaming)."""
        if request.method != "POST":
            return None
        headers = request.headers
        if headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            return None
        accept = headers.get("accept", "")
        if "multipart/" in accept or "text/event-stream" in accept:
            return None
        try:
            data = self.decode_json(await request.body())
        except BadJSON:
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        name, extensions = data.get("operationName"), data.get("extensions")
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(name, str | None)
            and isinstance(extensions, dict | None)
        ):
            return None
        document = self.schema.prepared(query, name)
        if document is None:
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        result = await self.schema.execute_prepared(document, context, variables, name)
        return self.create_response(process_result(result), sub_response)

    async def get_root_value(self, request: Request | WebSocket) -> None:
        return None

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page instead of strawberry's, which loads GraphiQL from a CDN (see ide/).
        return ide_page.page(request)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return transport.SubResponse(transport.negotiate(request.headers.get("accept")) or transport.JSON)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        media_type = sub_response.negotiated if isinstance(sub_response, transport.SubResponse) else transport.JSON
        status = 200
        if isinstance(response_data, dict):
            status = transport.result_status(response_data, media_type)  # before encoding: may drop `data`
        response = super().create_response(response_data, sub_response)
        if media_type != transport.JSON:
            response.headers["content-type"] = transport.CONTENT_TYPE[media_type]
        if status != 200 and not sub_response.status_code:
            response.status_code = status
        return response

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # Browsers cannot set headers on WebSockets: the token comes in connection_init as
        # {"authorization": "Bearer <token>"} (or {"token": "<token>"}).
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("authorization") or params.get("Authorization")
        token = _bearer(raw) if isinstance(raw, str) else None
        if token is None and isinstance(params.get("token"), str):
            token = params["token"]
        context.claims = tokens.decode_access_token(self.settings, token) if token else None
        principal = await context.authenticate()
        await context.db.close()
        if principal is None:
            raise ConnectionRejectionError({"reason": "unauthenticated"})
        return None
