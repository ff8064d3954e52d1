"""The periodic reminder: a class of today whose check is not submitted once the slot has ended
raises VERIFICATION_PENDING, once per class and day (the reminder row remembers it, so a
resolved alert is not raised again the same day)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    CheckReminder,
    CheckStatus,
    Environment,
    InventoryCheck,
    Schedule,
)
from graphql_api.services import alerts
from graphql_api.services.schedules import on_date
from graphql_api.settings import Settings


def _overdue_classes(now: datetime) -> Any:
    """Today's classes (local time) that have ended without a submitted check."""
    day = now.date()
    submitted = (
        select(InventoryCheck.id)
        .where(
            InventoryCheck.schedule_id == Schedule.id,
            InventoryCheck.check_date == day,
            InventoryCheck.status != CheckStatus.STUDENT_PENDING,
        )
        .exists()
    )
    return select(Schedule.id, literal(day)).where(on_date(day), Schedule.end_time <= now.time(), ~submitted)


async def remind_pending_checks(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    """Note every overdue class once (one statement for all), then raise an alert for each
    newly noted one."""
    local = now.astimezone(settings.timezone).replace(tzinfo=None)
    noted = (
        (
            await session.execute(
                pg_insert(CheckReminder)
                .from_select(["schedule_id", "check_date"], _overdue_classes(local))
                .on_conflict_do_nothing()
                .returning(CheckReminder.schedule_id)
            )
        )
        .scalars()
        .all()
    )
    if not noted:
        return {"raised": 0}
    columns = (Schedule.id, Schedule.environment_id, Environment.name, Schedule.start_time, Schedule.end_time)
    classes = (
        await session.execute(
            select(*columns).join(Environment, Environment.id == Schedule.environment_id).where(Schedule.id.in_(noted))
        )
    ).all()
    raised = 0
    for schedule_id, environment_id, room, start, end in classes:
        slot = f"{start.strftime('%H:%M')}-{end.strftime('%H:%M')}"
        params = {"environment": room, "date": local.date().isoformat(), "slot": slot}
        alert = await alerts.raise_alert(
            session,
            AlertType.VERIFICATION_PENDING,
            AlertSeverity.MEDIUM,
            subject_type="Schedule",
            subject_id=schedule_id,
            environment_id=environment_id,
            params=params,
        )
        raised += alert is not None
    return {"noted": len(noted), "raised": raised}
