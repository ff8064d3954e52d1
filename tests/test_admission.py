"""Heavy operations wait their turn without a connection, and are shed when the queue is full,
while cheap ones and the health check are answered (issue 10, item 15b).

No timing: a heavy mutation is made to hold its turn by a row lock on the item it changes, and
the test waits for states (the admission's running and waiting cost, a statement waiting on
the lock), then counts what happened: connections checked out, rows written, answers given.
The app runs in process with ADMISSION_RUNNING_COST=1000 (one heavy operation at a time) and
ADMISSION_QUEUE_COST=2000 (two waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.admission import HEAVY_FROM, Admission, admission
from graphql_api.db import models
from tests.conftest import World, gid
from tests.security import app_client, audit_rows
from tests.server.conftest import pending, row_lock, wait_for_lock_waiter

# Each costs 100 + 100 x 9 = 1000 = HEAVY_FROM = ADMISSION_RUNNING_COST.
HEAVY_QUERY = "{ items(first: 100) { edges { node { movements(first: 9) { totalCount } } } } }"
HEAVY_MUTATION = (
    "mutation Adjust($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename "
    "... on Error { code } ... on AdjustItemStockPayload { item { quantity movements(first: 100) { edges { "
    "node { item { movements(first: 9) { totalCount } } } } } } } } }"
)
SHED_MUTATION = HEAVY_MUTATION.replace("mutation Adjust", "mutation Shed")  # a text of its own


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with app_client(database_url, ADMISSION_RUNNING_COST="1000", ADMISSION_QUEUE_COST="2000") as (http, app):
        yield http, app


def adjust(item: models.InventoryItem) -> dict[str, Any]:
    change = {"itemId": gid("InventoryItem", item.id), "expectedQuantity": item.quantity, "reason": "RESTOCK"}
    return {"input": {**change, "delta": {"quantity": 1}}}


async def post(http: httpx.AsyncClient, token: str, query: str, variables: Any = None) -> httpx.Response:
    body = {"query": query, **({"variables": variables} if variables is not None else {})}
    return await http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the state was never reached")


async def movement_count(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.InventoryMovement)) or 0)


def test_the_test_operations_are_heavy() -> None:
    assert HEAVY_FROM == 1000


async def test_heavy_operations_queue_without_connections_and_are_shed_when_full(
    limited: tuple[httpx.AsyncClient, Any], world: World, db: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    http, server = limited
    queue: Admission = admission(1000, 2000)
    token = world.admin_general.token
    locked, other = world.items["aw"][1], world.items["a1"][1]  # groups of 10
    movements_before = await movement_count(db)
    async with (
        row_lock(database_url, locked.id) as lock,
        pending(post(http, token, HEAVY_MUTATION, adjust(locked))) as running,
    ):
        await wait_for_lock_waiter(database_url)
        assert (queue.running, queue.waiting) == (1000, 0)
        # Two wait: the same mutation again (direct path; run now, it would wait on the lock
        # holding a connection), and a heavy query (strawberry's path, first of its text).
        async with pending(post(http, token, HEAVY_MUTATION, adjust(locked))) as second:
            await until(lambda: queue.waiting == 1000)
            async with pending(post(http, token, HEAVY_QUERY)) as third:
                await until(lambda: queue.waiting == 2000)
                assert server.state.engine.pool.checkedout() == 1  # the running mutation's

                # Cheap requests and the health check are answered meanwhile.
                me = (await post(http, world.student.token, "{ me { id } }")).json()
                assert me["data"] == {"me": {"id": world.student.gid}}
                assert (await http.get("/health/live")).status_code == 200

                # Full: the next heavy operation is shed, on both paths, and changes nothing.
                for _path in ("strawberry", "direct"):
                    assert_shed(await post(http, token, SHED_MUTATION, adjust(other)))
                assert (queue.running, queue.waiting) == (1000, 2000)

                await lock.release()
                answers = [(await task).json() for task in (running, second, third)]
    assert answers[0]["data"]["adjustItemStock"]["item"]["quantity"] == 11
    assert answers[1]["data"]["adjustItemStock"]["__typename"] == "ConflictError"  # it expected 10
    assert len(answers[2]["data"]["items"]["edges"]) == 10
    assert (queue.running, queue.waiting) == (0, 0)
    # Nothing from the shed mutations: no movement, no audit row (they never ran).
    assert await movement_count(db) == movements_before + 1
    assert [row.operation for row in await audit_rows(db)] == ["adjustItemStock"] * 2
    async with db() as session:
        assert (await session.get(models.InventoryItem, other.id)).quantity == 10  # type: ignore[union-attr]


def assert_shed(response: httpx.Response) -> None:
    assert response.status_code == 200
    seconds = int(response.headers["retry-after"])
    assert seconds >= 1
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [{"code": "RATE_LIMITED", "retryAfterSeconds": seconds}]


async def test_a_client_that_leaves_while_waiting_gives_up_its_place() -> None:
    queue = Admission(capacity=1000, queue_capacity=2000)
    ticket = await queue.admit(1000)
    waiter = asyncio.create_task(queue.admit(1000))
    await until(lambda: queue.waiting == 1000)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (queue.running, queue.waiting) == (1000, 0)
    assert ticket is not None
    ticket.release()
    ticket.release()  # idempotent
    assert (queue.running, queue.waiting) == (0, 0)
    assert await queue.admit(HEAVY_FROM - 1) is None  # cheap: no turn taken
