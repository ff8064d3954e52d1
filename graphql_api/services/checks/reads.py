"""What the daily checks show, and to whom: a check is seen with its room; its totals come from
its own records; what each role must act on now; each class's status for a day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, cast, exists, false, func, literal, not_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import CheckItem, CheckReview, CheckStatus, InventoryCheck, Role, Schedule
from graphql_api.services.filtering import AnyOf, Bound, Custom, Filters, OrderField, Ordering
from graphql_api.services.schedules import held_on, on_date, visible_schedules


def check_rule(principal: Principal) -> ColumnElement[bool]:
    """A check is seen with its room: the rooms in the caller's scope (an instructor keeps the
    rooms of their classes' open checks, see auth/scope.py)."""
    return environment_filter(principal, InventoryCheck.environment_id)


def visible_checks(principal: Principal) -> Select[Any]:
    return select(InventoryCheck).where(check_rule(principal))


def _of_visible_checks(model: Any, principal: Principal) -> Select[Any]:
    return select(model).join(InventoryCheck, InventoryCheck.id == model.check_id).where(check_rule(principal))


def visible_check_items(principal: Principal) -> Select[Any]:
    """The records of the checks the caller may see."""
    return _of_visible_checks(CheckItem, principal)


def visible_reviews(principal: Principal) -> Select[Any]:
    return _of_visible_checks(CheckReview, principal)


# A check's totals, from its own records (never from the items as they are now).
TOTALS = {
    "good": func.coalesce(func.sum(CheckItem.found), 0),
    "damaged": func.coalesce(func.sum(CheckItem.damaged), 0),
    "missing": func.coalesce(func.sum(CheckItem.missing), 0),
    "recorded": func.count(CheckItem.recorded_at),
}


def failed_checklist() -> ColumnElement[bool]:
    return or_(
        InventoryCheck.is_clean.is_(False),
        InventoryCheck.is_organized.is_(False),
        InventoryCheck.inventory_complete.is_(False),
    )


def has_issues() -> ColumnElement[bool]:
    """Any damaged or missing unit recorded, or a failed item of the instructor's checklist."""
    units = exists().where(CheckItem.check_id == InventoryCheck.id, or_(CheckItem.damaged > 0, CheckItem.missing > 0))
    return or_(units, failed_checklist())


def _issues(value: bool) -> ColumnElement[bool]:
    return has_issues() if value else not_(has_issues())


CHECK_FILTERS = Filters(
    "InventoryCheck",
    "Filters for inventory checks; all given conditions must hold.",
    {
        "environment_ids": AnyOf(InventoryCheck.environment_id, "Only checks of these rooms.", ids="Environment"),
        "schedule_ids": AnyOf(InventoryCheck.schedule_id, "Only checks of these class slots.", ids="Schedule"),
        "statuses": AnyOf(InventoryCheck.status, "Only checks in these states."),
        "date_from": Bound(InventoryCheck.check_date, "Only checks of this local date or later."),
        "date_before": Bound(InventoryCheck.check_date, "Only checks before this local date.", lower=False),
        "has_issues": Custom(_issues, "Only checks with (true) or without (false) issues.", bool),
    },
)
CHECK_ORDER = Ordering(
    "InventoryCheck",
    {
        "CHECK_DATE": OrderField(InventoryCheck.check_date, "By the check's local date."),
        "CREATED_AT": OrderField(InventoryCheck.created_at, "By the time it was started."),
    },
    default="CHECK_DATE",
    default_descending=True,
    id_column=InventoryCheck.id,
)
RECORD_ORDER = Ordering(
    "CheckItemRecord",
    {"POSITION": OrderField(CheckItem.position, "In the check's order (by item name at the start).")},
    default="POSITION",
    id_column=CheckItem.id,
    direction_only=True,
)
REVIEW_ORDER = Ordering(
    "CheckReview",
    {"CREATED_AT": OrderField(CheckReview.created_at, "By time.")},
    default="CREATED_AT",
    id_column=CheckReview.id,
    direction_only=True,
)


def pending_for(principal: Principal) -> Select[Any]:
    """The checks the caller must act on now: a student's to record and submit, an
    instructor's to review, a supervisor's to approve or reject (others act on none)."""
    stage = {
        Role.STUDENT: CheckStatus.STUDENT_PENDING,
        Role.INSTRUCTOR: CheckStatus.INSTRUCTOR_REVIEW,
        Role.SUPERVISOR: CheckStatus.SUPERVISOR_REVIEW,
    }.get(principal.role)
    if stage is None:
        return visible_checks(principal).where(false())
    return visible_checks(principal).where(InventoryCheck.status == stage)


def day_of_room(principal: Principal, environment_id: uuid.UUID, day: date) -> Select[Any]:
    """The room's class slots of `day` (within the caller's scope), each with its check of that
    day if there is one."""
    return (
        visible_schedules(principal)
        .add_columns(InventoryCheck)
        .outerjoin(
            InventoryCheck,
            and_(InventoryCheck.schedule_id == Schedule.id, InventoryCheck.check_date == day),
        )
        .where(Schedule.environment_id == environment_id, on_date(day))
        .order_by(Schedule.start_time, Schedule.id)
        .limit(100)
    )


def classes_between(principal: Principal, slots: Select[Any], start: date, end: date) -> Select[Any]:
    """Rows (slot, day, check or None): each of `slots` on each day from `start` to `end` it
    takes place, with its check of that day if the caller may see it; by day, then time."""
    offsets = func.generate_series(0, (end - start).days).table_valued("n").render_derived(name="days")
    day = (cast(literal(start), Date) + offsets.c.n).label("day")
    return (
        slots.add_columns(day, InventoryCheck)
        .join(offsets, held_on(day))
        .outerjoin(
            InventoryCheck,
            and_(InventoryCheck.schedule_id == Schedule.id, InventoryCheck.check_date == day, check_rule(principal)),
        )
        .order_by(day, Schedule.start_time, Schedule.id)
    )


@dataclass(frozen=True, slots=True)
class Counts:
    found: int
    damaged: int
    missing: int


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One item whose findings differ between the room's previous approved check and this one
    (None: the item was not in that check)."""

    item_id: uuid.UUID
    previous: Counts | None
    current: Counts | None


def _previous_approved(check: InventoryCheck) -> Any:
    earlier = tuple_(InventoryCheck.check_date, InventoryCheck.created_at) < tuple_(
        literal(check.check_date), literal(check.created_at)
    )
    return (
        select(InventoryCheck.id)
        .where(InventoryCheck.environment_id == check.environment_id, InventoryCheck.status == CheckStatus.APPROVED)
        .where(earlier)
        .order_by(InventoryCheck.check_date.desc(), InventoryCheck.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


async def changes_since_previous(session: AsyncSession, check: InventoryCheck) -> list[ItemChange]:
    """Per item, what differs from the room's last approved check before this one (nothing
    when there is none): one statement."""
    now = select(CheckItem).where(CheckItem.check_id == check.id).subquery("now")
    before = select(CheckItem).where(CheckItem.check_id == _previous_approved(check)).subquery("before")
    differs = or_(
        before.c.item_id.is_(None),  # new since, recorded or not
        now.c.found.is_distinct_from(before.c.found),
        now.c.damaged.is_distinct_from(before.c.damaged),
        now.c.missing.is_distinct_from(before.c.missing),
    )
    stmt = (
        select(
            func.coalesce(now.c.item_id, before.c.item_id),
            before.c.found,
            before.c.damaged,
            before.c.missing,
            before.c.item_id.is_not(None),
            now.c.found,
            now.c.damaged,
            now.c.missing,
            now.c.item_id.is_not(None),
        )
        .select_from(now.join(before, now.c.item_id == before.c.item_id, full=True))
        .where(exists(select(before.c.id)), differs)
        .order_by(func.coalesce(now.c.position, before.c.position))
    )
    rows = (await session.execute(stmt)).all()
    return [
        ItemChange(row[0], Counts(*row[1:4]) if row[4] else None, Counts(*row[5:8]) if row[8] else None) for row in rows
    ]
