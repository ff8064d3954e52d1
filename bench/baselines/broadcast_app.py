"""Baseline of the `subscriptions` workload: a plain Starlette WebSocket broadcast of the same
JSON the project sends for `itemStockChanged`, woken by the same NOTIFY.

One listener connection LISTENs on the project's outbox channel and reads the new outbox rows
with the project's listener's query (after the last id, in id order). For each stock event it
loads the item and the movement in one statement, encodes the payload once per document shape
that subscribers of that environment sent, and writes it to each of their sockets in a loop:
no per-subscriber queue, task or rendering. The socket speaks just enough graphql-transport-ws
for the bench's client: connection_init with the token (the product's JWT checks and user row),
subscribe to one of the two documents of the workload (the environment checked against the
caller's scope once), ping, complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.baselines import common
from bench.workloads import STOCK_APP, STOCK_BOARD

CHANNEL = "graphql_api_outbox"  # graphql_api.pubsub.events.CHANNEL
TOPIC = "item_stock"  # graphql_api.services.ledger.STOCK_CHANGED
BATCH = 500
# The project's listener's query (graphql_api/pubsub/postgres.py).
READ_OUTBOX = (
    "SELECT id, topic, subject_id, environment_id, user_ids, data FROM outbox_events WHERE id > $1 ORDER BY id LIMIT $2"
)
LOAD = """
SELECT i.id, i.name, i.internal_code, i.quantity, i.quantity_damaged, i.quantity_missing,
       i.quantity_in_maintenance, i.quantity_on_loan, i.updated_at, e.name AS environment,
       m.id AS movement_id, m.reason, m.delta_quantity, m.quantity_after, m.created_at
FROM inventory_movements m
JOIN inventory_items i ON i.id = m.item_id
JOIN environments e ON e.id = i.environment_id
WHERE m.id = $1 AND i.id = $2
"""
BUCKETS = (
    ("DAMAGED", "quantity_damaged"),
    ("MISSING", "quantity_missing"),
    ("MAINTENANCE", "quantity_in_maintenance"),
    ("IN_USE", "quantity_on_loan"),
)


def _condition(row: asyncpg.Record) -> str:
    """graphql_api.api.items.types.condition_of"""
    if sum(row[column] for _, column in BUCKETS) == 0:
        return "AVAILABLE"
    for name, column in BUCKETS:
        if row[column] == row["quantity"]:
            return name
    return "PARTIAL"


def _available(row: asyncpg.Record) -> int:
    return int(row["quantity"]) - sum(int(row[column]) for _, column in BUCKETS)


def _app_shape(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "item": {
            "id": common.encode_id("InventoryItem", row["id"]),
            "name": row["name"],
            "quantity": row["quantity"],
            "quantityAvailable": _available(row),
            "condition": _condition(row),
        },
        "movement": {
            "id": common.encode_id("InventoryMovement", row["movement_id"]),
            "reason": row["reason"],
            "deltaQuantity": row["delta_quantity"],
            "quantityAfter": row["quantity_after"],
            "createdAt": row["created_at"].isoformat(),
        },
    }


def _board_shape(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "item": {
            "id": common.encode_id("InventoryItem", row["id"]),
            "internalCode": row["internal_code"],
            "quantity": row["quantity"],
            "quantityDamaged": row["quantity_damaged"],
            "quantityMissing": row["quantity_missing"],
            "quantityInMaintenance": row["quantity_in_maintenance"],
            "quantityOnLoan": row["quantity_on_loan"],
            "quantityAvailable": _available(row),
            "updatedAt": row["updated_at"].isoformat(),
            "environment": {"name": row["environment"]},
        },
        "movement": {
            "id": common.encode_id("InventoryMovement", row["movement_id"]),
            "reason": row["reason"],
            "deltaQuantity": row["delta_quantity"],
            "createdAt": row["created_at"].isoformat(),
        },
    }


SHAPES: dict[str, Callable[[asyncpg.Record], dict[str, Any]]] = {STOCK_APP: _app_shape, STOCK_BOARD: _board_shape}


@dataclass(eq=False)
class Subscriber:
    socket: WebSocket
    prefix: str  # '{"id":<operation id>,"type":"next","payload":'


class Broadcaster:
    """Subscribers by environment and document; the outbox read after each NOTIFY."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.subscribers: dict[uuid.UUID, dict[str, dict[Subscriber, None]]] = {}
        self.wake = asyncio.Event()
        self.last_id = 0
        self.listener: asyncpg.Connection | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.listener = await asyncpg.connect(common.DATABASE_URL)
        self.last_id = await self.listener.fetchval("SELECT coalesce(max(id), 0) FROM outbox_events")
        await self.listener.add_listener(CHANNEL, lambda *_: self.wake.set())
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.listener is not None:
            await self.listener.close()

    def add(self, environment: uuid.UUID, query: str, subscriber: Subscriber) -> None:
        self.subscribers.setdefault(environment, {}).setdefault(query, {})[subscriber] = None

    def remove(self, environment: uuid.UUID, query: str, subscriber: Subscriber) -> None:
        self.subscribers.get(environment, {}).get(query, {}).pop(subscriber, None)

    async def _run(self) -> None:
        assert self.listener is not None
        while True:
            await self.wake.wait()
            self.wake.clear()
            while True:
                rows = await self.listener.fetch(READ_OUTBOX, self.last_id, BATCH)
                for row in rows:
                    self.last_id = row["id"]
                    if row["topic"] == TOPIC:
                        await self._broadcast(row)
                if len(rows) < BATCH:
                    break

    async def _broadcast(self, event: asyncpg.Record) -> None:
        shapes = self.subscribers.get(event["environment_id"])
        if not shapes or not any(shapes.values()):
            return
        data = event["data"]
        movement = uuid.UUID((orjson.loads(data) if isinstance(data, str) else data)["movement"])
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(LOAD, movement, event["subject_id"])
        if row is None:
            return
        for query, subscribers in list(shapes.items()):
            payload = orjson.dumps({"data": {"itemStockChanged": SHAPES[query](row)}}).decode()
            for subscriber in list(subscribers):
                try:
                    await subscriber.socket.send_text(subscriber.prefix + payload + "}")
                except (WebSocketDisconnect, RuntimeError):
                    subscribers.pop(subscriber, None)


async def _authenticate(pool: asyncpg.Pool, message: Any) -> common.Principal | None:
    payload = message.get("payload") if isinstance(message, dict) else None
    raw = payload.get("authorization") if isinstance(payload, dict) else None
    if message.get("type") != "connection_init" or not isinstance(raw, str):
        return None
    async with pool.acquire() as conn:
        return await common.authenticate(conn, raw)


async def _visible(pool: asyncpg.Pool, principal: common.Principal, environment: uuid.UUID) -> bool:
    params: list[Any] = [environment]
    where = common.scope(principal, "e.id", params)
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(f"SELECT 1 FROM environments e WHERE e.id = $1 AND {where}", *params))


def _error(operation_id: str, message: str, code: str) -> str:
    errors = [{"message": message, "extensions": {"code": code}}]
    return orjson.dumps({"id": operation_id, "type": "error", "payload": errors}).decode()


async def _subscribe(
    socket: WebSocket, principal: common.Principal, message: dict[str, Any]
) -> tuple[uuid.UUID, str, Subscriber] | str:
    """The subscription asked for, or the error message to send."""
    operation_id = str(message.get("id"))
    payload = message.get("payload") or {}
    query = payload.get("query")
    environment = common.decode_id(str((payload.get("variables") or {}).get("environmentId")), "Environment")
    if query not in SHAPES:
        return _error(operation_id, "The baseline serves only the workload's documents.", "BAD_REQUEST")
    if environment is None or not await _visible(socket.app.state.pool, principal, environment):
        return _error(operation_id, "Environment not found.", "NOT_FOUND")
    prefix = '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'
    return environment, query, Subscriber(socket, prefix)


async def graphql_ws(socket: WebSocket) -> None:
    await socket.accept(subprotocol="graphql-transport-ws")
    broadcaster: Broadcaster = socket.app.state.broadcaster
    try:
        init = orjson.loads(await asyncio.wait_for(socket.receive_text(), 10))
        principal = await _authenticate(socket.app.state.pool, init)
    except (TimeoutError, orjson.JSONDecodeError, AttributeError):
        principal = None
    if principal is None:
        await socket.close(4403, "Forbidden")
        return
    await socket.send_text('{"type":"connection_ack"}')
    operations: dict[str, tuple[uuid.UUID, str, Subscriber]] = {}
    try:
        while True:
            message = orjson.loads(await socket.receive_text())
            kind = message.get("type")
            if kind == "ping":
                await socket.send_text('{"type":"pong"}')
            elif kind == "subscribe":
                subscribed = await _subscribe(socket, principal, message)
                if isinstance(subscribed, str):
                    await socket.send_text(subscribed)
                else:
                    operations[str(message["id"])] = subscribed
                    broadcaster.add(*subscribed)
            elif kind == "complete" and str(message.get("id")) in operations:
                broadcaster.remove(*operations.pop(str(message["id"])))
    except (WebSocketDisconnect, orjson.JSONDecodeError):
        pass
    finally:
        for subscribed in operations.values():
            broadcaster.remove(*subscribed)


async def live(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await common.create_pool()
    app.state.broadcaster = Broadcaster(app.state.pool)
    await app.state.broadcaster.start()
    yield
    await app.state.broadcaster.stop()
    await app.state.pool.close()


app = Starlette(
    routes=[WebSocketRoute("/graphql", graphql_ws), Route("/health/live", live)],
    lifespan=lifespan,
)
