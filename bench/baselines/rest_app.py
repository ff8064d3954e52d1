"""Baseline: REST endpoints (Starlette + asyncpg + orjson) returning the same JSON documents as
the GraphQL workloads, so the difference to the project is the cost of GraphQL itself.

    GET  /rest/items/{uuid}                  node workload        (auth + 1 statement)
    GET  /rest/items?first=N                 page / list1000      (auth + 2 statements, dicts + orjson)
    GET  /rest/items-json?first=N            page / list1000      (auth + 1 json_agg statement: the
                                                                   practical limit, PostgreSQL builds the JSON)
    GET  /rest/me                            me                   (auth only)
    POST /rest/items/{uuid}/adjust-stock     mutation             (auth + 3 statements in one transaction)
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.baselines import common

Handler = Callable[[Request, asyncpg.Connection, common.Principal], Awaitable[Response]]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        async with request.app.state.pool.acquire() as conn:
            principal = await common.authenticate(conn, request.headers.get("authorization"))
            if principal is None:
                return _error(401, "UNAUTHENTICATED", "Sign in first.")
            return await handler(request, conn, principal)

    return endpoint


def _first(request: Request) -> int | None:
    try:
        value = int(request.query_params.get("first", "20"))
    except ValueError:
        return None
    return value if 0 <= value <= 10_000 else None


def _uuid(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["item_id"])
    except ValueError:
        return None


@authenticated
async def item(request: Request, conn: asyncpg.Connection, principal: common.Principal) -> Response:
    item_id = _uuid(request)
    node = await common.item_node(conn, principal, item_id) if item_id else None
    if node is not None:
        del node["__typename"]
    return _json({"data": {"node": node}})


@authenticated
async def items(request: Request, conn: asyncpg.Connection, principal: common.Principal) -> Response:
    first = _first(request)
    if first is None:
        return _error(400, "BAD_REQUEST", "first must be an integer between 0 and 10000")
    return _json({"data": {"items": {"edges": await common.item_edges(conn, principal, first)}}})


@authenticated
async def items_json(request: Request, conn: asyncpg.Connection, principal: common.Principal) -> Response:
    first = _first(request)
    if first is None:
        return _error(400, "BAD_REQUEST", "first must be an integer between 0 and 10000")
    text = await common.items_json(conn, principal, first)
    return Response(text.encode(), media_type="application/json")


@authenticated
async def me(request: Request, conn: asyncpg.Connection, principal: common.Principal) -> Response:
    return _json({"data": {"me": {"id": common.encode_id("User", principal.id)}}})


@authenticated
async def adjust_stock(request: Request, conn: asyncpg.Connection, principal: common.Principal) -> Response:
    try:
        body = orjson.loads(await request.body())
        expected, delta, reason = int(body["expectedQuantity"]), dict(body["delta"]), str(body["reason"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return _error(400, "BAD_REQUEST", "expectedQuantity, delta and reason are required")
    meta = {
        "client_ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300] or None,
        "request_id": uuid.uuid4().hex,
    }
    try:
        result = await common.adjust_stock(
            conn,
            principal,
            _uuid(request),
            expected_quantity=expected,
            delta=delta,
            reason=reason,
            note=body.get("note"),
            meta=meta,
        )
    except common.Forbidden:
        return _error(403, "FORBIDDEN", "Not allowed.")
    if result["__typename"] != "AdjustItemStockPayload":
        result = {k: result[k] for k in ("__typename", "code", "message")}
    return _json({"data": {"adjustItemStock": result}})


async def live(_: Request) -> Response:
    return _json({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await common.create_pool()
    yield
    await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/rest/items/{item_id}", item),
        Route("/rest/items", items),
        Route("/rest/items-json", items_json),
        Route("/rest/me", me),
        Route("/rest/items/{item_id}/adjust-stock", adjust_stock, methods=["POST"]),
        Route("/health/live", live),
    ],
    lifespan=lifespan,
)
