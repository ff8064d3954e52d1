"""Concurrent requests racing for the same loan or the same units: exactly one wins, the
others get a ConflictError, and the ledger and the buckets add up. Each test sends 20
requests at once through the in-process app (each in its own transaction on its own pooled
connection)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.settings import Settings
from tests.api.loans.graphql import act
from tests.api.loans.helpers import ledger_adds_up, make_loan
from tests.conftest import Actor, Factory, GraphQLClient, World

Status = models.LoanStatus
N = 20


async def race(gql: GraphQLClient, calls: list[tuple[str, Any, Actor, dict[str, Any]]]) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(act(gql, name, loan, actor, **values) for name, loan, actor, values in calls)))


def outcomes(results: list[dict[str, Any]]) -> Counter[str]:
    return Counter(result["__typename"] for result in results)


async def loans_of(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> list[models.Loan]:
    async with db() as session:
        return list((await session.scalars(select(models.Loan).where(models.Loan.item_id == item.id))).all())


async def reasons(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> Counter[models.MovementReason]:
    async with db() as session:
        rows = await session.scalars(
            select(models.InventoryMovement.reason).where(models.InventoryMovement.item_id == item.id)
        )
        return Counter(rows.all())


def _shapes(shuffle: random.Random) -> list[dict[str, int]]:
    return [
        {"quantity": shuffle.randint(1, 4), "start": shuffle.randint(0, 5), "days": shuffle.randint(1, 4)}
        for _ in range(N)
    ]


def _days(loan: models.Loan) -> list[date]:
    return [loan.start_date + timedelta(days=i) for i in range((loan.end_date - loan.start_date).days + 1)]


def _shapes(shuffle: random.Random) -> list[dict[str, int]]:
    return [
        {"quantity": shuffle.randint(1, 4), "start": shuffle.randint(0, 5), "days": shuffle.randint(1, 4)}
        for _ in range(N)
    ]


def _days(loan: models.Loan) -> list[date]:
    return [loan.start_date + timedelta(days=i) for i in range((loan.end_date - loan.start_date).days + 1)]


def held(loans: list[models.Loan], day: date, *, extra: models.Loan | None = None) -> int:
    chosen = [loan for loan in loans if loan.status is Status.APPROVED] + ([extra] if extra else [])
    return sum(loan.quantity for loan in chosen if loan.start_date <= day <= loan.end_date)


async def test_twenty_concurrent_approvals_never_oversubscribe_an_item(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory
) -> None:
    item = await factory.item(world.aw, quantity=10)
    # A fixed mix of overlapping ranges and quantities.
    shuffle = random.Random(12)
    pending = [
        await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, **shape)
        for shape in _shapes(shuffle)
    ]
    assert sum(loan.quantity for loan in pending) > 10
    results = await race(gql, [("approveLoan", loan, world.admin, {}) for loan in pending])
    counted = outcomes(results)
    assert set(counted) == {"LoanPayload", "ConflictError"}, counted
    loans = await loans_of(db, item)
    days = {day for loan in loans for day in _days(loan)}
    # The approved total never exceeds the stock on any day...
    assert max(held(loans, day) for day in days) <= 10
    # ...and every refused loan was refused for a reason: it would not fit next to the approved.
    for loan in (loan for loan in loans if loan.status is Status.PENDING):
        assert any(held(loans, day, extra=loan) > 10 for day in days), loan.id
    assert sum(loan.status is Status.APPROVED for loan in loans) == counted["LoanPayload"]


async def test_a_loan_approved_twenty_times_at_once_is_approved_once(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=10)
    results = await race(gql, [("approveLoan", loan, world.admin, {})] * N)
    assert outcomes(results) == {"LoanPayload": 1, "ConflictError": N - 1}
    assert all("APPROVED" in r["message"] for r in results if r["__typename"] == "ConflictError")
    async with db() as session:
        told = (
            await session.scalars(select(models.Notification.kind).where(models.Notification.kind == "loan.approved"))
        ).all()
    assert len(told) == 1


async def test_approve_against_cancel(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=world.items["aw"][1])
    calls = [("approveLoan", loan, world.admin, {}), ("cancelLoan", loan, world.instructor, {})] * (N // 2)
    results = await race(gql, calls)
    assert outcomes(results) == {"LoanPayload": 1, "ConflictError": N - 1}
    (winner,) = [result["loan"]["status"] for result in results if result["__typename"] == "LoanPayload"]
    (loan_now,) = await loans_of(db, world.items["aw"][1])
    assert loan_now.status.value == winner
    assert (loan_now.approved_at is None) == (winner == "CANCELLED")
    assert (loan_now.cancelled_at is None) == (winner == "APPROVED")


async def test_a_loan_delivered_twenty_times_at_once_moves_its_units_once(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]
    loan = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.APPROVED, item=item, quantity=6
    )
    results = await race(gql, [("deliverLoan", loan, world.admin, {})] * N)
    assert outcomes(results) == {"LoanPayload": 1, "ConflictError": N - 1}
    assert await reasons(db, item) == {models.MovementReason.INITIAL: 1, models.MovementReason.LOAN_OUT: 1}
    stocked = await ledger_adds_up(db, item.id)
    assert (stocked.quantity_on_loan, stocked.quantity_available) == (6, 4)


async def test_a_loan_returned_twenty_times_at_once_comes_back_once(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]
    loan = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.DELIVERED, item=item, quantity=6
    )
    values = {"returned": 4, "damaged": 1, "missing": 1}
    results = await race(gql, [("returnLoan", loan, world.admin, values)] * N)
    assert outcomes(results) == {"LoanPayload": 1, "ConflictError": N - 1}
    assert await reasons(db, item) == {
        models.MovementReason.INITIAL: 1,
        models.MovementReason.LOAN_OUT: 1,
        models.MovementReason.LOAN_RETURN: 1,
    }
    stocked = await ledger_adds_up(db, item.id)
    assert (stocked.quantity_on_loan, stocked.quantity_damaged, stocked.quantity_missing) == (0, 1, 1)
    async with db() as session:
        raised = (await session.scalars(select(models.SystemAlert.alert_type))).all()
    assert raised == [models.AlertType.EQUIPMENT_MISSING]
