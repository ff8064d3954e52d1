"""The agenda's days are local dates (APP_TIMEZONE, America/Bogota here): a check started late
on a Monday evening, already Tuesday in UTC, belongs to Monday's class; and what is late is
measured against the local today the API passes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.auth.scope import Principal
from graphql_api.services import agenda, checks, maintenance
from tests.conftest import Factory, World

BOGOTA = ZoneInfo("America/Bogota")
MONDAY = date(2031, 3, 3)
TUESDAY = MONDAY + timedelta(days=1)
YEAR = {"valid_from": date(2031, 1, 1), "valid_until": date(2031, 12, 31)}


async def read(
    db: async_sessionmaker[AsyncSession], who: Principal, start: date, end: date, today: date
) -> list[tuple[str, date, str | None]]:
    """(kind, date, the status of the class's check or the reviewed check)."""
    async with db() as session:
        found = await agenda.agenda(session, who, start, end, today=today)
    out = []
    for entry in found.entries:
        check = {agenda.Kind.CLASS: entry.check, agenda.Kind.CHECK_REVIEW: entry.row}.get(entry.kind)
        out.append((entry.kind.value, entry.day, check.status.value if check is not None else None))
    return out


async def test_a_late_evening_check_is_on_its_local_day(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    monday = await factory.schedule(
        world.a1, world.instructor, weekday=1, start_time=time(18), end_time=time(22), **YEAR
    )
    await factory.schedule(world.a1, world.instructor, weekday=2, start_time=time(7), end_time=time(9), **YEAR)
    late_evening = datetime.combine(MONDAY, time(21, 30), BOGOTA)
    assert late_evening.astimezone(UTC).date() == TUESDAY
    async with db.begin() as session:
        await checks.start_check(
            session, world.student.principal, monday.id, now=late_evening.astimezone(UTC), zone=BOGOTA
        )
    student = world.student.principal
    assert await read(db, student, MONDAY, TUESDAY, today=MONDAY) == [
        ("CLASS", MONDAY, "STUDENT_PENDING"),
        ("CHECK_REVIEW", MONDAY, "STUDENT_PENDING"),
        ("CLASS", TUESDAY, None),
    ]
    # Tuesday alone: Tuesday's class; Monday's check still waits for the students, late.
    assert await read(db, student, TUESDAY, TUESDAY, today=TUESDAY) == [
        ("CHECK_REVIEW", MONDAY, "STUDENT_PENDING"),
        ("CLASS", TUESDAY, None),
    ]
    async with db() as session:
        found = await agenda.agenda(session, student, TUESDAY, TUESDAY, today=TUESDAY)
    assert [entry.late for entry in found.entries] == [True, False]


async def test_late_is_against_the_local_today(db: async_sessionmaker[AsyncSession], world: World) -> None:
    """A plan due on Monday: on the agenda of a later week only while it is late, that is
    once Monday has passed in Bogota."""
    async with db.begin() as session:
        fields = maintenance.PlanFields(on_date=MONDAY)
        item = world.items["a1"][0]
        await maintenance.set_plan(session, world.supervisor.principal, item_id=item.id, fields=fields, today=MONDAY)
    later = MONDAY + timedelta(days=14)
    boss = world.supervisor.principal
    assert await read(db, boss, later, later, today=MONDAY) == []
    assert await read(db, boss, later, later, today=TUESDAY) == [("MAINTENANCE_PLAN", MONDAY, None)]
