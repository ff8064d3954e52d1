"""Database faults against a real server process (security-and-faults.md §6, F01-F05).

These tests stop, restart and kill PostgreSQL, so they run on a PostgreSQL of their own (not the
session one other tests use). Expected every time: a clear top-level `DB_UNAVAILABLE` with a
`reason`, the process still answering, nothing half-written, and recovery without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphql_api.db.embedded import EmbeddedPostgres, free_port
from graphql_api.db.migrate import upgrade
from tests.conftest import PASSWORD, gid, without_cost
from tests.server.conftest import (
    ADJUST,
    Seeded,
    ServerProcess,
    StartServer,
    adjust_input,
    execute,
    fetchval,
    item_state,
    pending,
    post_graphql,
    process_env,
    row_lock,
    seed,
    top_error,
    uvicorn_command,
    wait_for_lock_waiter,
)

pytestmark = pytest.mark.server

ME = "{ me { id } }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { __typename }
}
"""


class FaultDB:
    def __init__(self, postgres: EmbeddedPostgres, seeded: Seeded) -> None:
        self.postgres = postgres
        self.seeded = seeded
        self.url = seeded.url

    def ensure_running(self) -> None:
        if self.postgres.running_port() is None:
            self.postgres.start()


@pytest.fixture(scope="module")
async def fault_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultDB]:
    postgres = EmbeddedPostgres(tmp_path_factory.mktemp("faultpg") / "data", fast_unsafe=True)
    try:
        await asyncio.to_thread(postgres.start)
        await asyncio.to_thread(postgres.create_database, "faults")
        url = postgres.url("faults")
        # fast_unsafe turns synchronous_commit off: an immediate stop (F01) would then lose
        # recent commits, and could hide a half-written row. Per-database settings win over
        # the server's command line, so commits on this database are durable again (fsync=off
        # only matters for an OS crash, not a PostgreSQL crash).
        await execute(postgres.url(), "ALTER DATABASE faults SET synchronous_commit = on")
        await asyncio.to_thread(upgrade, url)
        seeded = await seed(url)
        try:
            yield FaultDB(postgres, seeded)
        finally:
            await seeded.dispose()
    finally:
        await asyncio.to_thread(postgres.destroy)


@pytest.fixture(scope="module")
def shared_server(fault_db: FaultDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server with default settings for F02, F03 and F01 in turn: the same process has to
    come back after each fault (and it saves two start-ups)."""
    port = free_port()
    log = tmp_path_factory.mktemp("faultserver") / "uvicorn.log"
    server = ServerProcess(uvicorn_command(port), process_env(DATABASE_URL=fault_db.url), port, log)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def db(fault_db: FaultDB) -> AsyncIterator[FaultDB]:
    """The fault PostgreSQL, running at the start and at the end of every test."""
    fault_db.ensure_running()
    try:
        yield fault_db
    finally:
        await asyncio.to_thread(fault_db.ensure_running)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Generous client timeout: a hang fails the test instead of blocking the run.
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def me_ok(http: httpx.AsyncClient, url: str, db: FaultDB) -> None:
    status, result = await post_graphql(http, url, ME, token=db.seeded.supervisor.token)
    assert status == 200
    assert without_cost(result) == {"data": {"me": {"id": db.seeded.supervisor.gid}}}, result


def assert_no_internal_errors(server: ServerProcess) -> None:
    # Every failure above must be classified: an INTERNAL error is logged as "unexpected error".
    log = server.log(limit=1_000_000)
    assert "unexpected error" not in log, log
    assert "Traceback" not in log, log


async def health(http: httpx.AsyncClient, base_url: str) -> tuple[int, int, dict[str, Any]]:
    live = await http.get(f"{base_url}/health/live")
    ready = await http.get(f"{base_url}/health/ready")
    return live.status_code, ready.status_code, ready.json()


async def test_commits_are_durable(db: FaultDB) -> None:
    assert await fetchval(db.url, "SHOW synchronous_commit") == "on"


async def test_f02_request_while_database_down(
    shared_server: ServerProcess, db: FaultDB, http: httpx.AsyncClient
) -> None:
    server = shared_server
    await me_ok(http, server.graphql_url, db)  # the pool now holds a connection

    await asyncio.to_thread(db.postgres.stop, "fast")

    started = time.monotonic()
    status, result = await post_graphql(http, server.graphql_url, ME, token=db.seeded.supervisor.token)
    elapsed_query = time.monotonic() - started
    assert status == 200
    assert result.get("data") is None
    assert top_error(result) == {"code": "DB_UNAVAILABLE", "reason": "CONNECTION"}

    started = time.monotonic()
    status, result = await post_graphql(
        http, server.graphql_url, LOGIN, {"email": db.seeded.supervisor.user.email, "password": PASSWORD}
    )
    elapsed_mutation = time.monotonic() - started
    assert status == 200
    assert top_error(result) == {"code": "DB_UNAVAILABLE", "reason": "CONNECTION"}
    # Refused connections must not wait for the 3 s connect timeout.
    assert elapsed_query < 2.5, elapsed_query
    assert elapsed_mutation < 2.5, elapsed_mutation
    print(f"F02 DB_UNAVAILABLE after {elapsed_query:.3f} s (query), {elapsed_mutation:.3f} s (mutation)")

    live, ready, ready_body = await health(http, server.base_url)
    assert (live, ready) == (200, 503)
    assert ready_body == {"status": "unavailable", "database": "CONNECTION"}
    status, result = await post_graphql(http, server.graphql_url, "{ __typename }")
    assert (status, without_cost(result)) == (200, {"data": {"__typename": "Query"}})

    await asyncio.to_thread(db.postgres.start)
    await me_ok(http, server.graphql_url, db)
    live, ready, _ = await health(http, server.base_url)
    assert (live, ready) == (200, 200)
    assert server.alive()
    assert_no_internal_errors(server)


async def test_f03_restart_without_traffic_then_every_request_succeeds(
    shared_server: ServerProcess, db: FaultDB, http: httpx.AsyncClient
) -> None:
    server = shared_server
    # Several concurrent requests so the pool holds more than one (soon stale) connection.
    await asyncio.gather(*(me_ok(http, server.graphql_url, db) for _ in range(4)))

    await asyncio.to_thread(db.postgres.stop, "fast")
    await asyncio.to_thread(db.postgres.start)

    for _ in range(3):
        await me_ok(http, server.graphql_url, db)
    status, result = await post_graphql(
        http, server.graphql_url, "{ items(first: 1) { totalCount } }", token=db.seeded.supervisor.token
    )
    assert status == 200
    assert "errors" not in result, result
    assert_no_internal_errors(server)


async def test_f01_postgres_killed_during_in_flight_mutation(
    shared_server: ServerProcess, db: FaultDB, http: httpx.AsyncClient
) -> None:
    server = shared_server
    item = await db.seeded.new_item(quantity=5)
    item_id = gid("InventoryItem", item.id)
    before = await item_state(db.url, item.id)
    assert before == (5, 1)

    async with (
        row_lock(db.url, item.id),
        pending(
            post_graphql(http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=db.seeded.supervisor.token)
        ) as request,
    ):
        await wait_for_lock_waiter(db.url)
        killed = time.monotonic()
        await asyncio.to_thread(db.postgres.stop, "immediate")
        status, result = await asyncio.wait_for(request, 20)
        elapsed = time.monotonic() - killed
    assert status == 200
    assert result.get("data") is None, result
    assert top_error(result) == {"code": "DB_UNAVAILABLE", "reason": "CONNECTION"}
    assert elapsed < 10, elapsed
    print(f"F01 DB_UNAVAILABLE {elapsed:.3f} s after the kill")

    live, ready, _ = await health(http, server.base_url)
    assert (live, ready) == (200, 503)

    await asyncio.to_thread(db.postgres.start)
    assert await item_state(db.url, item.id) == before
    audited = await fetchval(
        db.url, "SELECT count(*) FROM audit_logs WHERE operation = 'adjustItemStock' AND entity_id = $1", item.id
    )
    assert audited == 0

    # The same process recovers: the mutation now goes through.
    status, result = await post_graphql(
        http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=db.seeded.supervisor.token
    )
    assert status == 200
    assert result["data"]["adjustItemStock"]["item"]["quantity"] == 6, result
    assert await item_state(db.url, item.id) == (6, 2)
    assert_no_internal_errors(server)


async def test_f04_statement_timeout_on_a_blocked_mutation(
    start_server: StartServer, db: FaultDB, http: httpx.AsyncClient
) -> None:
    server = start_server(db.url, DB_STATEMENT_TIMEOUT_MS="1000")
    item = await db.seeded.new_item(quantity=5)
    item_id = gid("InventoryItem", item.id)

    async with row_lock(db.url, item.id):
        started = time.monotonic()
        status, result = await post_graphql(
            http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=db.seeded.supervisor.token
        )
        elapsed = time.monotonic() - started
    assert status == 200
    assert top_error(result) == {"code": "DB_UNAVAILABLE", "reason": "TIMEOUT"}
    # statement_timeout is 1 s; the bound only proves it did not wait for the lock holder.
    assert 0.9 < elapsed < 10, elapsed
    print(f"F04 DB_UNAVAILABLE/TIMEOUT after {elapsed:.3f} s (statement_timeout 1 s)")
    assert await item_state(db.url, item.id) == (5, 1)

    status, result = await post_graphql(
        http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=db.seeded.supervisor.token
    )
    assert result["data"]["adjustItemStock"]["item"]["quantity"] == 6, result
    assert_no_internal_errors(server)


async def test_f05_pool_exhaustion(start_server: StartServer, db: FaultDB, http: httpx.AsyncClient) -> None:
    server = start_server(db.url, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT_SECONDS="1")
    item = await db.seeded.new_item(quantity=5)
    item_id = gid("InventoryItem", item.id)
    token = db.seeded.supervisor.token

    async with (
        row_lock(db.url, item.id) as lock,
        pending(post_graphql(http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=token)) as holder,
    ):
        await wait_for_lock_waiter(db.url)

        started = time.monotonic()
        results = await asyncio.gather(
            post_graphql(http, server.graphql_url, ME, token=token),
            post_graphql(
                http, server.graphql_url, LOGIN, {"email": db.seeded.supervisor.user.email, "password": PASSWORD}
            ),
        )
        elapsed = time.monotonic() - started
        for status, result in results:
            assert status == 200
            assert top_error(result) == {"code": "DB_UNAVAILABLE", "reason": "POOL_EXHAUSTED"}
        # DB_POOL_TIMEOUT_SECONDS=1: "within a few seconds", not after the lock holder.
        assert elapsed < 10, elapsed
        print(f"F05 DB_UNAVAILABLE/POOL_EXHAUSTED after {elapsed:.3f} s (pool timeout 1 s)")

        live = await http.get(f"{server.base_url}/health/live")
        ready = await http.get(f"{server.base_url}/health/ready")
        assert live.status_code == 200
        assert (ready.status_code, ready.json()["database"]) == (503, "POOL_EXHAUSTED")
        assert not holder.done()

        await lock.release()
        status, result = await asyncio.wait_for(holder, 20)
    assert status == 200
    assert result["data"]["adjustItemStock"]["item"]["quantity"] == 6, result
    assert await item_state(db.url, item.id) == (6, 2)
    await me_ok(http, server.graphql_url, db)
    assert_no_internal_errors(server)


def test_fault_postgres_is_separate(fault_db: FaultDB, postgres: EmbeddedPostgres) -> None:
    # Guard: the faults above must never touch the session PostgreSQL other tests use.
    assert fault_db.postgres.data_dir != postgres.data_dir
    assert fault_db.postgres.port != postgres.port
    assert Path(fault_db.postgres.data_dir).exists()
