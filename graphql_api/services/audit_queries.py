"""Reading the audit log (ADMIN_GENERAL only; the permission is declared on the fields)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, select

from graphql_api.db.models import AuditLog, AuditOutcome


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_ids: list[uuid.UUID] | None = None
    operations: list[str] | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    outcomes: list[AuditOutcome] | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    request_id: str | None = None


def audit_query(where: AuditFilter) -> Select[AuditLog]:
    stmt = select(AuditLog)
    if where.actor_ids is not None:
        stmt = stmt.where(AuditLog.actor_id.in_(where.actor_ids))
    if where.operations:
        stmt = stmt.where(AuditLog.operation.in_(where.operations))
    if where.entity_type:
        stmt = stmt.where(AuditLog.entity_type == where.entity_type)
    if where.entity_id is not None:
        try:
            stmt = stmt.where(AuditLog.entity_id == uuid.UUID(where.entity_id))
        except ValueError:
            stmt = stmt.where(false())
    if where.outcomes:
        stmt = stmt.where(AuditLog.outcome.in_(where.outcomes))
    if where.from_time is not None:
        stmt = stmt.where(AuditLog.created_at >= where.from_time)
    if where.to_time is not None:
        stmt = stmt.where(AuditLog.created_at < where.to_time)
    if where.request_id:
        stmt = stmt.where(AuditLog.request_id == where.request_id)
    return stmt
