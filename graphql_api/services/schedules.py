"""Schedules: the recurring class slots of a room.

Who manages them: an INSTRUCTOR their own slots in rooms of their scope, a SUPERVISOR the
slots of the rooms of their center, ADMIN_GENERAL all. A slot is taught by an active
instructor of the room's center (a slot gives its instructor the room's scope, so it never
reaches across centers), in a room, not a warehouse. Two active slots of one room that
overlap in weekday, time and validity are refused by the database's exclusion constraint,
which also settles concurrent creations.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, extract, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api import i18n
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import Environment, Role, Schedule, User
from graphql_api.db.models.schedule import MAX_STUDENTS
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from graphql_api.services import validation
from graphql_api.services.filtering import AnyOf, Custom, Equals, Filters, OrderField, Ordering
from graphql_api.services.queries import constraint_name

OVERLAP_CONSTRAINT = "ex_schedules_one_class_at_a_time"
MANAGERS = (Role.INSTRUCTOR, Role.SUPERVISOR, Role.ADMIN_GENERAL)


def visible_schedules(principal: Principal) -> Select[Any]:
    """Slots of the rooms in the caller's scope."""
    return select(Schedule).where(environment_filter(principal, Schedule.environment_id))


def on_date(day: date) -> ColumnElement[bool]:
    """Active slots that take place on `day` (its weekday, within their validity)."""
    return and_(
        Schedule.is_active.is_(True),
        Schedule.weekday == day.isoweekday(),
        Schedule.valid_from <= day,
        Schedule.valid_until >= day,
    )


def mine_on(principal: Principal, day: date) -> Select[Any]:
    """The caller's classes of `day`: those an instructor teaches; for anyone else, the slots
    of the rooms in scope (a student's room, a supervisor's center)."""
    stmt = visible_schedules(principal).where(on_date(day))
    if principal.role is Role.INSTRUCTOR:
        stmt = stmt.where(Schedule.instructor_id == scope.caller(principal))
    return stmt.order_by(Schedule.start_time, Schedule.id)


def taken_part_in(principal: Principal) -> Select[Any]:
    """The slots the caller takes part in: an instructor's own classes, the classes of a
    student's home room (they do its student stage); nobody else attends a class."""
    if principal.role is Role.INSTRUCTOR:
        return visible_schedules(principal).where(Schedule.instructor_id == scope.caller(principal))
    if principal.role is Role.STUDENT:
        return visible_schedules(principal)
    return visible_schedules(principal).where(false())


def held_on(day: ColumnElement[date]) -> ColumnElement[bool]:
    """`on_date` for a day computed in SQL (a series of days joined to the slots)."""
    return and_(
        Schedule.is_active.is_(True),
        Schedule.weekday == extract("isodow", day),
        Schedule.valid_from <= day,
        Schedule.valid_until >= day,
    )


def _valid_on(day: date) -> ColumnElement[bool]:
    return and_(Schedule.valid_from <= day, Schedule.valid_until >= day)


SCHEDULE_FILTERS = Filters(
    "Schedule",
    "Filters for class slots; all given conditions must hold.",
    {
        "environment_ids": AnyOf(Schedule.environment_id, "Only slots of these rooms.", ids="Environment"),
        "instructor_ids": AnyOf(Schedule.instructor_id, "Only slots taught by these instructors.", ids="User"),
        "weekdays": AnyOf(Schedule.weekday, "Only these weekdays (1 = Monday ... 7 = Sunday)."),
        "is_active": Equals(Schedule.is_active, "Only active (true) or deactivated (false) slots."),
        "valid_on": Custom(_valid_on, "Only slots whose validity includes this date.", date),
    },
)
SCHEDULE_ORDER = Ordering(
    "Schedule",
    {
        "WEEKDAY_AND_TIME": OrderField(Schedule.week_minute, "By weekday, then start time."),
        "VALID_FROM": OrderField(Schedule.valid_from, "By the first date of validity."),
        "CREATED_AT": OrderField(Schedule.created_at, "By creation time."),
    },
    default="WEEKDAY_AND_TIME",
    id_column=Schedule.id,
)

_TEXTS = {"program": (200, True), "group_number": (40, True), "topic": (200, False)}


def _clean(errors: FieldErrors, values: dict[str, Any]) -> dict[str, Any]:
    """Validated values among those given (an update sends only what changes)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        field = validation.camel(key)
        if value is None and key not in {"topic", "instructor_id"}:
            errors.add(field, "field.required")
        elif key in _TEXTS:
            limit, required = _TEXTS[key]
            out[key] = validation.text(errors, field, value, max_len=limit, required=required)
        elif key == "weekday":
            out[key] = validation.int_range(errors, field, value, minimum=1, maximum=7)
        elif key == "student_count":
            out[key] = validation.int_range(errors, field, value, minimum=0, maximum=MAX_STUDENTS)
        elif key in {"start_time", "end_time"}:
            out[key] = _minute(errors, field, value)
        elif key in {"valid_from", "valid_until", "environment_id", "instructor_id"}:
            out[key] = value
    return out


def _minute(errors: FieldErrors, field: str, value: time) -> time:
    """Times of day to the minute, without a zone: a slot recurs in local time."""
    if value.tzinfo is not None or value.second or value.microsecond:
        errors.add(field, "field.time_to_the_minute")
    return value.replace(second=0, microsecond=0, tzinfo=None)


def _check_ranges(errors: FieldErrors, slot: dict[str, Any]) -> None:
    if slot["end_time"] <= slot["start_time"]:
        errors.add("endTime", "field.end_before_start")
    if slot["valid_until"] < slot["valid_from"]:
        errors.add("validUntil", "field.end_before_start")


async def _check_slot(
    session: AsyncSession, principal: Principal, errors: FieldErrors, slot: dict[str, Any], *, moving: bool = False
) -> None:
    """The room (in the caller's scope, an active room) and the instructor (the caller, for an
    instructor; else an active instructor of the room's center). A room out of scope is not
    found: the slot's subject when creating, a field of the change when `moving` a slot."""
    room = await session.scalar(
        select(Environment).where(
            Environment.id == slot["environment_id"], environment_filter(principal, Environment.id)
        )
    )
    if room is None and not moving:
        raise NotFound("environment")
    if room is None:
        errors.add("environmentId", "field.not_found")
    elif room.is_warehouse:
        errors.add("environmentId", "field.not_a_room")
    elif not room.is_active:
        errors.add("environmentId", "field.environment_inactive")
    if principal.role is Role.INSTRUCTOR and slot["instructor_id"] != principal.id:
        raise PermissionDenied()
    teacher = await session.scalar(select(User).where(User.id == slot["instructor_id"], scope.user_filter(principal)))
    if teacher is None:
        errors.add("instructorId", "field.not_found")
    elif room is not None and not await _teaches_in_center(session, teacher, room):
        errors.add("instructorId", "field.not_an_instructor_of_center")


async def _teaches_in_center(session: AsyncSession, teacher: User, room: Environment) -> bool:
    if teacher.role is not Role.INSTRUCTOR or not teacher.is_active or teacher.environment_id is None:
        return False
    home_center = await session.scalar(select(Environment.center_id).where(Environment.id == teacher.environment_id))
    return home_center == room.center_id


async def _flush(session: AsyncSession) -> None:
    """Flush; an overlapping active slot of the room is a ConflictError (in a savepoint, so
    the transaction stays usable)."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT in constraint_name(error):
            raise Conflict("error.schedule_overlaps") from None
        raise


async def create_schedule(session: AsyncSession, principal: Principal, **values: Any) -> Schedule:
    if values.get("instructor_id") is None:
        values["instructor_id"] = principal.id
    values.setdefault("student_count", 0)
    errors = FieldErrors()
    slot = _clean(errors, values)
    await _check_slot(session, principal, errors, slot)
    errors.raise_if_any()
    _check_ranges(errors, slot)
    errors.raise_if_any()
    schedule = Schedule(**slot, is_active=True)
    session.add(schedule)
    await _flush(session)
    return schedule


async def _for_update(session: AsyncSession, principal: Principal, schedule_id: uuid.UUID) -> Schedule:
    """The slot, locked; NotFound out of scope, PermissionDenied for another's slot (an
    instructor manages only their own)."""
    schedule: Schedule | None = await session.scalar(
        visible_schedules(principal).where(Schedule.id == schedule_id).with_for_update(of=Schedule)
    )
    if schedule is None:
        raise NotFound("schedule")
    if principal.role is Role.INSTRUCTOR and schedule.instructor_id != principal.id:
        raise PermissionDenied()
    return schedule


async def update_schedule(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, *, changes: dict[str, Any]
) -> Schedule:
    """Change a slot; the result is checked as a whole (room, instructor, ranges, overlap)."""
    schedule = await _for_update(session, principal, schedule_id)
    errors = FieldErrors()
    fields = _clean(errors, changes)
    slot = {column: getattr(schedule, column) for column in _SLOT_COLUMNS} | fields
    if {"environment_id", "instructor_id"} & fields.keys():
        await _check_slot(session, principal, errors, slot, moving=True)
    errors.raise_if_any()
    _check_ranges(errors, slot)
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(schedule, key, value)
    await _flush(session)
    return schedule


_SLOT_COLUMNS = ("environment_id", "instructor_id", "start_time", "end_time", "valid_from", "valid_until")


async def set_schedule_active(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, *, active: bool
) -> Schedule:
    """Deactivate a slot (kept for the history of its checks) or activate it again, which is
    refused while another active slot overlaps it."""
    schedule = await _for_update(session, principal, schedule_id)
    if schedule.is_active is active:
        raise Conflict("error.already_in_state")
    schedule.is_active = active
    await _flush(session)
    return schedule


i18n.register(
    {
        "es": {
            "error.schedule_overlaps": "El ambiente ya tiene una clase activa que se cruza con este horario.",
            "field.time_to_the_minute": "Indica la hora en horas y minutos, sin zona horaria.",
            "field.not_a_room": "Un almacén no tiene clases: elige un ambiente de formación.",
            "field.not_an_instructor_of_center": "Debe ser un instructor activo del centro del ambiente.",
        },
        "en": {
            "error.schedule_overlaps": "The room already has an active class overlapping this slot.",
            "field.time_to_the_minute": "Give the time in hours and minutes, without a time zone.",
            "field.not_a_room": "A warehouse holds no classes: choose a training room.",
            "field.not_an_instructor_of_center": "Must be an active instructor of the room's center.",
        },
    }
)
