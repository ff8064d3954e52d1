"""What each transition does besides changing the state: the capacity check of an approval,
the ledger movements of delivery and return, alerts, and telling the requester."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    Environment,
    InventoryItem,
    ItemStatus,
    Loan,
    MovementReason,
    NotificationPriority,
)
from graphql_api.errors import Conflict, FieldErrors, ValidationFailed
from graphql_api.services import alerts, validation
from graphql_api.services.items import available_expr
from graphql_api.services.ledger import MovementLinks, StockDelta, apply_movement
from graphql_api.services.loans import transitions
from graphql_api.services.loans.calendar import Calendar
from graphql_api.services.loans.messages import tell_requester
from graphql_api.services.loans.reservations import lendable, lock_item_of, peak_demand
from graphql_api.services.loans.transitions import APPROVE, CANCEL, DELIVER, REJECT, RETURN


async def approve_loan(session: AsyncSession, principal: Principal, loan_id: uuid.UUID, *, calendar: Calendar) -> Loan:
    """PENDING → APPROVED, if the item has the units free on every day of the loan's dates."""
    # Approvals of one item wait for each other here; the capacity read below then sees the
    # approvals committed before this one.
    item = await lock_item_of(session, loan_id)
    loan, item_name = await transitions.transition(
        session, principal, loan_id, APPROVE, approved_by_id=principal.id, approved_at=func.now()
    )
    if item is not None:
        if item.status is ItemStatus.RETIRED:
            raise Conflict("error.item_retired")
        peaks = await peak_demand(
            session, [item.id], loan.start_date, loan.end_date, today=calendar.today, excluding=loan.id
        )
        free = lendable(item) - peaks.get(item.id, 0)
        if free < loan.quantity:
            raise Conflict("error.loan_no_capacity", free=max(free, 0), quantity=loan.quantity)
    await tell_requester(session, loan, item_name, "approved", priority=NotificationPriority.HIGH)
    return loan


async def reject_loan(session: AsyncSession, principal: Principal, loan_id: uuid.UUID, *, reason: str) -> Loan:
    """PENDING → REJECTED, with the reason the requester is told."""
    errors = FieldErrors()
    cleaned = validation.text(errors, "reason", reason, max_len=2000, required=True)
    errors.raise_if_any()
    decision = {"rejected_by_id": principal.id, "rejected_at": func.now(), "rejection_reason": cleaned}
    loan, item_name = await transitions.transition(session, principal, loan_id, REJECT, **decision)
    await tell_requester(session, loan, item_name, "rejected", priority=NotificationPriority.HIGH, reason=cleaned)
    return loan


async def cancel_loan(session: AsyncSession, principal: Principal, loan_id: uuid.UUID) -> Loan:
    """PENDING → CANCELLED, by the requester."""
    loan, item_name = await transitions.transition(session, principal, loan_id, CANCEL, cancelled_at=func.now())
    await tell_requester(session, loan, item_name, "cancelled")
    return loan


async def deliver_loan(session: AsyncSession, principal: Principal, loan_id: uuid.UUID) -> Loan:
    """APPROVED → DELIVERED: the units go to the item's on-loan bucket (LOAN_OUT), if the
    ledger has them available now (they may have gone to maintenance since the approval)."""
    loan, item_name = await transitions.transition(
        session, principal, loan_id, DELIVER, delivered_by_id=principal.id, delivered_at=func.now()
    )
    if loan.item_id is not None:
        try:
            await apply_movement(
                session,
                reason=MovementReason.LOAN_OUT,
                delta=StockDelta(on_loan=loan.quantity),
                actor_id=principal.id,
                item_id=loan.item_id,
                links=MovementLinks(loan_id=loan.id),
            )
        except ValidationFailed:
            available = await session.scalar(select(available_expr()).where(InventoryItem.id == loan.item_id))
            raise Conflict("error.loan_units_unavailable", available=available, quantity=loan.quantity) from None
    await tell_requester(session, loan, item_name, "delivered")
    return loan


@dataclass(frozen=True, slots=True)
class ReturnCounts:
    returned: int
    damaged: int = 0
    missing: int = 0
    return_date: date | None = None
    notes: str | None = None


async def return_loan(
    session: AsyncSession, principal: Principal, loan_id: uuid.UUID, counts: ReturnCounts, *, calendar: Calendar
) -> Loan:
    """DELIVERED or OVERDUE → RETURNED: LOAN_RETURN moves the units off loan, the damaged and
    missing ones into their buckets; missing units raise an EQUIPMENT_MISSING alert."""
    seen = await transitions.visible_loan(session, principal, loan_id)
    transitions.check_may(principal, RETURN, seen)
    day, notes = _checked_return(counts, seen, calendar)
    loan, item_name = await transitions.transition(
        session,
        principal,
        loan_id,
        RETURN,
        received_by_id=principal.id,
        returned_at=func.now(),
        return_date=day,
        returned_quantity=counts.returned,
        returned_damaged=counts.damaged,
        returned_missing=counts.missing,
        return_notes=notes,
    )
    if loan.item_id is not None:
        delta = StockDelta(on_loan=-loan.quantity, damaged=counts.damaged, missing=counts.missing)
        await apply_movement(
            session,
            reason=MovementReason.LOAN_RETURN,
            delta=delta,
            actor_id=principal.id,
            item_id=loan.item_id,
            links=MovementLinks(loan_id=loan.id),
            note=notes,
        )
    if counts.missing:
        await _report_missing(session, loan, item_name, counts.missing)
    await tell_requester(
        session,
        loan,
        item_name,
        "returned",
        returned_on=day.isoformat(),
        returned=counts.returned,
        damaged=counts.damaged,
        missing=counts.missing,
    )
    return loan


async def _report_missing(session: AsyncSession, loan: Loan, item_name: str | None, missing: int) -> None:
    warehouse, code = (
        await session.execute(
            select(Environment.name, InventoryItem.internal_code)
            .outerjoin(InventoryItem, InventoryItem.id == loan.item_id)
            .where(Environment.id == loan.warehouse_id)
        )
    ).one()
    await alerts.raise_alert(
        session,
        AlertType.EQUIPMENT_MISSING,
        AlertSeverity.HIGH,
        subject_type="Loan",
        subject_id=loan.id,
        environment_id=loan.warehouse_id,
        params={
            "item": item_name or loan.item_description or "",
            "code": code or "",
            "environment": warehouse,
            "missing": missing,
        },
    )


def _checked_return(counts: ReturnCounts, loan: Loan, calendar: Calendar) -> tuple[date, str | None]:
    errors = FieldErrors()
    for name in ("returned", "damaged", "missing"):
        validation.int_range(errors, name, getattr(counts, name), minimum=0)
    if not errors.errors and counts.returned + counts.damaged + counts.missing != loan.quantity:
        errors.add("returned", "field.return_counts", quantity=loan.quantity)
    day = counts.return_date or calendar.today
    if day > calendar.today:
        errors.add("returnDate", "field.date_in_future")
    elif loan.delivered_at is not None and day < calendar.day_of(loan.delivered_at):
        errors.add("returnDate", "field.before_delivery", delivered=calendar.day_of(loan.delivered_at).isoformat())
    notes = validation.text(errors, "notes", counts.notes, max_len=2000)
    errors.raise_if_any()
    return day, notes
