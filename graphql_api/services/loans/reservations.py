"""Reservations by date: how many units of an item loans hold on each day, and what is free.

The rule (also in the README):

* A day's capacity is the item's units that can be lent at all, `quantity - damaged - missing
  - in_maintenance` (units on loan still count: the loans holding them are subtracted by
  date), minus the quantities of the APPROVED, DELIVERED and OVERDUE loans covering that day.
  A delivered or overdue loan past its end date still holds its units until they come back:
  its last day is `max(end_date, today)`.
* An approval needs capacity >= the loan's quantity on every day of its range. Approvals of
  one item are serialized by a lock on the item's row (`lock_item_of`), so two of them never
  both see the same free units.
* `item_availability`: per item, the units free on every day of a range (the lowest capacity
  of its days) and the loans that hold units in it.

The peak demand over a range is one statement for any number of items and days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from graphql_api.auth.scope import Principal
from graphql_api.db.models import HOLDING, InventoryItem, ItemStatus, Loan
from graphql_api.errors import FieldErrors
from graphql_api.services.items import visible_items
from graphql_api.services.loans.visibility import effective_end, visible_loans

MAX_ITEMS = 100
MAX_RANGE_DAYS = 366
MAX_CONFLICTS = 100

_PEAK_DEMAND = text(
    """
    WITH days AS (
        SELECT CAST(d AS date) AS day
        FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d
    ), holding AS (
        SELECT l.item_id, l.quantity, l.start_date,
               CASE WHEN l.status = 'APPROVED' THEN l.end_date
                    ELSE greatest(l.end_date, CAST(:today AS date)) END AS last_day
        FROM loans AS l
        WHERE l.item_id = ANY(CAST(:item_ids AS uuid[]))
          AND l.status IN ('APPROVED', 'DELIVERED', 'OVERDUE')
          AND l.start_date <= CAST(:end AS date)
          AND l.id IS DISTINCT FROM CAST(:excluding AS uuid)
    ), per_day AS (
        SELECT h.item_id, days.day, sum(h.quantity) AS units
        FROM holding AS h JOIN days ON days.day BETWEEN h.start_date AND h.last_day
        GROUP BY h.item_id, days.day
    )
    SELECT item_id, max(units) AS peak FROM per_day GROUP BY item_id
    """
)


def lendable(item: Any) -> int:
    """Units that can be lent at all (see the module's docstring); 0 for a retired item."""
    if item.status is ItemStatus.RETIRED:
        return 0
    units: int = item.quantity - item.quantity_damaged - item.quantity_missing - item.quantity_in_maintenance
    return units


async def peak_demand(
    session: AsyncSession,
    item_ids: list[uuid.UUID],
    start: date,
    end: date,
    *,
    today: date,
    excluding: uuid.UUID | None = None,
) -> dict[uuid.UUID, int]:
    """Per item, the most units held by holding loans (but `excluding`) on one day of
    [start, end]; items held on no day are absent."""
    params = {"item_ids": item_ids, "start": start, "end": end, "today": today, "excluding": excluding}
    rows = (await session.execute(_PEAK_DEMAND, params)).all()
    return {item_id: int(peak) for item_id, peak in rows}


async def lock_item_of(session: AsyncSession, loan_id: uuid.UUID) -> InventoryItem | None:
    """The loan's item, its row locked until the transaction ends (FOR NO KEY UPDATE: it
    waits for another approval or stock movement of the item, not for rows that merely
    refer to it), read afresh (FOR UPDATE refreshes what the session had loaded). None for an
    unregistered item or a missing loan."""
    stmt = (
        select(InventoryItem)
        .join(Loan, Loan.item_id == InventoryItem.id)
        .where(Loan.id == loan_id)
        .with_for_update(of=InventoryItem, key_share=True)
    )
    item: InventoryItem | None = (await session.scalars(stmt)).one_or_none()
    return item


@dataclass
class Availability:
    item: Any
    start: date
    end: date
    lendable: int
    reserved: int
    conflicts: list[Loan] = field(default_factory=list)

    @property
    def free(self) -> int:
        return max(0, self.lendable - self.reserved)


def check_range(errors: FieldErrors, item_ids: list[uuid.UUID], start: date, end: date) -> None:
    if len(item_ids) > MAX_ITEMS:
        errors.add("itemIds", "field.too_many", max=MAX_ITEMS)
    if end < start:
        errors.add("to", "field.date_order")
    elif (end - start).days + 1 > MAX_RANGE_DAYS:
        errors.add("to", "field.range_too_long", max=MAX_RANGE_DAYS)


async def item_availability(
    session: AsyncSession, principal: Principal, item_ids: list[uuid.UUID], start: date, end: date, *, today: date
) -> dict[uuid.UUID, Availability]:
    """Availability of the items the caller may see among `item_ids` (three statements: the
    items, their peak demand, the conflicting loans the caller may see)."""
    errors = FieldErrors()
    check_range(errors, item_ids, start, end)
    errors.raise_if_any()
    ids = list(dict.fromkeys(item_ids))
    items = (await session.scalars(visible_items(principal).where(InventoryItem.id.in_(ids)))).all()
    if not items:
        return {}
    found = [item.id for item in items]
    peaks = await peak_demand(session, found, start, end, today=today)
    result = {item.id: Availability(item, start, end, lendable(item), peaks.get(item.id, 0)) for item in items}
    for loan in await _conflicts(session, principal, found, start, end, today):
        assert loan.item_id is not None
        result[loan.item_id].conflicts.append(loan)
    return result


async def _conflicts(
    session: AsyncSession, principal: Principal, item_ids: list[uuid.UUID], start: date, end: date, today: date
) -> list[Loan]:
    """The holding loans the caller may see that cover a day of [start, end], earliest
    first, at most MAX_CONFLICTS per item."""
    rank = func.row_number().over(partition_by=Loan.item_id, order_by=(Loan.start_date, Loan.id)).label("rank")
    ranked = (
        visible_loans(principal)
        .where(
            Loan.item_id.in_(item_ids),
            Loan.status.in_(HOLDING),
            Loan.start_date <= end,
            effective_end(today) >= start,
        )
        .add_columns(rank)
        .subquery()
    )
    loan = aliased(Loan, ranked)
    stmt = select(loan).where(ranked.c.rank <= MAX_CONFLICTS).order_by(ranked.c.start_date, ranked.c.id)
    return list((await session.scalars(stmt)).all())
