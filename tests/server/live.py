"""Helpers of the live-event tests: subscriptions through the `gql` client collected in the
background, raw graphql-transport-ws sockets for close codes, stock movements and
notifications made straight through the services (real commits on the server's database),
and a real uvicorn serving the app inside the test's own event loop, for tests that count
what the server holds (renders, queued messages)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn
import websockets
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from graphql_api.app import create_app
from graphql_api.db import models
from graphql_api.db.embedded import free_port
from graphql_api.db.models import MovementReason
from graphql_api.services import items, notifications
from graphql_api.services.ledger import StockDelta
from graphql_api.settings import Settings
from tests.conftest import Actor, gid

# Only so that something that never comes fails the test instead of hanging the run.
WAIT = 30
PROTOCOL = "graphql-transport-ws"

STOCK = """subscription ($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) {
  item { id quantity } movement { id quantityAfter } } }"""
INBOX = "subscription { notificationReceived { id kind title body } }"
UNREAD = "subscription { unreadNotificationCountChanged }"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


class Stream:
    """One subscription through gql, its results collected as they come."""

    def __init__(self, session: Any, document: str, variables: dict[str, Any] | None = None) -> None:
        self.results: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run(session, GraphQLRequest(document, variable_values=variables)))

    async def _run(self, session: Any, request: GraphQLRequest) -> None:
        try:
            async for result in session.subscribe(request):
                self.results.append(result)
                self._changed.set()
        except Exception as error:
            self.error = error
        self._changed.set()

    async def until(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.results):
            if self.error is not None:
                raise AssertionError(f"the subscription ended: {self.error!r}; results: {self.results}")
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"still waiting after {timeout} s; results: {self.results}"
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@contextlib.asynccontextmanager
async def gql_socket(ws_url: str, token: str) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(url=ws_url, init_payload=bearer(token), ping_interval=None)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


# ---- raw sockets, for close codes ------------------------------------------------------------


@contextlib.asynccontextmanager
async def raw_socket(ws_url: str, **options: Any) -> AsyncIterator[ClientConnection]:
    async with ws_connect(ws_url, subprotocols=[PROTOCOL], open_timeout=10, **options) as ws:  # type: ignore[list-item]
        yield ws


async def receive(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        frame = await ws.recv()
    message: dict[str, Any] = json.loads(frame)
    return message


async def acknowledged(ws: ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token)}))
    assert (await receive(ws))["type"] == "connection_ack"


async def send_subscribe(ws: ClientConnection, operation_id: str, query: str, **variables: Any) -> None:
    payload: dict[str, Any] = {"query": query, "variables": variables or None}
    await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def closed_with(ws: ClientConnection, timeout: float = WAIT) -> tuple[int | None, str | None, list[Any]]:
    """Read until the server closes: (code, reason, the messages that came before)."""
    before: list[Any] = []
    async with asyncio.timeout(timeout):
        try:
            while True:
                before.append(json.loads(await ws.recv()))
        except websockets.ConnectionClosed:
            pass
    return ws.close_code, ws.close_reason, before


# ---- events made straight through the services ---------------------------------------------


async def restock(db: async_sessionmaker[AsyncSession], actor: Actor, item_id: uuid.UUID, times: int = 1) -> None:
    """`times` stock movements of +1, each its own committed transaction."""
    for _ in range(times):
        async with db.begin() as session:
            item = await session.get(models.InventoryItem, item_id)
            assert item is not None
            await items.adjust_item_stock(
                session,
                actor.principal,
                item_id,
                expected_quantity=item.quantity,
                delta=StockDelta(quantity=1),
                reason=MovementReason.RESTOCK,
                note=None,
            )


async def notify(db: async_sessionmaker[AsyncSession], users: list[uuid.UUID], kind: str = "account.welcome") -> None:
    async with db.begin() as session:
        await notifications.notify(session, users, kind, params={"role": "STUDENT"})


async def until_ready(stream: Stream, poke: Callable[[], Awaitable[None]], timeout: float = WAIT) -> int:
    """Poke (make an event the subscriber gets) until one arrives: the subscription is then
    registered on the server. How many pokes were made (each may still arrive)."""
    deadline = time.monotonic() + timeout
    pokes = 0
    while not stream.results:
        assert time.monotonic() < deadline, f"no event after {pokes} pokes; error: {stream.error!r}"
        await poke()
        pokes += 1
        with contextlib.suppress(AssertionError):
            await stream.until(lambda results: bool(results), timeout=1)
    return pokes


async def raw_until_ready(
    ws: ClientConnection, operation_id: str, poke: Callable[[], Awaitable[None]], timeout: float = WAIT
) -> list[dict[str, Any]]:
    """As `until_ready`, on a raw socket: the messages received until one for `operation_id`."""
    deadline = time.monotonic() + timeout
    received: list[dict[str, Any]] = []
    while not any(message.get("id") == operation_id for message in received):
        assert time.monotonic() < deadline, f"nothing for {operation_id} yet: {received}"
        await poke()
        with contextlib.suppress(TimeoutError):
            while True:
                received.append(await receive(ws, timeout=1))
    return received


def stock_of(results: list[dict[str, Any]], item_id: uuid.UUID) -> list[int]:
    """The quantityAfter of each event about one item, in the order received."""
    wanted = gid("InventoryItem", item_id)
    return [
        r["itemStockChanged"]["movement"]["quantityAfter"]
        for r in results
        if r["itemStockChanged"]["item"]["id"] == wanted
    ]


# ---- uvicorn in this process -----------------------------------------------------------------


class InProcessServer:
    """The app under a real uvicorn on loopback, in the test's event loop: the test can read
    the hub it serves subscriptions from."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.app = create_app(settings, database_url=database_url)
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            ws="websockets-sansio",
            ws_max_size=65536,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def hub(self) -> Any:
        return self.app.state.hub

    async def __aenter__(self) -> InProcessServer:
        self._task = asyncio.create_task(self.server.serve())
        async with asyncio.timeout(WAIT):
            while not self.server.started:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(self.app.state.listener.connected.wait(), WAIT)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, WAIT)
