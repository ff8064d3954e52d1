"""The low-stock job, run with the clock given: raised once, resolved by the system when
restocked or retired, thresholds from the readers' settings, a fixed number of statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import run_due
from graphql_api.services import alert_messages, alert_settings, items, low_stock
from graphql_api.services.ledger import StockDelta
from graphql_api.settings import Settings
from tests.conftest import Factory, World

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _run(db: async_sessionmaker[AsyncSession], settings: Settings, now: datetime = NOW) -> dict[str, Any]:
    async with db.begin() as session:
        return await low_stock.run(session, now, settings)


async def _low_stock(db: async_sessionmaker[AsyncSession]) -> dict[Any, tuple[str, str, Any]]:
    """subject -> (status, severity, resolved_by) of every LOW_STOCK alert."""
    async with db() as session:
        rows = await session.execute(
            select(models.SystemAlert).where(models.SystemAlert.alert_type == models.AlertType.LOW_STOCK)
        )
        return {a.subject_id: (a.status.value, a.severity.value, a.resolved_by_id) for a in rows.scalars()}


async def _adjust(db: async_sessionmaker[AsyncSession], world: World, item: models.InventoryItem, **delta: int) -> None:
    async with db.begin() as session:
        current = await session.scalar(select(models.InventoryItem.quantity).where(models.InventoryItem.id == item.id))
        await items.adjust_item_stock(
            session,
            world.admin_general.principal,
            item.id,
            expected_quantity=current or 0,
            delta=StockDelta(**delta),
            reason=models.MovementReason.RESTOCK if delta.get("quantity", 0) > 0 else models.MovementReason.CORRECTION,
            note=None,
        )


async def test_raised_once_and_resolved_when_restocked(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    few = await factory.item(world.a1, quantity=8, damaged=4)  # 4 available: MEDIUM
    none = await factory.item(world.a2, quantity=3, missing=3)  # none available: HIGH
    await factory.item(world.a1, quantity=1, damaged=1)  # individual: never low stock
    retired = await factory.item(world.bw, quantity=2)
    async with db.begin() as session:
        await items.retire_item(session, world.admin_general.principal, retired.id, note=None)
    assert await _run(db, settings) == {"raised": 2, "resolved": 0}
    assert await _low_stock(db) == {few.id: ("OPEN", "MEDIUM", None), none.id: ("OPEN", "HIGH", None)}
    async with db() as session:
        alert = await session.scalar(select(models.SystemAlert).where(models.SystemAlert.subject_id == few.id))
    assert alert is not None
    assert (alert.subject_type, alert.environment_id, alert.created_at) == ("InventoryItem", world.a1.id, NOW)
    assert alert.params == {
        "item": few.name, "code": few.internal_code, "environment": world.a1.name, "available": 4, "threshold": 5,
    }  # fmt: skip
    assert set(alert.params) == alert_messages.PARAMS[models.AlertType.LOW_STOCK]
    # Still low a minute later: nothing new.
    assert await _run(db, settings, NOW + timedelta(minutes=1)) == {"raised": 0, "resolved": 0}
    # Restocked above the threshold: resolved by the system; to exactly the threshold: still low.
    await _adjust(db, world, few, quantity=2)  # 6 available
    await _adjust(db, world, none, missing=-3, quantity=2)  # 5 available
    later = NOW + timedelta(minutes=2)
    assert await _run(db, settings, later) == {"raised": 0, "resolved": 1}
    assert await _low_stock(db) == {few.id: ("RESOLVED", "MEDIUM", None), none.id: ("OPEN", "HIGH", None)}
    async with db() as session:
        resolved_at = await session.scalar(
            select(models.SystemAlert.resolved_at).where(models.SystemAlert.subject_id == few.id)
        )
    assert resolved_at == later
    # Low again: a new alert beside the resolved one.
    await _adjust(db, world, few, damaged=3)  # 3 available
    assert await _run(db, settings, NOW + timedelta(minutes=3)) == {"raised": 1, "resolved": 0}
    async with db() as session:
        statuses = await session.scalars(
            select(models.SystemAlert.status).where(models.SystemAlert.subject_id == few.id)
        )
        assert sorted(s.value for s in statuses) == ["OPEN", "RESOLVED"]


async def test_a_retired_item_has_its_alert_resolved(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    item = await factory.item(world.a1, quantity=2, damaged=1)
    assert (await _run(db, settings))["raised"] == 1
    async with db.begin() as session:
        await items.retire_item(session, world.admin_general.principal, item.id, note=None)
    assert await _run(db, settings, NOW + timedelta(minutes=1)) == {"raised": 0, "resolved": 1}
    assert await _low_stock(db) == {item.id: ("RESOLVED", "MEDIUM", None)}


async def test_threshold_is_the_highest_among_the_readers_who_take_low_stock(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Each world item group has 10 available: low only where a reader's threshold is >= 10.
    group = {room: world.items[room][1].id for room in ("a1", "a2", "aw", "b1", "bw")}
    async with db.begin() as session:
        await alert_settings.update(session, world.admin.id, {"low_stock_threshold": 10})
    # Only the warehouse its ADMIN reads.
    assert await _run(db, settings) == {"raised": 1, "resolved": 0}
    assert set(await _low_stock(db)) == {group["aw"]}
    async with db.begin() as session:
        # The supervisor reads all of center A; one who does not take LOW_STOCK alerts does
        # not count; lowering a threshold below the default changes nothing while others
        # keep the default.
        await alert_settings.update(session, world.supervisor.id, {"low_stock_threshold": 10})
        muted = await factory.user(models.Role.ADMIN, world.bw)
        await alert_settings.update(
            session, muted.id, {"low_stock_threshold": 50, "alert_types": [models.AlertType.LOAN_OVERDUE]}
        )
        await alert_settings.update(session, world.admin_b.id, {"low_stock_threshold": 0})
    assert await _run(db, settings, NOW + timedelta(minutes=1)) == {"raised": 2, "resolved": 0}
    assert set(await _low_stock(db)) == {group["a1"], group["a2"], group["aw"]}
    # The supervisor stops taking LOW_STOCK alerts: a1 and a2 are back to the default, 5.
    async with db.begin() as session:
        await alert_settings.update(session, world.supervisor.id, {"alert_types": [models.AlertType.LOAN_OVERDUE]})
    assert await _run(db, settings, NOW + timedelta(minutes=2)) == {"raised": 0, "resolved": 2}
    assert {s for s, (status, _, _) in (await _low_stock(db)).items() if status == "OPEN"} == {group["aw"]}


@pytest.mark.parametrize("count", [10, 100])
async def test_statement_count_does_not_grow_with_items(
    world: World,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    count_statements: Any,
    count: int,
) -> None:
    created = [await factory.item(world.a1, quantity=3, damaged=1) for _ in range(count)]
    await _run(db, settings)  # warm
    for item in created[: count // 2]:
        await _adjust(db, world, item, quantity=10)
    async with db.begin() as session:
        with count_statements() as counted:
            detail = await low_stock.run(session, NOW + timedelta(minutes=1), settings)
    assert detail == {"raised": 0, "resolved": count // 2}
    assert counted.value == 2  # resolve, raise (nothing raised: nobody to notify)
    for item in created[: count // 2]:
        await _adjust(db, world, item, damaged=12)
    async with db.begin() as session:
        with count_statements() as counted:
            detail = await low_stock.run(session, NOW + timedelta(minutes=2), settings)
    assert detail == {"raised": count // 2, "resolved": 0}
    assert counted.value == 3  # resolve, raise, notify every recipient of every new alert
    async with db() as session:
        notified = await session.scalar(
            select(func.count()).select_from(models.Notification).where(models.Notification.kind == "alert.low_stock")
        )
    # Every alert of room a1 reaches its supervisor and both ADMIN_GENERALs (twice: raised,
    # then raised again after the restock).
    assert notified == 3 * (count + count // 2)


async def test_the_job_is_registered_and_runs_once_a_minute(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    (job,) = [job for job in JOBS if job.name == "low_stock_alerts"]
    assert job.every == timedelta(minutes=1)
    await factory.item(world.a1, quantity=2)
    assert list((await run_due(db, settings, [job], now=NOW)).ran) == ["low_stock_alerts"]
    assert (await run_due(db, settings, [job], now=NOW + timedelta(seconds=30))).ran == {}
    assert list((await run_due(db, settings, [job], now=NOW + timedelta(seconds=61))).ran) == ["low_stock_alerts"]
    async with db() as session:
        runs = (await session.execute(select(models.JobRun.detail).where(models.JobRun.job == job.name))).scalars()
        assert list(runs) == [{"raised": 1, "resolved": 0}, {"raised": 0, "resolved": 0}]
