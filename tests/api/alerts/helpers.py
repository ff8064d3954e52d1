"""What the alerts tests share: raising alerts through the service, reading rows back."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import alerts

ALERT_FIELDS = """
  id type severity status subjectType message createdAt resolvedAt reopenedAt
  subject { id ... on InventoryItem { name } }
  environment { id code }
  resolvedBy { id } reopenedBy { id }
"""
LIST = (
    "query ($where: SystemAlertWhere) { systemAlerts(where: $where, first: 100) { totalCount edges { node { id } } } }"
)
NODE = "query ($id: ID!) { node(id: $id) { id } }"
ONE = "query ($id: ID!) { systemAlert(id: $id) { " + ALERT_FIELDS + " } }"
RESULT = """
  __typename
  ... on AlertPayload { alert { id status resolvedAt resolvedBy { id } reopenedAt reopenedBy { id } } }
  ... on Error { code message }
"""
RESOLVE = "mutation ($id: ID!) { resolveAlert(input: {id: $id}) { " + RESULT + " } }"
REOPEN = "mutation ($id: ID!) { reopenAlert(input: {id: $id}) { " + RESULT + " } }"


def missing_params(item: models.InventoryItem, missing: int = 1) -> dict[str, Any]:
    return {"item": item.name, "code": item.internal_code, "environment": "Room", "missing": missing}


async def raise_missing(
    db: async_sessionmaker[AsyncSession],
    item: models.InventoryItem,
    severity: models.AlertSeverity = models.AlertSeverity.MEDIUM,
) -> uuid.UUID | None:
    """An EQUIPMENT_MISSING alert about `item`, in its own transaction."""
    async with db.begin() as session:
        return await raise_in(session, item, severity)


async def raise_in(
    session: AsyncSession, item: models.InventoryItem, severity: models.AlertSeverity = models.AlertSeverity.MEDIUM
) -> uuid.UUID | None:
    return await alerts.raise_alert(
        session,
        models.AlertType.EQUIPMENT_MISSING,
        severity,
        subject_type="InventoryItem",
        subject_id=item.id,
        environment_id=item.environment_id,
        params=missing_params(item),
    )


async def alert_rows(db: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    """Every alert as a comparable tuple (what a refused change must leave as it was)."""
    async with db() as session:
        rows = await session.execute(text("SELECT t::text FROM system_alerts t ORDER BY id"))
        return [tuple(row) for row in rows]


async def set_status(db: async_sessionmaker[AsyncSession], alert_id: uuid.UUID, status: models.AlertStatus) -> None:
    async with db.begin() as session:
        await session.execute(update(models.SystemAlert).where(models.SystemAlert.id == alert_id).values(status=status))


async def notifications_of(db: async_sessionmaker[AsyncSession]) -> list[tuple[uuid.UUID, str, str]]:
    """(recipient, kind, priority) of every notification, sorted."""
    async with db() as session:
        rows = await session.execute(
            select(models.Notification.recipient_id, models.Notification.kind, models.Notification.priority)
        )
        return sorted((recipient, kind, priority.value) for recipient, kind, priority in rows)


async def outbox_topics(db: async_sessionmaker[AsyncSession]) -> list[str]:
    async with db() as session:
        return list(await session.scalars(select(models.OutboxEvent.topic).order_by(models.OutboxEvent.id)))
