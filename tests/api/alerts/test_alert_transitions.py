"""Resolve and reopen: every transition from every state, the wrong ones changing nothing, and
races of 20 concurrent requests (raises, resolves, resolves against reopens)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.api.alerts.helpers import (
    REOPEN,
    RESOLVE,
    alert_rows,
    notifications_of,
    outbox_topics,
    raise_in,
    raise_missing,
    set_status,
)
from tests.conftest import Actor, GraphQLClient, World, gid

CONFLICT = "ConflictError"


async def _call(gql: GraphQLClient, mutation: str, alert_id: uuid.UUID, actor: Actor) -> dict[str, Any]:
    data = await gql.data(mutation, {"id": gid("SystemAlert", alert_id)}, token=actor)
    result: dict[str, Any] = next(iter(data.values()))
    return result


async def _open_alert(db: async_sessionmaker[AsyncSession], world: World, room: str = "a1") -> uuid.UUID:
    alert_id = await raise_missing(db, world.items[room][0])
    assert alert_id is not None
    return alert_id


async def test_resolve_then_reopen_record_who_and_when(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    alert_id = await _open_alert(db, world)
    resolved = await _call(gql, RESOLVE, alert_id, world.supervisor)
    assert resolved["__typename"] == "AlertPayload"
    alert = resolved["alert"]
    assert alert["status"] == "RESOLVED"
    assert alert["resolvedBy"] == {"id": world.supervisor.gid}
    assert alert["resolvedAt"] is not None
    assert (alert["reopenedAt"], alert["reopenedBy"]) == (None, None)
    reopened = (await _call(gql, REOPEN, alert_id, world.admin_general))["alert"]
    assert reopened["status"] == "OPEN"
    assert reopened["reopenedBy"] == {"id": world.admin_general.gid}
    assert reopened["reopenedAt"] is not None
    # The resolution that the reopen undid stays on the alert.
    assert (reopened["resolvedAt"], reopened["resolvedBy"]) == (alert["resolvedAt"], alert["resolvedBy"])
    again = (await _call(gql, RESOLVE, alert_id, world.admin_general))["alert"]
    assert again["status"] == "RESOLVED"
    assert again["resolvedBy"] == {"id": world.admin_general.gid}


async def test_every_wrong_state_is_a_conflict_that_changes_nothing(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    alert_id = await _open_alert(db, world)
    cases = [(REOPEN, models.AlertStatus.OPEN), (RESOLVE, models.AlertStatus.RESOLVED)]
    for mutation, state in cases:
        await set_status(db, alert_id, state)
        before, events = await alert_rows(db), await outbox_topics(db)
        result = await _call(gql, mutation, alert_id, world.supervisor)
        assert result["__typename"] == CONFLICT, (mutation, state)
        assert result["code"] == "CONFLICT"
        assert result["message"] == "El recurso ya está en ese estado."
        assert await alert_rows(db) == before
        assert await outbox_topics(db) == events


async def test_reopen_is_refused_while_a_twin_is_open(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    item = world.items["a1"][0]
    first = await _open_alert(db, world)
    await set_status(db, first, models.AlertStatus.RESOLVED)
    second = await raise_missing(db, item)  # the cause came back: a new alert
    assert second is not None
    assert second != first
    before = await alert_rows(db)
    result = await _call(gql, REOPEN, first, world.supervisor)
    assert result["__typename"] == CONFLICT
    assert result["message"] == "Ya hay una alerta abierta del mismo tipo para el mismo objeto."
    assert await alert_rows(db) == before
    # Once the twin is resolved, the first one may be reopened.
    assert (await _call(gql, RESOLVE, second, world.supervisor))["alert"]["status"] == "RESOLVED"
    assert (await _call(gql, REOPEN, first, world.supervisor))["alert"]["status"] == "OPEN"


async def test_out_of_scope_looks_missing(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    in_a1, in_b1 = await _open_alert(db, world, "a1"), await _open_alert(db, world, "b1")
    before = await alert_rows(db)
    for actor, alert_id in ((world.admin, in_a1), (world.supervisor, in_b1), (world.admin_b, in_a1)):
        for mutation in (RESOLVE, REOPEN):
            result = await _call(gql, mutation, alert_id, actor)
            missing = await _call(gql, mutation, uuid.uuid4(), actor)
            assert result["__typename"] == "NotFoundError"
            assert result == missing
    assert await alert_rows(db) == before


async def test_raising_an_open_alert_again_does_nothing(world: World, db: async_sessionmaker[AsyncSession]) -> None:
    first = await _open_alert(db, world)
    notified, events = await notifications_of(db), await outbox_topics(db)
    assert await raise_missing(db, world.items["a1"][0], models.AlertSeverity.CRITICAL) is None
    assert (await notifications_of(db), await outbox_topics(db)) == (notified, events)
    async with db() as session:
        assert await session.scalar(select(models.SystemAlert.severity).where(models.SystemAlert.id == first)) == (
            models.AlertSeverity.MEDIUM
        )


# ---- races -------------------------------------------------------------------------------


async def test_twenty_concurrent_raises_make_one_alert_notified_once(
    world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    item = world.items["a1"][0]

    async def raise_once() -> uuid.UUID | None:
        async with db.begin() as session:
            return await raise_in(session, item)

    raised = await asyncio.gather(*(raise_once() for _ in range(20)))
    winners = [alert_id for alert_id in raised if alert_id is not None]
    assert len(winners) == 1
    async with db() as session:
        count = await session.scalar(select(func.count()).select_from(models.SystemAlert))
        system_user = await session.scalar(select(models.User.id).where(models.User.email == "system@test.local"))
    assert count == 1
    # Those who read room a1's alerts, once each: its supervisor and both ADMIN_GENERALs.
    readers = sorted([world.supervisor.id, world.admin_general.id, system_user])
    assert [recipient for recipient, _, _ in await notifications_of(db)] == readers
    assert (await outbox_topics(db)).count("alert") == 1


async def test_twenty_concurrent_resolves_one_wins(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    alert_id = await _open_alert(db, world)
    callers = [world.supervisor, world.admin_general] * 10
    results = await asyncio.gather(*(_call(gql, RESOLVE, alert_id, actor) for actor in callers))
    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["AlertPayload"] + [CONFLICT] * 19
    (winner,) = [result["alert"] for result in results if result["__typename"] == "AlertPayload"]
    async with db() as session:
        row = await session.get_one(models.SystemAlert, alert_id)
    assert row.status is models.AlertStatus.RESOLVED
    assert winner["resolvedBy"]["id"] == gid("User", row.resolved_by_id)  # type: ignore[arg-type]


async def test_concurrent_resolves_and_reopens_alternate(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    alert_id = await _open_alert(db, world)
    calls = [RESOLVE, REOPEN] * 10
    results = await asyncio.gather(*(_call(gql, mutation, alert_id, world.supervisor) for mutation in calls))
    won = dict.fromkeys((RESOLVE, REOPEN), 0)
    for mutation, result in zip(calls, results, strict=True):
        assert result["__typename"] in ("AlertPayload", CONFLICT), result
        won[mutation] += result["__typename"] == "AlertPayload"
    # From OPEN, each success undoes the one before: resolves lead reopens by at most one.
    assert won[RESOLVE] >= 1
    assert won[RESOLVE] - won[REOPEN] in (0, 1)
    async with db() as session:
        row = await session.get_one(models.SystemAlert, alert_id)
    expected = models.AlertStatus.RESOLVED if won[RESOLVE] > won[REOPEN] else models.AlertStatus.OPEN
    assert row.status is expected


async def test_concurrent_reopens_of_twins_open_one(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    # Two resolved alerts of one type about one object: reopened at once, exactly one wins,
    # the other gets a ConflictError (never an INTERNAL error from the unique index).
    first = await _open_alert(db, world)
    await set_status(db, first, models.AlertStatus.RESOLVED)
    second = await _open_alert(db, world)
    await set_status(db, second, models.AlertStatus.RESOLVED)
    targets = [first, second] * 10
    results = await asyncio.gather(*(_call(gql, REOPEN, alert_id, world.supervisor) for alert_id in targets))
    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["AlertPayload"] + [CONFLICT] * 19
    async with db() as session:
        statuses = (await session.scalars(select(models.SystemAlert.status))).all()
    assert sorted(s.value for s in statuses) == ["OPEN", "RESOLVED"]
