"""The caller's agenda (issue 13): what they must do over a range of local days (APP_TIMEZONE),
in one list. Each kind of entry comes from its own domain's rule, never a copy of it:

| kind               | from                                          | dated by                      |
|--------------------|-----------------------------------------------|-------------------------------|
| CLASS              | schedules.taken_part_in + checks.classes_between | each day the class meets   |
| LOAN               | loans.duties                                  | start date, or end date       |
| MAINTENANCE_REQUEST| maintenance.assigned_to_caller                | its due date (none: `start`)  |
| MAINTENANCE_PLAN   | maintenance.plans_with_due_date               | its next due date             |
| CHECK_REVIEW       | checks.pending_for                            | the check's date              |

Classes are those of the range. The other kinds are things to do: those dated in the range,
and those still to do from before today ("late": an overdue loan, a review left waiting),
which never drop off the agenda because their day has passed.

Each kind is one statement returning at most LIMIT rows (the earliest); a kind with more says
so in `truncated`. Five statements whatever the number of rows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.auth.scope import Principal
from graphql_api.db.models import InventoryCheck, MaintenancePlan, MaintenanceRequest, Schedule
from graphql_api.errors import FieldErrors
from graphql_api.services import checks, loans, maintenance, schedules

LIMIT = 200
MAX_DAYS = 31


class Kind(enum.Enum):
    """The kinds of entries, in the order entries of one day and time are listed."""

    CLASS = "CLASS"
    CHECK_REVIEW = "CHECK_REVIEW"
    LOAN = "LOAN"
    MAINTENANCE_REQUEST = "MAINTENANCE_REQUEST"
    MAINTENANCE_PLAN = "MAINTENANCE_PLAN"


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing to do. `row` is the domain's object (a slot, loan, request, plan or check);
    a class carries its check of the day, a loan the caller's duty."""

    kind: Kind
    day: date
    row: Any
    late: bool = False
    at: time | None = None
    check: InventoryCheck | None = None
    duty: loans.Duty | None = None

    def key(self) -> tuple[Any, ...]:
        # Entries with a time first on their day; then the kind and the id keep ties stable.
        return (self.day, self.at is None, self.at or time.min, list(Kind).index(self.kind), str(self.row.id))


@dataclass(frozen=True, slots=True)
class Agenda:
    entries: list[Entry]
    truncated: list[Kind] = field(default_factory=list)


def check_range(start: date, end: date) -> None:
    errors = FieldErrors()
    if end < start:
        errors.add("to", "field.date_order")
    elif (end - start).days + 1 > MAX_DAYS:
        errors.add("to", "field.range_too_long", max=MAX_DAYS)
    errors.raise_if_any()


@dataclass(frozen=True, slots=True)
class _Range:
    start: date
    end: date
    today: date

    def to_do(self, day: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        """In the range, or still to do from before today."""
        return or_(day.between(self.start, self.end), day < self.today)


async def agenda(session: AsyncSession, principal: Principal, start: date, end: date, *, today: date) -> Agenda:
    """The caller's agenda from `start` to `end` (local dates; at most MAX_DAYS days)."""
    check_range(start, end)
    span = _Range(start, end, today)
    entries: list[Entry] = []
    truncated: list[Kind] = []
    for kind, read in _READS.items():
        rows = (await session.execute(read(principal, span).limit(LIMIT + 1))).all()
        if len(rows) > LIMIT:
            truncated.append(kind)
        entries.extend(_entry(kind, row, span) for row in rows[:LIMIT])
    return Agenda(sorted(entries, key=Entry.key), truncated)


def _classes(principal: Principal, span: _Range) -> Select[Any]:
    return checks.classes_between(principal, schedules.taken_part_in(principal), span.start, span.end)


def _reviews(principal: Principal, span: _Range) -> Select[Any]:
    day = InventoryCheck.check_date
    return checks.pending_for(principal).where(span.to_do(day)).order_by(day, InventoryCheck.id)


def _loans(principal: Principal, span: _Range) -> Select[Any]:
    stmt = loans.duties(principal)
    due = stmt.selected_columns.due
    return stmt.where(span.to_do(due)).order_by(due, stmt.selected_columns.id)


def _requests(principal: Principal, span: _Range) -> Select[Any]:
    day = func.coalesce(MaintenanceRequest.due_date, literal(span.start))
    stmt = maintenance.assigned_to_caller(principal)
    return stmt.where(span.to_do(day)).order_by(day, MaintenanceRequest.id)


def _plans(principal: Principal, span: _Range) -> Select[Any]:
    day = MaintenancePlan.next_due_date
    return maintenance.plans_with_due_date(principal).where(span.to_do(day)).order_by(day, MaintenancePlan.id)


_READS: dict[Kind, Callable[[Principal, _Range], Select[Any]]] = {
    Kind.CLASS: _classes,
    Kind.CHECK_REVIEW: _reviews,
    Kind.LOAN: _loans,
    Kind.MAINTENANCE_REQUEST: _requests,
    Kind.MAINTENANCE_PLAN: _plans,
}


def _entry(kind: Kind, row: Any, span: _Range) -> Entry:
    if kind is Kind.CLASS:
        slot, day, check = row
        assert isinstance(slot, Schedule)
        return Entry(kind, day, slot, at=slot.start_time, check=check)
    if kind is Kind.LOAN:
        loan, duty, due = row
        return Entry(kind, due, loan, late=due < span.today, duty=loans.Duty(duty))
    (obj,) = row
    if kind is Kind.MAINTENANCE_REQUEST and obj.due_date is None:
        return Entry(kind, span.start, obj)
    column = {
        Kind.CHECK_REVIEW: "check_date",
        Kind.MAINTENANCE_REQUEST: "due_date",
        Kind.MAINTENANCE_PLAN: "next_due_date",
    }[kind]
    day = getattr(obj, column)
    return Entry(kind, day, obj, late=day < span.today)
