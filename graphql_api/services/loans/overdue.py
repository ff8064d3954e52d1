"""The periodic job: delivered loans whose end date has passed (in APP_TIMEZONE) become
OVERDUE, their requesters are told and a LOAN_OVERDUE alert is raised for each.

Once per loan: the loan leaves DELIVERED in the same statement that selects it (a second run,
or a second worker, finds nothing), and an open alert per loan is unique in the database.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    Environment,
    InventoryItem,
    Loan,
    LoanStatus,
    NotificationPriority,
    User,
)
from graphql_api.services import alerts, events, notifications
from graphql_api.services.loans.messages import LOAN_CHANGED
from graphql_api.services.loans.transitions import MARK_OVERDUE
from graphql_api.services.notifications import Notice

_RETURNED = (
    Loan.id,
    Loan.requester_id,
    Loan.warehouse_id,
    Loan.item_id,
    Loan.item_description,
    Loan.quantity,
    Loan.start_date,
    Loan.end_date,
)


async def mark_overdue(session: AsyncSession, *, today: date) -> dict[str, Any]:
    """DELIVERED loans due before `today` → OVERDUE (one statement for all of them, with their
    items' names), one statement of notifications for all, and an alert per loan."""
    (source,) = MARK_OVERDUE.sources
    marked = (
        update(Loan)
        .where(Loan.status == source, Loan.end_date < today)
        .values(status=MARK_OVERDUE.target, overdue_at=func.now())
        .returning(*_RETURNED)
        .cte("marked")
    )
    rows = (
        await session.execute(
            select(
                marked,
                InventoryItem.name,
                Environment.name.label("warehouse"),
                func.concat_ws(" ", User.first_name, User.last_name).label("requester"),
            )
            .outerjoin(InventoryItem, InventoryItem.id == marked.c.item_id)
            .join(Environment, Environment.id == marked.c.warehouse_id)
            .join(User, User.id == marked.c.requester_id)
        )
    ).all()
    notices = [Notice(row.requester_id, _params(row), ("Loan", row.id)) for row in rows]
    await notifications.notify_each(session, "loan.overdue", notices, priority=NotificationPriority.HIGH)
    raised = 0
    for row in rows:
        alert = await alerts.raise_alert(
            session,
            AlertType.LOAN_OVERDUE,
            AlertSeverity.MEDIUM,
            subject_type="Loan",
            subject_id=row.id,
            environment_id=row.warehouse_id,
            params=_alert_params(row),
        )
        raised += alert is not None
        events.publish(
            session,
            LOAN_CHANGED,
            subject_id=row.id,
            environment_id=row.warehouse_id,
            user_ids=[row.requester_id],
            status=LoanStatus.OVERDUE.value,
        )
    return {"marked": len(rows), "alerts": raised}


def _params(row: Any) -> dict[str, Any]:
    return {
        "item": row.name if row.name is not None else row.item_description or "",
        "quantity": row.quantity,
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat(),
    }


def _alert_params(row: Any) -> dict[str, Any]:
    return {
        "item": row.name if row.name is not None else row.item_description or "",
        "environment": row.warehouse,
        "requester": row.requester,
        "due_date": row.end_date.isoformat(),
    }
