"""The outbox of events and the log of periodic job runs.

Every event (a stock movement, a notification, a revoked session, ...) is a row written in the
transaction of the change that causes it; after commit, PostgreSQL's NOTIFY wakes every
worker's listener, which reads the new rows in order. Rows are trimmed by a periodic job.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_created_at", "created_at"),)

    # Increasing in commit order: rows are inserted under one lock taken just before commit.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    # The main object of the event (the item of a stock movement, the notification, ...).
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Scope: the environment the event belongs to, and the users it is for (notifications).
    environment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    user_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    # Other ids the event concerns (e.g. the movement of a stock change); ids only, never data.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class JobRun(Base):
    """One run of a periodic job (`graphql_api.jobs`): when, how it ended, what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(20), server_default="RUNNING")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
