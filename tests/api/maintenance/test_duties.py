"""What maintenance asks of a person: `assigned_to_caller` (their open assigned requests, not
another's, not pending or finished ones) and `plans_with_due_date` (active plans with a date,
of the items the caller manages)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.services import maintenance
from tests.api.maintenance.helpers import TODAY, S, advance, open_for_item
from tests.conftest import Actor, World


async def ids(db: async_sessionmaker[AsyncSession], stmt: Select[Any]) -> set[uuid.UUID]:
    async with db() as session:
        return {row.id for row in (await session.scalars(stmt)).all()}


async def test_assigned_requests_are_the_open_ones(db: async_sessionmaker[AsyncSession], world: World) -> None:
    w, item = world, world.items["a1"][1]
    made: dict[str, uuid.UUID] = {}
    for name, status, person in (
        ("assigned", S.ASSIGNED, w.instructor),
        ("started", S.IN_PROGRESS, w.instructor),
        ("done", S.COMPLETED, w.instructor),
        ("cancelled", S.ASSIGNED, w.instructor),
        ("pending", S.PENDING, None),
        ("supervisors", S.ASSIGNED, w.supervisor),
    ):
        made[name] = await open_for_item(db, w.supervisor, item)
        await advance(db, w.supervisor, made[name], status, assignee=person)
    await advance(db, w.supervisor, made["cancelled"], S.CANCELLED)
    mine = await ids(db, maintenance.assigned_to_caller(w.instructor.principal))
    assert mine == {made["assigned"], made["started"]}
    assert await ids(db, maintenance.assigned_to_caller(w.supervisor.principal)) == {made["supervisors"]}
    assert await ids(db, maintenance.assigned_to_caller(w.admin_general.principal)) == set()


async def test_due_plans_are_the_managers_active_ones(db: async_sessionmaker[AsyncSession], world: World) -> None:
    w = world

    async def plan(manager: Actor, room: str, index: int, **fields: Any) -> uuid.UUID:
        async with db.begin() as session:
            made = await maintenance.set_plan(
                session,
                manager.principal,
                item_id=w.items[room][index].id,
                fields=maintenance.PlanFields(**fields),
                today=TODAY,
            )
            return made.id

    a1 = await plan(w.supervisor, "a1", 0, on_date=date(2030, 2, 1))
    await plan(w.supervisor, "a1", 1, on_date=date(2030, 2, 1), active=False)
    aw = await plan(w.admin, "aw", 0, every_days=30)
    b1 = await plan(w.admin_general, "b1", 0, on_date=date(2030, 2, 1))
    assert await ids(db, maintenance.plans_with_due_date(w.supervisor.principal)) == {a1, aw}
    assert await ids(db, maintenance.plans_with_due_date(w.admin.principal)) == {aw}
    assert await ids(db, maintenance.plans_with_due_date(w.admin_general.principal)) == {a1, aw, b1}
    for nobody in (w.instructor, w.student, w.admin_b):
        assert await ids(db, maintenance.plans_with_due_date(nobody.principal)) == set()
