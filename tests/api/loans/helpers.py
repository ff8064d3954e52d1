"""Loans made through the services, in any state, for the loans domain's tests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.auth.scope import Principal
from graphql_api.db import models
from graphql_api.services import loans
from graphql_api.settings import Settings
from tests.conftest import Actor

# The steps that lead to each state, after the request.
PATHS: dict[models.LoanStatus, tuple[str, ...]] = {
    models.LoanStatus.PENDING: (),
    models.LoanStatus.APPROVED: ("approve",),
    models.LoanStatus.REJECTED: ("reject",),
    models.LoanStatus.CANCELLED: ("cancel",),
    models.LoanStatus.DELIVERED: ("approve", "deliver"),
    models.LoanStatus.OVERDUE: ("approve", "deliver", "overdue"),
    models.LoanStatus.RETURNED: ("approve", "deliver", "return"),
}


def today(settings: Settings) -> date:
    return loans.Calendar.of(settings).today


async def make_loan(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    requester: Actor,
    decider: Actor,
    warehouse: models.Environment,
    *,
    status: models.LoanStatus = models.LoanStatus.PENDING,
    item: models.InventoryItem | None = None,
    description: str | None = None,
    quantity: int = 1,
    start: int = 0,
    days: int = 2,
    days_ago: int = 0,
    **options: Any,
) -> models.Loan:
    """A loan of `item` (or of an unregistered item described as `description`), requested by
    `requester` from `warehouse` for the days today+start .. today+start+days-1, then taken to
    `status` by `decider` (OVERDUE: delivered, then marked by the job with the clock moved
    past its end). With `days_ago`, requested and decided as if it were that many days ago."""
    calendar = _calendar(settings, days_ago)
    first = calendar.today + timedelta(days=start)
    request = loans.LoanRequest(
        warehouse_id=warehouse.id,
        item_id=item.id if item is not None else None,
        item_description=description if item is None else None,
        quantity=quantity,
        purpose=options.pop("purpose", "Clase práctica"),
        start_date=first,
        end_date=first + timedelta(days=days - 1),
        **options,
    )
    async with db.begin() as session:
        loan = await loans.create_loan(session, requester.principal, request, calendar=calendar)
    for step in PATHS[status]:
        await _step(db, calendar, step, loan, requester.principal, decider.principal)
    return loan


def _calendar(settings: Settings, days_ago: int) -> loans.Calendar:
    clock = loans.Calendar.of(settings)
    return loans.Calendar(clock.timezone, clock.now - timedelta(days=days_ago))


async def _step(
    db: async_sessionmaker[AsyncSession],
    calendar: loans.Calendar,
    step: str,
    loan: models.Loan,
    requester: Principal,
    decider: Principal,
) -> None:
    async with db.begin() as session:
        if step == "approve":
            await loans.approve_loan(session, decider, loan.id, calendar=calendar)
        elif step == "reject":
            await loans.reject_loan(session, decider, loan.id, reason="Sin unidades")
        elif step == "cancel":
            await loans.cancel_loan(session, requester, loan.id)
        elif step == "deliver":
            await loans.deliver_loan(session, decider, loan.id)
        elif step == "return":
            counts = loans.ReturnCounts(returned=loan.quantity)
            await loans.return_loan(session, decider, loan.id, counts, calendar=calendar)
        else:
            assert step == "overdue"
            await loans.mark_overdue(session, today=loan.end_date + timedelta(days=1))


async def status_of(db: async_sessionmaker[AsyncSession], loan_id: uuid.UUID) -> models.LoanStatus:
    async with db() as session:
        loan = await session.get(models.Loan, loan_id)
        assert loan is not None
        return loan.status


# Every business table a loan's transition may write (the audit log aside).
WRITTEN_BY_LOANS = (
    "loans",
    "inventory_items",
    "inventory_movements",
    "notifications",
    "outbox_events",
    "system_alerts",
)


async def snapshot(db: async_sessionmaker[AsyncSession]) -> dict[str, set[str]]:
    """md5 of every row of the tables a transition may write."""
    out: dict[str, set[str]] = {}
    async with db() as session:
        for table in WRITTEN_BY_LOANS:
            rows = await session.execute(text(f"SELECT md5(t::text) FROM {table} t"))
            out[table] = {row[0] for row in rows}
    return out


async def ledger_adds_up(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> models.InventoryItem:
    """The item, after checking that its quantities are the sum of its ledger."""
    async with db() as session:
        item = await session.get(models.InventoryItem, item_id)
        assert item is not None
        sums = (
            await session.execute(
                select(
                    func.sum(models.InventoryMovement.delta_quantity),
                    func.sum(models.InventoryMovement.delta_damaged),
                    func.sum(models.InventoryMovement.delta_missing),
                    func.sum(models.InventoryMovement.delta_in_maintenance),
                    func.sum(models.InventoryMovement.delta_on_loan),
                    func.count(),
                ).where(models.InventoryMovement.item_id == item_id)
            )
        ).one()
    buckets = (
        item.quantity,
        item.quantity_damaged,
        item.quantity_missing,
        item.quantity_in_maintenance,
        item.quantity_on_loan,
        item.movement_count,
    )
    assert tuple(int(value) for value in sums) == buckets
    return item
