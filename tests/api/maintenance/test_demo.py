"""The demo data has maintenance requests in every state in each center, made through the
services (so the ledger adds up), a manual history entry and a plan."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import demo
from graphql_api.settings import Settings
from tests.api.maintenance.helpers import ledger_adds_up


async def test_the_demo_has_requests_in_every_state(db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with db.begin() as session:
        await demo.load_demo(session, settings)
    async with db() as session:
        rows = (
            await session.execute(
                select(models.Center.code, models.MaintenanceRequest.status)
                .join(models.Environment, models.Environment.id == models.MaintenanceRequest.environment_id)
                .join(models.Center, models.Center.id == models.Environment.center_id)
            )
        ).all()
        records = await session.scalar(select(func.count()).select_from(models.MaintenanceRecord))
        plans = await session.scalar(select(func.count()).select_from(models.MaintenancePlan))
        touched = (await session.scalars(select(models.MaintenanceRequest.item_id).distinct())).all()
    by_center = Counter(code for code, _ in rows)
    assert set(by_center) == {"CGMLTI", "CDM"}
    for code in by_center:
        assert {status for center, status in rows if center == code} == set(models.MaintenanceStatus)
    # One record per completed request and one manual entry, per center.
    assert (records, plans) == (4, 2)
    for item_id in touched:
        if item_id is not None:
            await ledger_adds_up(db, item_id)
