"""No committed event is lost or repeated when the listener loses its connection: its backend
is terminated during a burst of 200 stock movements, and PostgreSQL is restarted during
another. Each subscriber (two scopes: two renderings) gets every committed movement exactly
once, in commit order. A PostgreSQL of this module's own, as in test_db_faults.py: the
session one is shared by the whole run and must never be restarted."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from graphql_api.db import models
from graphql_api.db.embedded import EmbeddedPostgres, free_port
from graphql_api.db.migrate import upgrade
from graphql_api.services.ledger import STOCK_CHANGED
from tests.conftest import Actor, gid
from tests.server.conftest import Seeded, ServerProcess, execute, process_env, seed, uvicorn_command
from tests.server.live import STOCK, Stream, gql_socket, restock, until_ready

pytestmark = pytest.mark.server

BURST = 200
WAIT = 90  # generous: the listener backs off up to 5 s between attempts while PostgreSQL is down


@pytest.fixture(scope="module")
async def own_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[EmbeddedPostgres, Seeded]]:
    postgres = EmbeddedPostgres(tmp_path_factory.mktemp("outboxpg") / "data", fast_unsafe=True)
    try:
        await asyncio.to_thread(postgres.start)
        await asyncio.to_thread(postgres.create_database, "outbox")
        # Durable commits on this database (fast_unsafe turns them off server-wide): a commit
        # acknowledged before a fast shutdown must still be there after it.
        await execute(postgres.url(), "ALTER DATABASE outbox SET synchronous_commit = on")
        await asyncio.to_thread(upgrade, postgres.url("outbox"))
        seeded = await seed(postgres.url("outbox"))
        try:
            yield postgres, seeded
        finally:
            await seeded.dispose()
    finally:
        await asyncio.to_thread(postgres.destroy)


@pytest.fixture(scope="module")
def server(
    own_db: tuple[EmbeddedPostgres, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    port = free_port()
    # A slow poll: only NOTIFY and the catch-up after reconnecting may find the events.
    env = process_env(DATABASE_URL=own_db[1].url, OUTBOX_POLL_SECONDS="3600", SCHEDULER_ENABLED="false")
    process = ServerProcess(uvicorn_command(port), env, port, tmp_path_factory.mktemp("outboxserver") / "uvicorn.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def burst(seeded: Seeded, actor: Actor, item: models.InventoryItem, count: int) -> int:
    """`count` committed movements of +1; one that fails (the database going away) is retried.
    How many attempts failed."""
    failed = 0
    done = 0
    while done < count:
        try:
            await restock(seeded.factory.db, actor, item.id)
            done += 1
        except Exception:  # connection lost, restarting: compare-and-swap makes a retry safe
            failed += 1
            await asyncio.sleep(0.05)
    return failed


async def committed_movements(url: str, item_id: Any) -> list[str]:
    """The movement of each committed stock event of the item, in outbox (commit) order."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT data->>'movement' AS movement FROM outbox_events WHERE topic = $1 AND subject_id = $2 ORDER BY id",
            STOCK_CHANGED,
            item_id,
        )
    finally:
        await connection.close()
    return [gid("InventoryMovement", row["movement"]) for row in rows]


def movements(stream: Stream, item_id: Any) -> list[str]:
    wanted = gid("InventoryItem", item_id)
    return [
        r["itemStockChanged"]["movement"]["id"] for r in stream.results if r["itemStockChanged"]["item"]["id"] == wanted
    ]


async def quarter_done(seeded: Seeded, item: models.InventoryItem, driving: asyncio.Task[int]) -> None:
    """Wait until a quarter of the burst is committed: the fault then falls in its middle."""
    async with asyncio.timeout(WAIT):
        while len(await committed_movements(seeded.url, item.id)) < BURST // 4:
            assert not driving.done(), "the burst ended before the fault"
            await asyncio.sleep(0.01)


async def listener_backends(url: str) -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'graphql-api-listener'"
            " AND datname = current_database()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def terminate(url: str, pid: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def two_subscribers(server: ServerProcess, seeded: Seeded, item: models.InventoryItem) -> AsyncIterator[Any]:
    """A supervisor of the room and an ADMIN_GENERAL (another scope), both live."""
    admin = await seeded.factory.user(models.Role.ADMIN_GENERAL, email=f"ag{time.monotonic_ns()}@test.local")
    room = {"environmentId": gid("Environment", seeded.environment.id)}
    async with gql_socket(server.ws_url, seeded.supervisor.token) as one, gql_socket(server.ws_url, admin.token) as two:
        streams = [Stream(one, STOCK, room), Stream(two, STOCK, room)]
        for stream in streams:
            await until_ready(stream, lambda: restock(seeded.factory.db, seeded.supervisor, item.id))
        try:
            yield streams
        finally:
            for stream in streams:
                await stream.stop()


async def received_all(streams: list[Stream], seeded: Seeded, item: models.InventoryItem) -> list[str]:
    expected = await committed_movements(seeded.url, item.id)
    for stream in streams:
        await stream.until(lambda _, s=stream: movements(s, item.id)[-1:] == expected[-1:], timeout=WAIT)
    return expected


def assert_exactly_once_in_order(streams: list[Stream], expected: list[str], item: models.InventoryItem) -> None:
    for stream in streams:
        got = movements(stream, item.id)
        # Pokes made before a subscription was live are not expected: compare from its first.
        tail = expected[expected.index(got[0]) :]
        assert got == tail, f"{len(got)} received, {len(tail)} committed since; first difference at " + str(
            next((n for n, (a, b) in enumerate(zip(got, tail, strict=False)) if a != b), min(len(got), len(tail)))
        )


async def test_listener_terminated_during_a_burst(
    own_db: tuple[EmbeddedPostgres, Seeded], server: ServerProcess
) -> None:
    _, seeded = own_db
    item = await seeded.new_item(quantity=5)
    async with two_subscribers(server, seeded, item) as streams:
        driving = asyncio.create_task(burst(seeded, seeded.supervisor, item, BURST))
        await quarter_done(seeded, item, driving)
        [killed] = await listener_backends(seeded.url)
        await terminate(seeded.url, killed)
        assert await driving == 0
        expected = await received_all(streams, seeded, item)
    assert_exactly_once_in_order(streams, expected, item)
    # The events after the fault came through a new listener connection.
    [listening] = await listener_backends(seeded.url)
    assert listening != killed


async def test_postgres_restarted_during_a_burst(
    own_db: tuple[EmbeddedPostgres, Seeded], server: ServerProcess
) -> None:
    postgres, seeded = own_db
    item = await seeded.new_item(quantity=5)
    async with two_subscribers(server, seeded, item) as streams:
        driving = asyncio.create_task(burst(seeded, seeded.supervisor, item, BURST))
        await quarter_done(seeded, item, driving)
        await asyncio.to_thread(postgres.stop, "fast")
        await asyncio.to_thread(postgres.start)
        failed = await driving
        expected = await received_all(streams, seeded, item)
    assert_exactly_once_in_order(streams, expected, item)
    print(f"restart: {failed} attempts failed while PostgreSQL was down; {len(expected)} events committed")
    assert "Traceback" not in server.log(limit=1_000_000)
