"""System alerts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import AlertSeverity, AlertType, SystemAlert


async def raise_alert(
    session: AsyncSession,
    alert_type: AlertType,
    severity: AlertSeverity,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    environment_id: uuid.UUID,
    params: dict[str, Any],
) -> SystemAlert | None:
    """Stand-in until the alerts domain lands: same signature."""
    # The partial unique index uq_system_alerts_open_per_subject: one open alert per type and
    # subject; a second raise while it is open inserts nothing.
    stmt = (
        insert(SystemAlert)
        .values(
            alert_type=alert_type,
            severity=severity,
            subject_type=subject_type,
            subject_id=subject_id,
            environment_id=environment_id,
            params=params,
        )
        .on_conflict_do_nothing(index_elements=["alert_type", "subject_id"], index_where=text("status = 'OPEN'"))
        .returning(SystemAlert)
    )
    alert: SystemAlert | None = (await session.execute(stmt)).scalar_one_or_none()
    return alert
