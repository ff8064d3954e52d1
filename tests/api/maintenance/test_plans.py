"""Maintenance plans and the periodic job, with the clock moved (never slept): MAINTENANCE_DUE
once per item and due date, one request per due date opened by the system, interval plans
moving on, fixed-date plans ending; a fixed number of statements whatever the number of plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import run_due
from graphql_api.services import items, maintenance
from graphql_api.settings import Settings
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

DUE = date(2030, 3, 1)
SET_PLAN = """mutation ($input: SetMaintenancePlanInput!) { setMaintenancePlan(input: $input) {
  __typename ... on MaintenancePlanPayload { plan { everyDays onDate nextDueDate units leadDays active } }
  ... on Error { code } ... on ValidationError { fieldErrors { field code } } } }"""


def at(day: date) -> datetime:
    """Noon in Bogotá on `day`, as the job's `now`."""
    return datetime.combine(day, time(17, 0), tzinfo=UTC)


async def plan(
    db: async_sessionmaker[AsyncSession], actor: Actor, item: models.InventoryItem, **fields: Any
) -> models.MaintenancePlan:
    values = {"every_days": 30, "next_due_date": DUE, "units": 2, **fields}
    async with db.begin() as session:
        return await maintenance.set_plan(
            session,
            actor.principal,
            item_id=item.id,
            fields=maintenance.PlanFields(**values),
            today=DUE - timedelta(60),
        )


async def run(db: async_sessionmaker[AsyncSession], settings: Settings, day: date) -> dict[str, Any]:
    async with db.begin() as session:
        return await maintenance.run_plans(session, at(day), settings)


async def state(db: async_sessionmaker[AsyncSession]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with db() as session:
        alerts = (
            await session.execute(
                select(models.SystemAlert.alert_type, models.SystemAlert.subject_id, models.SystemAlert.status)
            )
        ).all()
        requests = (
            await session.execute(
                select(
                    models.MaintenanceRequest.item_id,
                    models.MaintenanceRequest.due_date,
                    models.MaintenanceRequest.requester_id,
                    models.MaintenanceRequest.units,
                ).order_by(models.MaintenanceRequest.due_date)
            )
        ).all()
    return [tuple(a) for a in alerts], [tuple(r) for r in requests]


async def resolve_alerts(db: async_sessionmaker[AsyncSession]) -> None:
    async with db.begin() as session:
        await session.execute(update(models.SystemAlert).values(status=models.AlertStatus.RESOLVED))


async def test_an_interval_plan_alerts_once_per_date_and_opens_one_request_per_date(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings
) -> None:
    item = world.items["a1"][1]
    made = await plan(db, world.supervisor, item)
    assert await run(db, settings, DUE - timedelta(8)) == {"alerted": 0, "opened": 0}
    assert await run(db, settings, DUE - timedelta(7)) == {"alerted": 1, "opened": 0}
    due = (models.AlertType.MAINTENANCE_DUE, item.id, models.AlertStatus.OPEN)
    assert await state(db) == ([due], [])
    # Again the same day, the next days, and after someone resolved it: nothing new.
    await run(db, settings, DUE - timedelta(7))
    await resolve_alerts(db)
    assert await run(db, settings, DUE - timedelta(3)) == {"alerted": 0, "opened": 0}
    # The due date: one request, opened by the system (no requester) for the plan's units.
    assert await run(db, settings, DUE) == {"alerted": 0, "opened": 1}
    assert await run(db, settings, DUE) == {"alerted": 0, "opened": 0}
    alerts, requests = await state(db)
    assert requests == [(item.id, DUE, None, 2)]
    async with db() as session:
        moved = await session.get(models.MaintenancePlan, made.id)
        notified = await session.scalar(select(func.count()).where(models.Notification.kind == "maintenance.requested"))
    assert moved is not None
    assert moved.next_due_date == DUE + timedelta(30)
    assert notified == 1  # the supervisor of the center
    # The next date's alert and request, once each.
    assert await run(db, settings, DUE + timedelta(23)) == {"alerted": 1, "opened": 0}
    assert await run(db, settings, DUE + timedelta(30)) == {"alerted": 0, "opened": 1}
    alerts, requests = await state(db)
    assert len(alerts) == 2
    assert [r[1] for r in requests] == [DUE, DUE + timedelta(30)]


async def test_a_late_job_opens_one_request_and_moves_past_today(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings
) -> None:
    made = await plan(db, world.supervisor, world.items["a1"][1])
    # The job did not run for 100 days: one alert, one request for the missed date.
    assert await run(db, settings, DUE + timedelta(100)) == {"alerted": 1, "opened": 1}
    async with db() as session:
        moved = await session.get(models.MaintenancePlan, made.id)
    assert moved is not None
    assert moved.next_due_date == DUE + timedelta(120)


async def test_a_fixed_date_plan_fires_once(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings, factory: Factory
) -> None:
    small = await factory.item(world.aw, quantity=1)
    made = await plan(db, world.admin, small, every_days=None, next_due_date=None, on_date=DUE, units=1, lead_days=0)
    assert await run(db, settings, DUE) == {"alerted": 1, "opened": 1}
    assert await run(db, settings, DUE + timedelta(400)) == {"alerted": 0, "opened": 0}
    async with db() as session:
        ended = await session.get(models.MaintenancePlan, made.id)
        recipients = set(
            (
                await session.scalars(
                    select(models.Notification.recipient_id).where(models.Notification.kind == "maintenance.requested")
                )
            ).all()
        )
    assert ended is not None
    assert ended.next_due_date is None
    # A warehouse item: its ADMIN and the center's supervisor hear of the new request.
    assert recipients == {world.admin.id, world.supervisor.id}


async def test_retired_items_and_inactive_plans_are_left_alone(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings, factory: Factory
) -> None:
    retired = await factory.item(world.a1, quantity=1)
    await plan(db, world.supervisor, retired, units=1)
    async with db.begin() as session:
        await items.retire_item(session, world.supervisor.principal, retired.id, note=None)
    await plan(db, world.supervisor, world.items["a1"][1], active=False)
    assert await run(db, settings, DUE) == {"alerted": 0, "opened": 0}


async def test_the_job_runs_from_the_registry_with_the_clock_moved(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings
) -> None:
    await plan(db, world.supervisor, world.items["a1"][1])
    ran = await run_due(db, settings, JOBS, now=at(DUE))
    assert "maintenance_plans" in ran.ran
    async with db() as session:
        detail = await session.scalar(select(models.JobRun.detail).where(models.JobRun.job == "maintenance_plans"))
    assert detail == {"alerted": 1, "opened": 1}


async def test_statements_do_not_grow_with_the_plans(
    db: async_sessionmaker[AsyncSession], world: World, settings: Settings, factory: Factory, count_statements: Any
) -> None:
    async def measure(day: date) -> int:
        with count_statements() as counted:
            await run(db, settings, day)
        return counted.value

    made = [await factory.item(world.a2, quantity=3) for _ in range(10)]
    for item in made:
        await plan(db, world.supervisor, item)
    quiet_10 = await measure(DUE - timedelta(30))
    for _ in range(90):
        await plan(db, world.supervisor, await factory.item(world.a2, quantity=3))
    quiet_100 = await measure(DUE - timedelta(30))
    # BEGIN is not a statement; the one SELECT of the plans with something to do, then COMMIT's
    # outbox write only when there is an event.
    assert quiet_10 == quiet_100 == 1


async def test_plans_are_for_the_item_managers(gql: GraphQLClient, world: World) -> None:
    item_id = gid("InventoryItem", world.items["a1"][1].id)
    base = {"itemId": item_id, "everyDays": 90, "units": 2}
    denied = await gql.execute(SET_PLAN, {"input": base}, token=world.instructor)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await gql.data(SET_PLAN, {"input": base}, token=world.supervisor)
    made = data["setMaintenancePlan"]["plan"]
    assert (made["everyDays"], made["onDate"], made["units"], made["leadDays"]) == (90, None, 2, 7)
    # Replacing it keeps one plan per item.
    data = await gql.data(
        SET_PLAN, {"input": {**base, "everyDays": None, "onDate": "2999-01-01"}}, token=world.supervisor
    )
    assert data["setMaintenancePlan"]["plan"]["nextDueDate"] == "2999-01-01"
    bad = [
        ({"everyDays": 10, "onDate": "2999-01-01"}, [("everyDays", "MAINTENANCE_PLAN_SCHEDULE")]),
        ({"everyDays": None}, [("everyDays", "MAINTENANCE_PLAN_SCHEDULE")]),
        ({"everyDays": 0}, [("everyDays", "MIN_VALUE")]),
        ({"everyDays": None, "onDate": "2000-01-01"}, [("onDate", "MAINTENANCE_DATE_IN_PAST")]),
        ({"units": 11}, [("units", "MAX_VALUE")]),
        ({"leadDays": 366}, [("leadDays", "MAX_VALUE")]),
    ]
    for extra, expected in bad:
        data = await gql.data(SET_PLAN, {"input": {**base, **extra}}, token=world.supervisor)
        result = data["setMaintenancePlan"]
        assert [(e["field"], e["code"]) for e in result["fieldErrors"]] == expected, extra
    query = "query ($id: ID!) { item(id: $id) { maintenancePlan { everyDays onDate } } }"
    seen = await gql.data(query, {"id": item_id}, token=world.supervisor)
    assert seen["item"]["maintenancePlan"] == {"everyDays": None, "onDate": "2999-01-01"}
    hidden = await gql.data(query, {"id": item_id}, token=world.student)
    assert hidden["item"]["maintenancePlan"] is None
