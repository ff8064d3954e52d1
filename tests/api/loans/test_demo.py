"""The demo data set has, in each center's warehouse, a loan in every state, made through the
service (so the ledger, the alerts and the inboxes agree with them)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import demo
from graphql_api.settings import Settings
from tests.api.loans.helpers import ledger_adds_up


async def test_the_demo_has_loans_in_every_state(db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with db.begin() as session:
        await demo.load_demo(session, settings)
    async with db() as session:
        rows = (await session.execute(select(models.Loan.warehouse_id, models.Loan.status))).all()
        item_ids = (await session.scalars(select(models.InventoryItem.id))).all()
        overdue_alerts = await session.scalar(
            select(func.count())
            .select_from(models.SystemAlert)
            .where(models.SystemAlert.alert_type == models.AlertType.LOAN_OVERDUE)
        )
        requested = await session.scalar(
            select(func.count()).select_from(models.Notification).where(models.Notification.kind == "loan.requested")
        )
    per_warehouse: dict[object, Counter[models.LoanStatus]] = {}
    for warehouse, status in rows:
        per_warehouse.setdefault(warehouse, Counter())[status] += 1
    assert len(per_warehouse) == 2
    for counted in per_warehouse.values():
        assert set(counted) == set(models.LoanStatus)
    assert overdue_alerts == 2
    assert requested == len(rows)  # each request told its warehouse's administrator
    for item_id in item_ids:
        await ledger_adds_up(db, item_id)
