"""System alerts and each user's alert settings.

Never two open alerts of one type for one object: a partial unique index decides, so two
concurrent raises end with one alert.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text, true
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import AlertSeverity, AlertStatus, AlertType


class SystemAlert(IdMixin, TimestampMixin, Base):
    __tablename__ = "system_alerts"
    __table_args__ = (
        Index(
            "uq_system_alerts_open_per_subject",
            "alert_type",
            "subject_id",
            unique=True,
            postgresql_where=text("status = 'OPEN'"),
        ),
        Index("ix_system_alerts_environment_created", "environment_id", "created_at"),
        Index("ix_system_alerts_created_at_id", "created_at", "id"),
    )

    alert_type: Mapped[AlertType] = mapped_column(str_enum(AlertType, "alert_type", 30))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity, "severity", 10))
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus, "status", 10), server_default="OPEN")
    # The object concerned, as a node (GraphQL type name and id), and its environment (scope).
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    # What to say about it: `alert.<type>` in the catalogue, with these parameters.
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Null with a resolution time: resolved by the system (e.g. restocked).
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class AlertSettings(TimestampMixin, Base):
    __tablename__ = "alert_settings"
    __table_args__ = (CheckConstraint("low_stock_threshold BETWEEN 0 AND 100000", name="threshold_range"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, server_default="5", default=5)
    # The alert types the user wants; null: all of them (also types added later).
    alert_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(30)))
    min_severity: Mapped[AlertSeverity] = mapped_column(
        str_enum(AlertSeverity, "min_severity", 10), server_default="LOW", default=AlertSeverity.LOW
    )
    notify: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
