"""myAgenda sends the same number of statements for 10 and for 100 entries of each kind, nested
fields included; and a kind past the limit is cut to its earliest rows and named in `truncated`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import agenda, maintenance
from graphql_api.settings import Settings
from tests.api.loans.helpers import make_loan
from tests.api.maintenance.helpers import advance, open_for_item
from tests.conftest import Factory, GraphQLClient, World

DELIVERED, ASSIGNED = models.LoanStatus.DELIVERED, models.MaintenanceStatus.ASSIGNED

QUERY = """query ($from: Date!, $to: Date!) { myAgenda(from: $from, to: $to) { truncated entries {
  __typename
  ... on AgendaClass { date checkStatus schedule { id environment { name } } inventoryCheck { id } }
  ... on AgendaCheckReview { date check { id status environment { name } schedule { id program } } }
  ... on AgendaLoan { date action loan { id warehouse { name } requester { firstName } item { name } } }
  ... on AgendaMaintenanceRequest { date request { id environment { name } item { name } } }
  ... on AgendaMaintenancePlan { date plan { id item { name environment { name } } } }
} } }"""

# 1 the caller's user row (their token); 5 the kinds, one statement each (classes with their
# checks of each day, checks awaiting the caller, loans awaiting them, requests assigned to them,
# plans falling due); 3 the nested objects, one batched statement per type whatever the rows:
# environments, items, and for the instructor schedules (of the checks to review: the classes'
# own slots come with their rows), for the admin users (the loans' requesters; the instructor
# is their own requester, known without a read).
STATEMENTS = 1 + 5 + 3


async def _classes(factory: Factory, world: World, per_weekday: int) -> None:
    """`per_weekday` slots of the instructor in a1 on every weekday (one hour each from 06:00)."""
    for weekday in range(1, 8):
        for hour in range(per_weekday):
            start = time(6 + hour)
            end = time(7 + hour)
            await factory.schedule(world.a1, world.instructor, weekday=weekday, start_time=start, end_time=end)


async def _reviews(db: async_sessionmaker[AsyncSession], world: World, slot: models.Schedule, n: int) -> None:
    """`n` checks of past days awaiting the instructor's review (their rows only: the agenda
    reads nothing else of them)."""
    async with db.begin() as session:
        for days in range(1, n + 1):
            session.add(
                models.InventoryCheck(
                    environment_id=world.a1.id,
                    schedule_id=slot.id,
                    check_date=slot.valid_from + timedelta(days=days - 1),
                    status=models.CheckStatus.INSTRUCTOR_REVIEW,
                    started_by_id=world.student.id,
                )
            )


async def _fill(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings, n: int, days: int
) -> tuple[date, date]:
    """`n` entries of each kind over a range of `days` days from tomorrow: for the instructor,
    classes (n / days slots a day), checks to review, loans to return, requests assigned; for
    the admin, those loans to receive and plans falling due."""
    today = datetime.now(settings.timezone).date()
    start = today + timedelta(days=1)
    await _classes(factory, world, per_weekday=n // days)
    # The reviewed class meets no more after today: its checks are the only trace it leaves.
    before = {"valid_from": today - timedelta(days=n + 1), "valid_until": today}
    slot = await factory.schedule(world.a2, world.instructor, start_time=time(20), end_time=time(21), **before)
    await _reviews(db, world, slot, n)
    lent = await factory.item(world.aw, quantity=n)
    for _ in range(n):
        await make_loan(db, settings, world.instructor, world.admin, world.aw, item=lent, status=DELIVERED, start=1)
        request_id = await open_for_item(db, world.supervisor, world.items["a1"][1])
        await advance(db, world.supervisor, request_id, ASSIGNED, assignee=world.instructor)
        planned = await factory.item(world.aw)
        async with db.begin() as session:
            fields = maintenance.PlanFields(on_date=start)
            await maintenance.set_plan(session, world.admin.principal, item_id=planned.id, fields=fields, today=today)
    return start, start + timedelta(days=days - 1)


def _kinds(entries: list[dict[str, Any]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for entry in entries:
        counted[entry["__typename"]] = counted.get(entry["__typename"], 0) + 1
    return counted


@pytest.mark.parametrize(("n", "days"), [(10, 10), (100, 20)])
async def test_the_same_statements_for_10_and_100_entries_of_each_kind(
    gql: GraphQLClient,
    world: World,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    count_statements: Any,
    n: int,
    days: int,
) -> None:
    start, end = await _fill(world, factory, db, settings, n, days)
    variables = {"from": start.isoformat(), "to": end.isoformat()}
    wanted = {
        "instructor": {"AgendaClass": n, "AgendaCheckReview": n, "AgendaLoan": n, "AgendaMaintenanceRequest": n},
        "admin": {"AgendaLoan": n, "AgendaMaintenancePlan": n},
    }
    for role, kinds in wanted.items():
        with count_statements() as counted:
            data = await gql.data(QUERY, variables, token=world.role(role))
        assert _kinds(data["myAgenda"]["entries"]) == kinds
        assert data["myAgenda"]["truncated"] == []
        assert counted.value == STATEMENTS, role


async def test_a_kind_past_the_limit_keeps_its_earliest_entries(
    gql: GraphQLClient, world: World, factory: Factory, settings: Settings, engine: AsyncEngine
) -> None:
    await _classes(factory, world, per_weekday=7)  # 31 days x 7 = 217 classes
    start = datetime.now(settings.timezone).date() + timedelta(days=1)
    end = start + timedelta(days=30)
    limits: list[Any] = []

    def limit_of(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().startswith("SELECT"):
            found = re.search(r"LIMIT \$(\d+)::INTEGER\s*$", statement)
            limits.append(parameters[int(found.group(1)) - 1] if found else None)

    event.listen(engine.sync_engine, "before_cursor_execute", limit_of)
    try:
        data = await gql.data(QUERY, {"from": start.isoformat(), "to": end.isoformat()}, token=world.instructor)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", limit_of)
    # The database sends at most one row past the limit of each kind, never the whole kind.
    assert limits == [agenda.LIMIT + 1] * 5
    entries = data["myAgenda"]["entries"]
    assert data["myAgenda"]["truncated"] == ["CLASS"]
    assert len(entries) == agenda.LIMIT
    # 200 = 28 full days of 7 classes and 4 of the 29th: nothing of the last days.
    days = [date.fromisoformat(entry["date"]) for entry in entries]
    assert (days[0], days[-1]) == (start, start + timedelta(days=28))
    assert days.count(start + timedelta(days=28)) == 4
