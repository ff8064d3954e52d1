"""The check's state machine: STUDENT_PENDING -> INSTRUCTOR_REVIEW -> SUPERVISOR_REVIEW ->
APPROVED (terminal); a supervisor's rejection sends it back to INSTRUCTOR_REVIEW.

Every transition is one conditional UPDATE (`transition`): it changes the check only if it is in
the state the transition starts from and the caller may act on it, so of two racing
transitions exactly one wins and the other is a ConflictError that changed nothing.
Recording an item takes a shared lock on its check, so a submission waits for a record in
progress and a record never lands on a check that has moved on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import (
    CheckItem,
    CheckStatus,
    Environment,
    InventoryCheck,
    InventoryItem,
    ItemStatus,
    Role,
    Schedule,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from graphql_api.services import events, validation
from graphql_api.services.checks import messages
from graphql_api.services.checks.reads import check_rule, visible_checks
from graphql_api.services.items import visible_items
from graphql_api.services.schedules import visible_schedules

# Every change of a check: subject the check, its room.
CHECK_CHANGED = "inventory_check"
Move = tuple[CheckStatus, CheckStatus]
# The state machine: every transition there is (from, to); APPROVED has none out.
SUBMIT: Move = (CheckStatus.STUDENT_PENDING, CheckStatus.INSTRUCTOR_REVIEW)
REVIEW: Move = (CheckStatus.INSTRUCTOR_REVIEW, CheckStatus.SUPERVISOR_REVIEW)
APPROVE: Move = (CheckStatus.SUPERVISOR_REVIEW, CheckStatus.APPROVED)
REJECT: Move = (CheckStatus.SUPERVISOR_REVIEW, CheckStatus.INSTRUCTOR_REVIEW)
MAX_UNITS = 100_000
# Who may record findings, and in which state: the students first, the instructor correcting.
RECORDING_STAGE = {Role.STUDENT: CheckStatus.STUDENT_PENDING, Role.INSTRUCTOR: CheckStatus.INSTRUCTOR_REVIEW}


def takes_place(schedule: Schedule, day: date) -> bool:
    return (
        schedule.is_active
        and schedule.weekday == day.isoweekday()
        and schedule.valid_from <= day <= schedule.valid_until
    )


async def start_check(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, *, now: datetime, zone: tzinfo
) -> tuple[InventoryCheck, bool]:
    """Open today's check of a class (a student of its room), capturing what each active
    item of the room should show; (the check, whether this call opened it). Today is the
    date in the application's zone at `now`. One check per class and day: whoever comes
    second gets the check already open."""
    today = now.astimezone(zone).date()
    schedule = await session.scalar(visible_schedules(principal).where(Schedule.id == schedule_id))
    if schedule is None:
        raise NotFound("schedule")
    if not takes_place(schedule, today):
        raise ValidationFailed.single("scheduleId", "field.no_class_today")
    if not await session.scalar(select(Environment.is_active).where(Environment.id == schedule.environment_id)):
        raise ValidationFailed.single("scheduleId", "field.environment_inactive")
    key = {"environment_id": schedule.environment_id, "schedule_id": schedule.id, "check_date": today}
    opened = await session.scalar(
        pg_insert(InventoryCheck)
        .values(id=uuid.uuid4(), status=CheckStatus.STUDENT_PENDING, started_by_id=principal.id, **key)
        .on_conflict_do_nothing(constraint="uq_inventory_checks_one_per_class_day")
        .returning(InventoryCheck.id)
    )
    if opened is None:
        existing = await session.scalar(
            select(InventoryCheck).where(*(getattr(InventoryCheck, k) == v for k, v in key.items()))
        )
        assert existing is not None  # the unique key's row, committed by whoever won
        return existing, False
    count = await _capture(session, opened, schedule.environment_id)
    check = await _one(session, update(InventoryCheck).where(InventoryCheck.id == opened).values(item_count=count))
    _changed(session, check)
    return check, True


async def _capture(session: AsyncSession, check_id: uuid.UUID, environment_id: uuid.UUID) -> int:
    """One record per active item of the room, in one statement: the units that should be
    there (owned, not on loan, not in maintenance) and those already known damaged or missing."""
    item = InventoryItem
    source = select(
        func.gen_random_uuid(),
        literal(check_id),
        item.id,
        func.row_number().over(order_by=(item.name, item.id)),
        item.quantity - item.quantity_on_loan - item.quantity_in_maintenance,
        item.quantity_damaged,
        item.quantity_missing,
    ).where(item.environment_id == environment_id, item.status == ItemStatus.ACTIVE)
    columns = ["id", "check_id", "item_id", "position", "expected", "known_damaged", "known_missing"]
    result: Any = await session.execute(insert(CheckItem).from_select(columns, source))
    return int(result.rowcount)


async def record_item(
    session: AsyncSession,
    principal: Principal,
    check_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    found: int,
    damaged: int,
    missing: int,
    notes: str | None = None,
) -> CheckItem:
    """Record (or correct) what was found of one item: the students while the check is
    theirs, the instructor during the review. Never changes the item's stock."""
    check = await session.scalar(
        visible_checks(principal).where(InventoryCheck.id == check_id).with_for_update(read=True, of=InventoryCheck)
    )
    if check is None:
        raise NotFound("inventory_check")
    if check.status is not RECORDING_STAGE.get(principal.role):
        raise Conflict("error.check_wrong_state", status=check.status.value)
    record = await session.scalar(select(CheckItem).where(CheckItem.check_id == check_id, CheckItem.item_id == item_id))
    if record is None:
        # An item the caller cannot see is answered as a missing one, never as "not in the check".
        seen = await session.scalar(
            visible_items(principal).with_only_columns(InventoryItem.id).where(InventoryItem.id == item_id)
        )
        raise ValidationFailed.single("itemId", "field.not_in_check" if seen else "field.not_found")
    errors = FieldErrors()
    for name, value in (("found", found), ("damaged", damaged), ("missing", missing)):
        validation.int_range(errors, name, value, minimum=0, maximum=MAX_UNITS)
    if not errors.errors and found + damaged + missing != record.expected:
        errors.add("found", "field.counts_must_add_up", expected=record.expected)
    clean_notes = validation.text(errors, "notes", notes, max_len=1000)
    errors.raise_if_any()
    record.found, record.damaged, record.missing, record.notes = found, damaged, missing, clean_notes
    record.recorded_by_id, record.recorded_at = principal.id, datetime.now(UTC)
    await session.flush()
    _changed(session, check)
    return record


async def submit_student_check(
    session: AsyncSession, principal: Principal, check_id: uuid.UUID, *, cleaning_notes: str | None
) -> InventoryCheck:
    """The students hand the check to the instructor, once every item is recorded."""
    errors = FieldErrors()
    notes = validation.text(errors, "cleaningNotes", cleaning_notes, max_len=2000)
    errors.raise_if_any()
    unrecorded = exists().where(CheckItem.check_id == InventoryCheck.id, CheckItem.recorded_at.is_(None))
    values = {"student_submitted_by_id": principal.id, "student_submitted_at": func.now(), "cleaning_notes": notes}
    check = await transition(session, principal, check_id, SUBMIT, values, ~unrecorded)
    if check is None:
        left = await session.scalar(
            select(func.count()).where(CheckItem.check_id == check_id, CheckItem.recorded_at.is_(None))
        )
        raise ValidationFailed.single("checkId", "field.items_not_recorded", count=left)
    await messages.tell(session, check, "check.submitted", await _instructor_of(session, check))
    return check


async def submit_instructor_review(
    session: AsyncSession,
    principal: Principal,
    check_id: uuid.UUID,
    *,
    is_clean: bool,
    is_organized: bool,
    inventory_complete: bool,
    comments: str | None,
) -> InventoryCheck:
    """The instructor's checklist; the check goes to the supervisors of the center."""
    errors = FieldErrors()
    clean_comments = validation.text(errors, "comments", comments, max_len=2000)
    errors.raise_if_any()
    values = {
        "instructor_id": principal.id,
        "instructor_reviewed_at": func.now(),
        "is_clean": is_clean,
        "is_organized": is_organized,
        "inventory_complete": inventory_complete,
        "instructor_comments": clean_comments,
    }
    check = await transition(session, principal, check_id, REVIEW, values)
    assert check is not None
    supervisors = await messages.supervisors_of(session, check)
    await messages.tell(session, check, "check.awaiting_approval", supervisors)
    return check


async def transition(
    session: AsyncSession,
    principal: Principal,
    check_id: uuid.UUID,
    move: Move,
    values: dict[str, Any],
    *conditions: ColumnElement[bool],
) -> InventoryCheck | None:
    """One move of the state machine as one conditional UPDATE. Not found (out of scope) and
    a wrong state raise; None when only the extra `conditions` failed."""
    start, end = move
    check: InventoryCheck | None = await session.scalar(
        update(InventoryCheck)
        .where(InventoryCheck.id == check_id, InventoryCheck.status == start, check_rule(principal), *conditions)
        .values(status=end, **values)
        .returning(InventoryCheck)
        .execution_options(populate_existing=True)
    )
    if check is None:
        current = await session.scalar(
            select(InventoryCheck.status).where(InventoryCheck.id == check_id, check_rule(principal))
        )
        if current is None:
            raise NotFound("inventory_check")
        if current is not start or not conditions:
            raise Conflict("error.check_wrong_state", status=current.value)
        return None
    _changed(session, check)
    return check


async def _one(session: AsyncSession, statement: Any) -> InventoryCheck:
    check: InventoryCheck = (
        await session.execute(statement.returning(InventoryCheck).execution_options(populate_existing=True))
    ).scalar_one()
    return check


async def _instructor_of(session: AsyncSession, check: InventoryCheck) -> list[uuid.UUID]:
    teacher = await session.scalar(select(Schedule.instructor_id).where(Schedule.id == check.schedule_id))
    return [teacher] if teacher is not None else []


def _changed(session: AsyncSession, check: InventoryCheck) -> None:
    events.publish(session, CHECK_CHANGED, subject_id=check.id, environment_id=check.environment_id)
