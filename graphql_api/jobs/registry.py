"""The periodic jobs, one line each: a job is a function of its domain's service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.jobs.scheduler import Job
from graphql_api.services import checks, events, loans, low_stock, maintenance, notifications
from graphql_api.settings import Settings


async def _trim_outbox(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    retention = timedelta(seconds=settings.outbox_retention_seconds)
    return {"deleted": await events.trim_outbox(session, older_than=retention, now=now)}


async def _expire_notifications(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    return {"deleted": await notifications.delete_expired(session, now=now)}


async def _mark_overdue_loans(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    return await loans.mark_overdue(session, today=loans.Calendar.of(settings, now).today)


JOBS: tuple[Job, ...] = (
    Job("trim_outbox", timedelta(minutes=10), _trim_outbox),
    Job("expire_notifications", timedelta(minutes=10), _expire_notifications),
    Job("low_stock_alerts", timedelta(minutes=1), low_stock.run),
    Job("maintenance_plans", timedelta(minutes=10), maintenance.run_plans),
    Job("mark_overdue_loans", timedelta(minutes=1), _mark_overdue_loans),
    Job("remind_pending_checks", timedelta(minutes=5), checks.remind_pending_checks),
)
