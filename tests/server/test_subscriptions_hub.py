"""What the hub holds and does, counted on a real uvicorn serving the app in the test's own
event loop: an event is rendered once per distinct subscription shape (document, variables,
scope), not once per subscriber; a subscriber that does not read is closed 1008 while the
messages held for it stay within SUBSCRIPTION_QUEUE_SIZE, and one of the same group that keeps
up goes on receiving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from graphql_api.db import models
from graphql_api.pubsub.events import Event
from graphql_api.services.ledger import STOCK_CHANGED
from tests.conftest import Actor, gid, make_settings
from tests.server.conftest import Seeded, execute, fetchval
from tests.server.live import (
    PROTOCOL,
    STOCK,
    WAIT,
    InProcessServer,
    Stream,
    acknowledged,
    closed_with,
    gql_socket,
    raw_socket,
    raw_until_ready,
    receive,
    restock,
    send_subscribe,
    until_ready,
)

pytestmark = pytest.mark.server

QUEUE = 4
SUBSCRIBERS = 5
EVENTS = 3
# Another shape: the same field, other fields selected.
STOCK_QUANTITIES = """subscription ($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) {
  item { id quantity } } }"""
# About 60 KB per event: the socket's buffers fill after few of them.
STOCK_BIG = """subscription ($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) {
  movement { id quantityAfter } item { environment { description } } } }"""


@contextlib.asynccontextmanager
async def in_process(seeded: Seeded) -> AsyncIterator[InProcessServer]:
    settings = make_settings(DATABASE_URL=seeded.url, SUBSCRIPTION_QUEUE_SIZE=str(QUEUE), SCHEDULER_ENABLED="false")
    async with InProcessServer(settings, seeded.url) as server:
        yield server


async def supervisors(seeded: Seeded, room: models.Environment, count: int) -> list[Actor]:
    return [
        await seeded.factory.user(models.Role.SUPERVISOR, room, email=f"sup.{uuid.uuid4().hex[:10]}@test.local")
        for _ in range(count)
    ]


def renders(server: InProcessServer) -> list[int]:
    return sorted(group.rendered for group in server.hub.live_groups())


async def settled(seeded: Seeded, item_id: uuid.UUID, streams: list[Stream]) -> None:
    """Every subscriber has the item's latest stock: nothing is left to render."""
    quantity = await item_quantity(seeded, item_id)
    for stream in streams:
        await stream.until(lambda results: results[-1]["itemStockChanged"]["item"]["quantity"] == quantity)


async def test_an_event_is_rendered_once_per_subscription_shape(server_db: Seeded) -> None:
    db, room = server_db.factory.db, server_db.environment
    item = await server_db.new_item(quantity=5)
    variables = {"environmentId": gid("Environment", room.id)}
    people = await supervisors(server_db, room, SUBSCRIBERS + 1)
    async with contextlib.AsyncExitStack() as stack, in_process(server_db) as server:
        sessions = [await stack.enter_async_context(gql_socket(server.ws_url, p.token)) for p in people]
        streams = [Stream(session, STOCK, variables) for session in sessions[:SUBSCRIBERS]]
        for stream in streams:
            await until_ready(stream, lambda: restock(db, server_db.supervisor, item.id))
        await settled(server_db, item.id, streams)
        assert server.hub.groups() == 1  # five supervisors of one room: one scope
        before = [group.rendered for group in server.hub.live_groups()]
        await restock(db, server_db.supervisor, item.id, times=EVENTS)
        await settled(server_db, item.id, streams)
        after = [group.rendered for group in server.hub.live_groups()]
        assert [a - b for a, b in zip(after, before, strict=True)] == [EVENTS]

        other = Stream(sessions[SUBSCRIBERS], STOCK_QUANTITIES, variables)
        streams.append(other)
        await until_ready(other, lambda: restock(db, server_db.supervisor, item.id))
        await settled(server_db, item.id, streams)
        assert server.hub.groups() == 2
        before = [group.rendered for group in server.hub.live_groups()]
        await restock(db, server_db.supervisor, item.id, times=EVENTS)
        await settled(server_db, item.id, streams)
        after = [group.rendered for group in server.hub.live_groups()]
        assert [a - b for a, b in zip(after, before, strict=True)] == [EVENTS, EVENTS]
        for stream in streams:
            await stream.stop()


async def item_quantity(seeded: Seeded, item_id: uuid.UUID) -> int:
    value: int = await fetchval(seeded.url, "SELECT quantity FROM inventory_items WHERE id = $1", item_id)
    return value


@contextlib.asynccontextmanager
async def reluctant_socket(ws_url: str, port: int) -> AsyncIterator[ClientConnection]:
    """A client that reads only when told: a small receive buffer, at most one frame waiting
    in the library, and no compression (the server's messages would shrink to nothing), so
    that what it does not read stays on the server."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
    async with ws_connect(
        ws_url,
        sock=raw,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        max_queue=1,
        max_size=None,
        compression=None,
        open_timeout=10,
    ) as ws:
        yield ws


async def latest_stock_event(seeded: Seeded, item_id: uuid.UUID) -> Event:
    row: Any = await fetchval(
        seeded.url,
        "SELECT row(id, environment_id, data->>'movement') FROM outbox_events"
        " WHERE topic = $1 AND subject_id = $2 ORDER BY id DESC LIMIT 1",
        STOCK_CHANGED,
        item_id,
    )
    event_id, environment_id, movement = row
    return Event(event_id, STOCK_CHANGED, item_id, environment_id, (), {"movement": movement})


class Reader:
    """A raw socket read continuously in the background: the subscriber that keeps up."""

    def __init__(self, ws: ClientConnection) -> None:
        self.messages: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._run(ws))

    async def _run(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                self.messages.append(await receive(ws, timeout=3600))

    async def until(self, count: int) -> None:
        async with asyncio.timeout(WAIT):
            while len(self.messages) < count:
                assert not self._task.done(), self.messages[-1:]
                await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


async def test_a_subscriber_that_does_not_read_is_closed_and_its_queue_stays_bounded(
    server_db: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    factory = server_db.factory
    async with factory.db() as session:
        center = await session.get(models.Center, server_db.environment.center_id)
    assert center is not None
    room = await factory.environment(center, code=f"Q{uuid.uuid4().hex[:6]}")
    await execute(server_db.url, "UPDATE environments SET description = repeat('q', 60000) WHERE id = $1", room.id)
    item = await factory.item(room, quantity=2)
    slow_user, fast_user = await supervisors(server_db, room, 2)
    environment = gid("Environment", room.id)
    async with in_process(server_db) as server, raw_socket(server.ws_url, max_size=None) as fast_ws:
        await acknowledged(fast_ws, fast_user.token)
        await send_subscribe(fast_ws, "fast", STOCK_BIG, environmentId=environment)
        await raw_until_ready(fast_ws, "fast", lambda: restock(factory.db, fast_user, item.id))
        fast = Reader(fast_ws)
        async with reluctant_socket(server.ws_url, server.port) as slow:
            await acknowledged(slow, slow_user.token)
            await send_subscribe(slow, "slow", STOCK_BIG, environmentId=environment)
            await raw_until_ready(slow, "slow", lambda: restock(factory.db, slow_user, item.id))
            [group] = server.hub.live_groups()  # one shape: one group for both
            [member] = [m for m in group.members if m.operation_id == "slow"]
            event = await latest_stock_event(server_db, item.id)
            # The slow client reads no more. The same event again and again, each one waited
            # for by the subscriber who keeps up.
            await asyncio.sleep(0)
            base = len(fast.messages)
            most_queued = most_pending = sent = 0
            while not member.behind:
                assert sent < 2000, "never disconnected"
                await server.hub.dispatch([event])
                sent += 1
                await fast.until(base + sent)
                most_queued = max(most_queued, member.queued())
                most_pending = max(most_pending, group.pending())
            code, reason, _ = await closed_with(slow, timeout=60)
        assert (code, reason) == (1008, "Subscriber fell behind")
        assert most_queued <= QUEUE
        assert most_pending <= QUEUE
        # The other goes on, in the same group, alone now.
        await server.hub.dispatch([event])
        await fast.until(base + sent + 1)
        assert [len(g.members) for g in server.hub.live_groups()] == [1]
        await fast.stop()
    # Messages were still queued for it when it was closed: they are dropped quietly.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    print(f"\nclosed 1008 after {sent} events it did not read; at most {most_queued} messages queued for it")


async def test_an_open_subscription_holds_no_database_connection(server_db: Seeded) -> None:
    item = await server_db.new_item(quantity=5)
    variables = {"environmentId": gid("Environment", server_db.environment.id)}
    people = await supervisors(server_db, server_db.environment, 3)
    async with in_process(server_db) as server:
        pool = server.app.state.engine.pool
        async with contextlib.AsyncExitStack() as stack:
            streams = []
            for person in people:
                session = await stack.enter_async_context(gql_socket(server.ws_url, person.token))
                streams.append(Stream(session, STOCK, variables))
                await until_ready(streams[-1], lambda: restock(server_db.factory.db, server_db.supervisor, item.id))
            await settled(server_db, item.id, streams)
            # Subscribing checked the room (a query); each event rendered with a connection of
            # its own, returned after: none is held by the three live subscriptions.
            assert pool.checkedout() == 0
            for stream in streams:
                await stream.stop()
        assert pool.checkedout() == 0
