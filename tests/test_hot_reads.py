"""The hot read path (graphql_api.db.reads), the verified-token cache and the pool's
connection check that replaced SQLAlchemy's pre-ping round trips."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.auth import tokens
from graphql_api.db import models, reads
from graphql_api.settings import Settings
from tests.conftest import Factory, GraphQLClient, World, gid, make_settings


def _blank(model: Any, value: Any) -> dict[str, Any]:
    return dict.fromkeys((column.key for column in reads.model_columns(model)), value)


def test_row_class_has_the_model_columns_and_properties() -> None:
    cls = reads.row_class(models.InventoryItem)
    assert cls is reads.row_class(models.InventoryItem)  # built once
    row = cls(**_blank(models.InventoryItem, 0) | {"quantity": 5, "quantity_damaged": 1, "quantity_on_loan": 2})
    assert row.quantity_available == 2
    user = reads.row_class(models.User)(**_blank(models.User, None) | {"first_name": "Ana", "last_name": "Ruiz"})
    assert user.full_name == "Ana Ruiz"


def test_secret_columns_are_never_read() -> None:
    """The authentication statement and the user loader read users without the password
    hash: the reads path skips columns marked secret."""
    assert "password_hash" in {attr.key for attr in inspect(models.User).column_attrs}
    assert "password_hash" not in {column.key for column in reads.model_columns(models.User)}
    assert "password_hash" not in reads.row_class(models.User).__slots__
    from graphql_api.services.auth import _PRINCIPAL

    assert "password_hash" not in _PRINCIPAL.compiled().sql


async def test_raw_rows_convert_enums_like_the_orm(engine: AsyncEngine, factory: Factory, world: World) -> None:
    from graphql_api.api.items.loaders import ITEM_BY_ID
    from graphql_api.auth.scope import Principal

    item = world.items["aw"][0]
    everyone = Principal(uuid.uuid4(), models.Role.ADMIN_GENERAL, None, None, "es", 1)
    compiled = ITEM_BY_ID._statement.compiled(everyone)
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        records = await reads.fetch(driver, compiled, {"ids": [item.id]})
        [row] = reads.rows(records, compiled, ITEM_BY_ID.row_class)
    assert row.id == item.id
    assert row.category is item.category
    assert row.status is models.ItemStatus.ACTIVE
    assert row.quantity_available == item.quantity_available


async def test_scoped_statements_are_compiled_once_per_shape(gql: GraphQLClient, world: World) -> None:
    """Two students of different rooms share the compiled text; each sees only their room."""
    from graphql_api.api.items.loaders import ITEM_BY_ID

    mine, theirs = world.items["a1"][0], world.items["b1"][0]
    query = "query ($id: ID!) { node(id: $id) { id } }"
    seen = []
    for actor in (world.student, world.student_b):
        for item in (mine, theirs):
            data = await gql.data(query, {"id": gid("InventoryItem", item.id)}, token=actor)
            seen.append(data["node"] is not None)
    assert seen == [True, False, False, True]
    shapes = [key for key in ITEM_BY_ID._statement._compiled if key[0][0] is models.Role.STUDENT]
    assert len(shapes) == 1


async def test_child_counts_are_compiled_once_per_shape_and_scoped(engine: AsyncEngine, world: World) -> None:
    """A child count (environments per center) is built for the caller's shape; each caller's
    own ids are its parameters: two students of different rooms count only their room."""
    from graphql_api.api.organization.loaders import ENVIRONMENTS_OF_CENTER
    from graphql_api.auth import scope

    counts = ENVIRONMENTS_OF_CENTER.counts
    counted = []
    for actor in (world.student, world.student_b):
        principal = actor.principal
        compiled = counts._statement.compiled(principal)
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            keys = [world.center_a.id, world.center_b.id]
            records = await reads.fetch(driver, compiled, {**scope.parameters(principal), "keys": keys})
        counted.append({parent: count for parent, count in records})  # noqa: C416
    assert counted == [{world.center_a.id: 1}, {world.center_b.id: 1}]
    assert len([key for key in counts._statement._compiled if key[0][0] is models.Role.STUDENT]) == 1


def test_verified_tokens_are_cached_but_expiry_is_checked_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings()
    user_id = uuid.uuid4()
    token, expires = tokens.issue_access_token(settings, user_id=user_id, role=models.Role.STUDENT, token_version=1)
    first = tokens.decode_access_token(settings, token)
    assert first is not None
    assert first.user_id == user_id
    assert tokens.decode_access_token(settings, token) is first  # served from the cache
    # Another secret (another deployment, a rotated key) never accepts it, cached or not.
    other = make_settings(SECRET_KEY="another-secret-key-of-at-least-32-bytes!")
    assert tokens.decode_access_token(other, token) is None
    # Past the expiry (plus the same leeway PyJWT applies) the cached entry is refused.
    later = expires.timestamp() + tokens.LEEWAY_SECONDS + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    assert tokens.decode_access_token(settings, token) is None


def test_the_token_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "MAX_VERIFIED", 5)
    settings = make_settings()
    for _ in range(12):
        token, _ = tokens.issue_access_token(settings, user_id=uuid.uuid4(), role=models.Role.STUDENT, token_version=1)
        assert tokens.decode_access_token(settings, token) is not None
    assert len(tokens._VERIFIED) <= 5


def test_expired_tokens_are_never_cached() -> None:
    settings = make_settings()
    token, _ = tokens.issue_access_token(
        settings,
        user_id=uuid.uuid4(),
        role=models.Role.STUDENT,
        token_version=1,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert tokens.decode_access_token(settings, token) is None
    assert not any(key[-1] == token for key in tokens._VERIFIED)


async def test_connections_killed_by_the_server_are_replaced_without_a_failed_request(
    gql: GraphQLClient, world: World, engine: AsyncEngine, settings: Settings
) -> None:
    """What pre-ping is for: a backend terminated while idle in the pool (restart, failover,
    an administrator) is noticed at checkout and replaced; no request sees the error."""
    query = "{ me { id } }"
    # Several concurrent requests, so that several connections sit in the pool.
    await asyncio.gather(*(gql.data(query, token=world.admin) for _ in range(4)))
    async with engine.connect() as admin:
        terminated = await admin.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'graphql-api' AND pid <> pg_backend_pid() AND state = 'idle'"
            )
        )
        await admin.rollback()
    assert terminated >= 1
    await asyncio.sleep(0.2)  # the event loop reads the servers' goodbye from the sockets
    started = time.monotonic()
    results = await asyncio.gather(*(gql.execute(query, token=world.admin) for _ in range(4)))
    assert all("errors" not in result for result in results), results
    assert time.monotonic() - started < 5


async def test_the_same_invalid_document_gives_the_same_errors_each_time(gql: GraphQLClient, world: World) -> None:
    document = "{ me { nope } }"
    first: Any = await gql.execute(document, token=world.student)
    second: Any = await gql.execute(document, token=world.student)
    assert first == second
    assert first["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_startup_objects_are_frozen_out_of_full_collections(settings: Settings) -> None:
    import gc

    from graphql_api.app import create_app

    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


async def test_stock_updates_of_two_admins_of_the_same_shape_stay_in_their_own_rooms(
    gql: GraphQLClient, world: World
) -> None:
    """The compare-and-swap UPDATE is built once for the ADMIN shape; each admin's own ids
    are the parameters (A's warehouse item is not B's to adjust, and vice versa)."""
    mutation = """mutation ($id: ID!, $q: Int!) { adjustItemStock(input: {itemId: $id, expectedQuantity: $q,
      delta: {quantity: 1}, reason: RESTOCK}) { __typename } }"""
    outcomes = []
    for actor, item in (
        (world.admin, world.items["aw"][1]),
        (world.admin_b, world.items["aw"][1]),
        (world.admin_b, world.items["bw"][1]),
        (world.admin, world.items["bw"][1]),
    ):
        data = await gql.data(mutation, {"id": gid("InventoryItem", item.id), "q": item.quantity}, token=actor)
        outcomes.append(data["adjustItemStock"]["__typename"])
    assert outcomes == ["AdjustItemStockPayload", "NotFoundError", "AdjustItemStockPayload", "NotFoundError"]


async def test_sibling_fields_share_one_authentication(gql: GraphQLClient, world: World, count_statements: Any) -> None:
    item = world.items["a1"][0]
    query = (
        f'{{ me {{ id }} a: node(id: "{gid("InventoryItem", item.id)}") {{ id }} b: items(first: 1) {{ totalCount }} }}'
    )
    with count_statements() as counted:
        data = await gql.data(query, token=world.student)
    assert data["me"]["id"]
    assert data["a"]["id"]
    # authentication once, item_by_id, the items count
    assert counted.value == 3


FRAGMENT_PAGE = """
query { items(first: 50) { ...Page } }
fragment Page on InventoryItemConnection { edges { node { ... on InventoryItem { ...Counts environment { name } } } } }
fragment Counts on InventoryItem { movements(first: 2) { totalCount } alias: movements { totalCount } }
"""


async def test_movement_counts_of_a_page_through_fragments_and_aliases(
    gql: GraphQLClient, world: World, count_statements: Any
) -> None:
    """Every count of the page, right for each item, whether selected directly, through
    fragments or under an alias, costs no statement (the items keep their counts)."""
    with count_statements() as counted:
        data = await gql.data(FRAGMENT_PAGE, token=world.admin_general)
    nodes = [edge["node"] for edge in data["items"]["edges"]]
    assert len(nodes) == sum(len(items) for items in world.items.values())
    assert all(node["movements"]["totalCount"] == node["alias"]["totalCount"] for node in nodes)
    assert all(node["movements"]["totalCount"] >= 1 for node in nodes)  # the INITIAL movement
    assert counted.value == 2  # authentication, the page


async def test_to_one_fields_load_only_when_selected(gql: GraphQLClient, world: World, count_statements: Any) -> None:
    item_id = gid("InventoryItem", world.items["a1"][0].id)
    cases = {
        f'{{ item(id: "{item_id}") {{ name }} }}': 2,
        f'{{ item(id: "{item_id}") {{ environment {{ name }} }} }}': 3,
        f'{{ item(id: "{item_id}") {{ environment {{ center {{ name }} }} }} }}': 4,
    }
    for query, statements in cases.items():
        with count_statements() as counted:
            data = await gql.data(query, token=world.admin_general)
        assert data["item"] is not None
        assert counted.value == statements, query


async def test_a_list_total_count_selected_twice_is_counted_once(
    gql: GraphQLClient, world: World, count_statements: Any
) -> None:
    with count_statements() as counted:
        data = await gql.data("{ items(first: 0) { a: totalCount b: totalCount } }", token=world.admin_general)
    assert data["items"]["a"] == data["items"]["b"] > 0
    assert counted.value == 2


async def test_only_settled_loader_futures_count_as_values_at_hand() -> None:
    import asyncio

    from graphql_api.api.core.pagination import Deferred, now_or_later

    loop = asyncio.get_running_loop()
    done, failed, cancelled, pending = (loop.create_future() for _ in range(4))
    done.set_result(7)
    failed.set_exception(RuntimeError("batch failed"))
    failed.exception()
    cancelled.cancel()
    assert now_or_later(done, lambda: 0) == 7
    for future in (failed, cancelled, pending, None):
        assert isinstance(now_or_later(future, lambda: 0), Deferred)
    assert await now_or_later(None, lambda: 5) == 5
    pending.cancel()


async def test_slow_callback_watch_logs_callbacks_that_hold_the_event_loop(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """SLOW_CALLBACK_MS (used by the benchmark's event-loop check) logs a blocking callback."""
    import dataclasses
    import gc

    from graphql_api.app import create_app

    loop = asyncio.get_running_loop()
    app = create_app(dataclasses.replace(settings, slow_callback_ms=20))
    try:
        async with app.router.lifespan_context(app):
            assert loop.get_debug()
            loop.call_soon(time.sleep, 0.05)
            await asyncio.sleep(0.01)
            loop.call_soon(time.sleep, 0.001)
            await asyncio.sleep(0.01)
    finally:
        loop.set_debug(False)
        gc.unfreeze()
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert any("sleep(0.05)" in message for message in slow), slow
    assert not any("sleep(0.001)" in message for message in slow), slow


def test_slow_callback_watch_is_off_by_default() -> None:
    assert make_settings().slow_callback_ms == 0
    assert make_settings(SLOW_CALLBACK_MS="50").slow_callback_ms == 50


@contextlib.asynccontextmanager
async def other_request() -> AsyncIterator[list[int]]:
    """A task that counts the turns the event loop gives it (in `turns[0]`)."""
    turns = [0]

    async def tick() -> None:
        while True:
            turns[0] += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        yield turns
    finally:
        ticker.cancel()


async def test_paced_edges_give_the_event_loop_turns() -> None:
    """A big page's edges are handed out one by one; after PACE_SECONDS of work the loop runs
    other tasks. Each iteration is complete (a list under two aliases)."""
    from graphql_api.api.core.pagination import PACE_SECONDS, Paced

    def make(row: int) -> int:
        time.sleep(PACE_SECONDS / 2)  # work on one item
        return row * 10

    paced = Paced(list(range(20)), make)
    async with other_request() as turns:
        first = [edge async for edge in paced]
        turns_during_first = turns[0]
        second = [edge async for edge in paced]
    assert first == second == [row * 10 for row in range(20)]
    assert turns_during_first >= 5  # ~10 turns for 20 x PACE/2 of work; 0 without pacing


PACED_PAGE = """
{ items(first: 6) {
    a: edges { cursor node { name environment { name } movements(first: 1) { totalCount } } }
    b: edges { node { id } }
    pageInfo { endCursor hasNextPage }
} }
"""


async def test_paced_pages_answer_like_lists(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch, count_statements: Any
) -> None:
    from graphql_api.api.core.pagination import connections, pacing

    whole = await gql.data(PACED_PAGE, token=world.admin_general)
    monkeypatch.setattr(connections, "PACED_FROM", 2)
    monkeypatch.setattr(pacing, "PACE_SECONDS", 0.0)  # a turn after every edge
    with count_statements() as counted:
        paced = await gql.data(PACED_PAGE, token=world.admin_general)
    assert paced == whole
    assert len(paced["items"]["a"]) == len(paced["items"]["b"]) == 6
    assert counted.value == 2  # authentication, the page (the items keep their movement counts)


async def test_page_rows_are_converted_with_turns_for_the_event_loop() -> None:
    """`paced`: a big page's rows become objects in slices, the loop runs between them."""
    from graphql_api.api.core.pagination import PACE_SECONDS, paced

    def make(row: int) -> int:
        time.sleep(PACE_SECONDS / 32)
        return -row

    async with other_request() as turns:
        rows = [row async for row in paced(range(256), make)]
    assert rows == [-row for row in range(256)]
    assert turns[0] >= 2  # 256 x PACE/32 = 8 x PACE of work, a turn checked every 64 rows


async def test_big_pages_are_completed_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most BIG_PAGES_AT_ONCE paced lists are in progress; an abandoned one frees its slot."""
    from graphql_api.api.core import pagination
    from graphql_api.api.core.pagination import pacing, slots

    monkeypatch.setattr(slots, "BIG_PAGES_AT_ONCE", 1)
    monkeypatch.setattr(pacing, "PACE_SECONDS", 0.0)  # a turn after every item
    monkeypatch.setattr(slots, "_big_pages", weakref.WeakKeyDictionary())
    log: list[str] = []

    async def consume(name: str) -> None:
        async for item in pagination.Paced([1, 2, 3], lambda row: f"{name}{row}"):
            log.append(item)

    abandoned = pagination.Paced([1, 2, 3], lambda row: row).__aiter__()
    assert await abandoned.__anext__() == 1
    await abandoned.aclose()  # e.g. a cancelled request
    await asyncio.wait_for(asyncio.gather(consume("a"), consume("b")), timeout=5)
    assert log == ["a1", "a2", "a3", "b1", "b2", "b3"]  # not interleaved


async def test_requests_with_big_pages_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's big pages share one slot (no deadlock with one slot); another request waits
    until the first has released it; a finished request never takes a slot again."""
    from graphql_api.api.core import pagination
    from graphql_api.api.core.pagination import slots

    monkeypatch.setattr(slots, "BIG_PAGES_AT_ONCE", 1)
    monkeypatch.setattr(slots, "_big_pages", weakref.WeakKeyDictionary())
    first, second = pagination.BigPageSlot(), pagination.BigPageSlot()
    await asyncio.wait_for(asyncio.gather(first.take(), first.take(), first.take()), timeout=5)
    waiting = asyncio.create_task(second.take())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    first.release()
    await asyncio.wait_for(waiting, timeout=5)
    second.release()
    await asyncio.wait_for(first.take(), timeout=5)  # released: takes nothing
    third = pagination.BigPageSlot()
    await asyncio.wait_for(third.take(), timeout=5)  # the one slot is free
    # A request that ends while one of its tasks waits for a slot holds none afterwards.
    fourth = pagination.BigPageSlot()
    waiting = asyncio.create_task(fourth.take())
    await asyncio.sleep(0.01)
    fourth.release()
    third.release()
    await asyncio.wait_for(waiting, timeout=5)
    await asyncio.wait_for(pagination.BigPageSlot().take(), timeout=5)


async def test_concurrent_requests_with_big_pages_all_answer_and_free_their_slots(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the view: with one slot, concurrent requests with big (root and nested) pages
    and a failing one all finish, each with the full answer, and leave the slot free."""
    from graphql_api.api.core import pagination
    from graphql_api.api.core.pagination import connections, slots

    query = "{ items(first: 6) { edges { node { name movements(first: 5) { edges { node { reason } } } } } } }"
    whole = await gql.data(query, token=world.admin_general)
    monkeypatch.setattr(connections, "PACED_FROM", 2)
    monkeypatch.setattr(slots, "BIG_PAGES_AT_ONCE", 1)
    monkeypatch.setattr(slots, "_big_pages", weakref.WeakKeyDictionary())
    bad = gql.post('{ items(first: 6, after: "not-a-cursor") { edges { node { name } } } }', token=world.admin_general)
    answers = await asyncio.wait_for(
        asyncio.gather(*(gql.data(query, token=world.admin_general) for _ in range(4)), bad), timeout=20
    )
    assert answers[:4] == [whole] * 4
    assert answers[4].json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    await asyncio.wait_for(pagination.BigPageSlot().take(), timeout=5)


async def test_a_request_leaves_no_cyclic_garbage_behind(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The objects a page builds (environments, centers, loader futures) are freed by reference
    counting when the response is out (Loaders.release), not by a later full collection."""
    import gc

    from graphql_api.api.core.loaders import Loaders

    built: list[weakref.ref[Any]] = []
    original = Loaders.built

    def tracked(self: Loaders, name: str, key: uuid.UUID, build: Any, row: Any) -> Any:
        value = original(self, name, key, build, row)
        built.append(weakref.ref(value))
        return value

    monkeypatch.setattr(Loaders, "built", tracked)
    query = "{ items(first: 20) { edges { node { environment { name center { name } } } } } }"
    gc.collect()
    gc.disable()
    try:
        await gql.data(query, token=world.admin_general)
        await asyncio.sleep(0)
        assert built
        alive = [ref() for ref in built if ref() is not None]
    finally:
        gc.enable()
    assert alive == []


async def test_nested_big_lists_do_not_wait_for_themselves(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot for big lists, a paced list inside the items of a paced list still
    completes: the inner lists are completed after the outer one has let go of its slot."""
    from graphql_api.api.core.pagination import connections, slots

    query = "{ items(first: 6) { edges { node { name movements(first: 5) { edges { node { reason } } } } } } }"
    whole = await gql.data(query, token=world.admin_general)
    monkeypatch.setattr(connections, "PACED_FROM", 1)
    monkeypatch.setattr(slots, "BIG_PAGES_AT_ONCE", 1)
    monkeypatch.setattr(slots, "_big_pages", weakref.WeakKeyDictionary())
    paced = await asyncio.wait_for(gql.data(query, token=world.admin_general), timeout=10)
    assert paced == whole
    assert all(edge["node"]["movements"]["edges"] for edge in paced["items"]["edges"])


async def test_connection_arguments_omitted_or_null_are_the_same(gql: GraphQLClient, world: World) -> None:
    """Connection arguments have no GraphQL default (strawberry converts only those given); an
    omitted argument and an explicit null mean the same page."""
    from strawberry.types.unset import UNSET

    from graphql_api.api.core.pagination import PageArgs

    assert PageArgs(UNSET, UNSET, UNSET, UNSET) == PageArgs()
    omitted = await gql.data(
        "{ items(first: 2) { edges { node { name movements { totalCount } } } } }", token=world.admin_general
    )
    explicit = await gql.data(
        "{ items(first: 2, after: null, last: null, before: null) { edges { node { name "
        "movements(first: null, after: null) { totalCount } } } } }",
        token=world.admin_general,
    )
    assert omitted == explicit
    assert len(omitted["items"]["edges"]) == 2
