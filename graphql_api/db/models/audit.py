"""The audit log: one row per mutation and per login attempt, written only by the server."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, str_enum
from graphql_api.db.models.enums import AuditOutcome, Role


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_created_at", "created_at"),
        Index("ix_audit_logs_actor_id", "actor_id"),
        Index("ix_audit_logs_entity", "entity_type", "entity_id"),
        Index("ix_audit_logs_operation", "operation"),
    )

    # No foreign key: the log must outlive anything it mentions and never block a write.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_role: Mapped[Role | None] = mapped_column(str_enum(Role, "actor_role"))
    operation: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]", default=list)
    outcome: Mapped[AuditOutcome] = mapped_column(str_enum(AuditOutcome, "outcome", 10))
    error_code: Mapped[str | None] = mapped_column(String(60))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
