"""Notifications: created by the server inside the change that causes them, read by their
recipient only. The title and body are rendered in the reader's language when read, from the
message key and parameters stored here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, str_enum
from graphql_api.db.models.enums import NotificationPriority


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The inbox: a recipient's newest first, and the unread count.
        Index("ix_notifications_recipient_created", "recipient_id", "created_at", "id"),
        Index("ix_notifications_recipient_unread", "recipient_id", postgresql_where=text("read_at IS NULL")),
        Index("ix_notifications_expires_at", "expires_at"),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # What happened, e.g. `user.role_changed`; the catalogue has `notification.<kind>.title/body`.
    kind: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    priority: Mapped[NotificationPriority] = mapped_column(
        str_enum(NotificationPriority, "priority", 10), server_default="NORMAL"
    )
    # The object concerned, as a node: its GraphQL type name and id (resolved within the
    # reader's scope when read).
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
