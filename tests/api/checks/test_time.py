"""Time: a check is for the local date (APP_TIMEZONE) of the moment it is started, whatever zone
that moment is written in; the verification-pending job with the clock moved (no sleeping)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.errors import ValidationFailed
from graphql_api.services import checks
from graphql_api.settings import Settings
from tests.api.checks.helpers import S, Walker
from tests.conftest import Actor, Factory, World

MONDAY = date(2031, 3, 3)
TUESDAY = MONDAY + timedelta(days=1)
YEAR = {"valid_from": date(2031, 1, 1), "valid_until": date(2031, 12, 31)}
PENDING = models.AlertType.VERIFICATION_PENDING


def at(day: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


async def start(
    db: async_sessionmaker[AsyncSession], student: Actor, slot: models.Schedule, now: datetime, zone: tzinfo
) -> tuple[uuid.UUID, date, bool]:
    async with db.begin() as session:
        check, started = await checks.start_check(session, student.principal, slot.id, now=now, zone=zone)
        return check.id, check.check_date, started


# America/Bogota (UTC-5): 23:30 local is already tomorrow in UTC. Asia/Tokyo (UTC+9): 00:30
# local is still yesterday in UTC. Either way the check is for the local date.
@pytest.mark.parametrize("zone_name", ["America/Bogota", "Asia/Tokyo"])
async def test_a_check_is_for_the_local_date_of_its_start(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    monday_class = await factory.schedule(world.a1, world.instructor, weekday=1, **YEAR)
    tuesday_class = await factory.schedule(world.a1, world.instructor, weekday=2, **YEAR)
    late, early = at(MONDAY, 23, 30, zone), at(TUESDAY, 0, 30, zone)
    in_utc = TUESDAY if zone_name == "America/Bogota" else MONDAY
    assert late.astimezone(UTC).date() == early.astimezone(UTC).date() == in_utc
    monday_check, day, started = await start(db, world.student, monday_class, late, zone)
    assert (day, started) == (MONDAY, True)
    # The same instant in UTC is the same local day: the same check.
    assert await start(db, world.student, monday_class, late.astimezone(UTC), zone) == (monday_check, MONDAY, False)
    tuesday_check, day, started = await start(db, world.student, tuesday_class, early.astimezone(UTC), zone)
    assert (day, started) == (TUESDAY, True)
    assert await start(db, world.student, tuesday_class, early, zone) == (tuesday_check, TUESDAY, False)
    # Each class meets on its own local day only.
    for slot, now in ((monday_class, early), (tuesday_class, late)):
        for instant in (now, now.astimezone(UTC)):
            with pytest.raises(ValidationFailed) as refused:
                await start(db, world.student, slot, instant, zone)
            assert [(e.field, e.code) for e in refused.value.field_errors] == [("scheduleId", "field.no_class_today")]


# ---- the reminder job ---------------------------------------------------------------------------


async def remind(db: async_sessionmaker[AsyncSession], now: datetime, settings: Settings) -> dict[str, Any]:
    async with db.begin() as session:
        return await checks.remind_pending_checks(session, now, settings)


async def pending_alerts(db: async_sessionmaker[AsyncSession]) -> list[tuple[uuid.UUID, str, str]]:
    """(subject, its date, status) of every VERIFICATION_PENDING alert, oldest first."""
    async with db() as session:
        rows = await session.scalars(
            select(models.SystemAlert)
            .where(models.SystemAlert.alert_type == PENDING)
            .order_by(models.SystemAlert.created_at)
        )
        return [(a.subject_id, a.params["date"], a.status.value) for a in rows.all()]


async def resolve_all(db: async_sessionmaker[AsyncSession]) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.SystemAlert).values(status=models.AlertStatus.RESOLVED, resolved_at=datetime.now(UTC))
        )


async def test_a_class_not_submitted_by_its_end_raises_one_alert_a_day(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings
) -> None:
    zone = settings.timezone
    slot = await factory.schedule(world.a1, world.instructor, weekday=1, **YEAR)  # 08:00-10:00
    assert await remind(db, at(MONDAY, 9, 59, zone), settings) == {"raised": 0}
    assert await pending_alerts(db) == []
    assert await remind(db, at(MONDAY, 10, 0, zone).astimezone(UTC), settings) == {"noted": 1, "raised": 1}
    day = MONDAY.isoformat()
    assert await pending_alerts(db) == [(slot.id, day, "OPEN")]
    assert await remind(db, at(MONDAY, 10, 5, zone), settings) == {"raised": 0}
    # Resolved the same day, it is not raised again that day: the reminder row remembers.
    await resolve_all(db)
    assert await remind(db, at(MONDAY, 18, 0, zone), settings) == {"raised": 0}
    assert await pending_alerts(db) == [(slot.id, day, "RESOLVED")]
    # The class's next day (a week later) is reminded again.
    next_day = MONDAY + timedelta(days=7)
    assert await remind(db, at(next_day, 10, 30, zone), settings) == {"noted": 1, "raised": 1}
    assert await pending_alerts(db) == [(slot.id, day, "RESOLVED"), (slot.id, next_day.isoformat(), "OPEN")]
    async with db() as session:
        noted = (await session.execute(select(models.CheckReminder.schedule_id, models.CheckReminder.check_date))).all()
    assert sorted(noted) == [(slot.id, MONDAY), (slot.id, next_day)]


async def test_an_alert_still_open_covers_the_next_day(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings
) -> None:
    # One open alert per class (SPEC §7: never the same open alert twice): the next day is
    # noted, and the alert that is still open stands for it.
    zone = settings.timezone
    slot = await factory.schedule(world.a1, world.instructor, weekday=1, **YEAR)
    assert (await remind(db, at(MONDAY, 11, 0, zone), settings))["raised"] == 1
    next_day = MONDAY + timedelta(days=7)
    assert await remind(db, at(next_day, 11, 0, zone), settings) == {"noted": 1, "raised": 0}
    assert await pending_alerts(db) == [(slot.id, MONDAY.isoformat(), "OPEN")]


async def test_only_classes_whose_check_is_not_submitted_are_reminded(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings
) -> None:
    zone, w = settings.timezone, world
    slots = [
        await factory.schedule(w.a1, w.instructor, weekday=1, start_time=time(h), end_time=time(h + 1), **YEAR)
        for h in (6, 7, 8)
    ]
    without, started, submitted = slots
    walker = Walker(db, settings, w.student, w.instructor, w.supervisor)
    await walker.start(started.id, now=at(MONDAY, 7, 10, zone))
    await walker.check_in(submitted.id, S.INSTRUCTOR_REVIEW, now=at(MONDAY, 8, 10, zone))
    assert await remind(db, at(MONDAY, 9, 0, zone), settings) == {"noted": 2, "raised": 2}
    assert sorted(subject for subject, _, _ in await pending_alerts(db)) == sorted([without.id, started.id])


async def test_a_late_class_is_reminded_for_its_local_day(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings
) -> None:
    # 20:00-21:00 in Bogota ends at 02:00 UTC the next day.
    slot = await factory.schedule(world.a1, world.instructor, weekday=1, start_time=time(20), end_time=time(21),
                                  **YEAR)  # fmt: skip
    ends = at(MONDAY, 21, 0, settings.timezone).astimezone(UTC)
    assert ends.date() == TUESDAY
    assert await remind(db, ends - timedelta(minutes=1), settings) == {"raised": 0}
    assert await remind(db, ends, settings) == {"noted": 1, "raised": 1}
    assert await pending_alerts(db) == [(slot.id, MONDAY.isoformat(), "OPEN")]


async def classes(factory: Factory, world: World, total: int, made: int) -> int:
    """Monday classes until `total`, in new rooms of center A with ten classes each (one an
    hour from 06:00)."""
    for _ in range((total - made) // 10):
        room = await factory.environment(world.center_a)
        for hour in range(6, 16):
            await factory.schedule(room, world.instructor, weekday=1, start_time=time(hour),
                                   end_time=time(hour + 1), **YEAR)  # fmt: skip
    return total


async def test_a_run_with_nothing_new_due_is_one_statement(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings, count_statements: Any
) -> None:
    zone = settings.timezone
    counted: list[tuple[int, int]] = []
    made = 0
    for week, total in enumerate((10, 100)):
        made = await classes(factory, world, total, made)
        day = MONDAY + timedelta(days=7 * week)
        with count_statements() as early:
            assert await remind(db, at(day, 5, 0, zone), settings) == {"raised": 0}
        assert (await remind(db, at(day, 17, 0, zone), settings))["noted"] == total
        with count_statements() as again:
            assert await remind(db, at(day, 17, 5, zone), settings) == {"raised": 0}
        counted.append((early.value, again.value))
    # 1: the INSERT ... SELECT noting the classes that ended without a submitted check and
    # were not noted yet that day (before 07:00 none has ended; at 17:05 all are noted).
    assert counted == [(1, 1), (1, 1)]
