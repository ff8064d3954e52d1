"""The low-stock job: a LOW_STOCK alert for every active group item whose available units fell
to its environment's threshold or below, resolved by the system once the item is restocked
above it (or retired).

Only group items: an individual item is one unit that is either there or not, and its absence
is an EQUIPMENT_MISSING alert of the checks, not low stock.

An environment's threshold is the highest `lowStockThreshold` among the active users who read
its alerts (SUPERVISOR of its center, ADMIN of it, ADMIN_GENERAL) and whose settings take
LOW_STOCK alerts; a user who never saved settings counts with the default, 5, and so does an
environment with no such user. Whether those users want notifications, and from which
severity, decides who is notified, not whether the alert exists: the alert list is shared by
everyone in scope.

Severity: HIGH when no unit is available, MEDIUM otherwise. The run is three statements at
most (resolve, raise, notify), whatever the number of items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, case, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from graphql_api.db.models import (
    AlertSettings,
    AlertSeverity,
    AlertType,
    Environment,
    InventoryItem,
    ItemStatus,
    ItemType,
    SystemAlert,
    User,
)
from graphql_api.services import alerts
from graphql_api.services.items import available_expr
from graphql_api.settings import Settings

SUBJECT = "InventoryItem"


def _thresholds() -> Subquery:
    target, home = aliased(Environment), aliased(Environment)
    return (
        select(
            target.id.label("environment_id"),
            func.max(func.coalesce(AlertSettings.low_stock_threshold, alerts.DEFAULT_THRESHOLD)).label("threshold"),
        )
        .select_from(target)
        .join(User, true())
        .outerjoin(home, home.id == User.environment_id)
        .outerjoin(AlertSettings, AlertSettings.user_id == User.id)
        .where(
            alerts.reaches(User, home, target), alerts.accepts_type(AlertSettings, literal(AlertType.LOW_STOCK.value))
        )
        .group_by(target.id)
        .subquery("thresholds")
    )


def stock() -> Subquery:
    """Every item with its available units and its environment's threshold."""
    thresholds = _thresholds()
    return (
        select(
            InventoryItem.id,
            InventoryItem.environment_id,
            InventoryItem.name,
            InventoryItem.internal_code,
            InventoryItem.status,
            InventoryItem.item_type,
            Environment.name.label("environment"),
            available_expr().label("available"),
            func.coalesce(thresholds.c.threshold, alerts.DEFAULT_THRESHOLD).label("threshold"),
        )
        .select_from(InventoryItem)
        .join(Environment, Environment.id == InventoryItem.environment_id)
        .outerjoin(thresholds, thresholds.c.environment_id == InventoryItem.environment_id)
        .subquery("stock")
    )


def _raise_statement(now: datetime) -> Any:
    s = stock()
    params = func.jsonb_build_object(
        "item", s.c.name, "code", s.c.internal_code, "environment", s.c.environment,
        "available", s.c.available, "threshold", s.c.threshold,
    )  # fmt: skip
    severity = case((s.c.available <= 0, AlertSeverity.HIGH.value), else_=AlertSeverity.MEDIUM.value)
    low = select(
        func.gen_random_uuid(),
        literal(AlertType.LOW_STOCK.value),
        severity,
        literal("OPEN"),
        literal(SUBJECT),
        s.c.id,
        s.c.environment_id,
        params,
        literal(now),
        literal(now),
    ).where(
        s.c.status == ItemStatus.ACTIVE.value,
        s.c.item_type == ItemType.GROUP.value,
        s.c.available <= s.c.threshold,
    )
    columns = [
        "id", "alert_type", "severity", "status", "subject_type", "subject_id", "environment_id", "params",
        "created_at", "updated_at",
    ]  # fmt: skip
    insert = pg_insert(SystemAlert).from_select(columns, low)
    return alerts.on_conflict_keep_open(insert).returning(SystemAlert.id, SystemAlert.environment_id)


async def run(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    """The periodic job: resolve what was restocked, raise what is low, notify once."""
    s = stock()
    restocked = or_(
        s.c.status != ItemStatus.ACTIVE.value, s.c.item_type != ItemType.GROUP.value, s.c.available > s.c.threshold
    )
    resolved = await alerts.resolve_by_system(
        session, (SystemAlert.alert_type == AlertType.LOW_STOCK) & (SystemAlert.subject_id == s.c.id) & restocked, now
    )
    raised = [(row.id, row.environment_id) for row in (await session.execute(_raise_statement(now))).all()]
    await alerts.announce(session, raised)
    return {"raised": len(raised), "resolved": len(resolved)}
