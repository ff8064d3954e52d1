"""The daily inventory check of a room, per class slot and local date, and what it recorded.

At the start the check captures, per active item of the room, the units that should be there
(`expected`: owned, not on loan, not in maintenance) and the damaged and missing units already
known; what the students find is compared with that capture, never with the item as it is
later, so totals and findings stay those of the check whatever moves afterwards.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import CheckStatus, ReviewDecision


class InventoryCheck(IdMixin, TimestampMixin, Base):
    __tablename__ = "inventory_checks"
    __table_args__ = (
        # One check per class and local day, whatever races to start it.
        UniqueConstraint("environment_id", "schedule_id", "check_date", name="uq_inventory_checks_one_per_class_day"),
        Index("ix_inventory_checks_check_date_id", "check_date", "id"),
        Index("ix_inventory_checks_environment_check_date", "environment_id", "check_date"),
        Index("ix_inventory_checks_status", "status"),
    )

    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="RESTRICT"))
    check_date: Mapped[date] = mapped_column(Date)
    status: Mapped[CheckStatus] = mapped_column(
        str_enum(CheckStatus, "status", 20), server_default="STUDENT_PENDING", default=CheckStatus.STUDENT_PENDING
    )
    started_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    student_submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    student_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleaning_notes: Mapped[str | None] = mapped_column(Text)
    instructor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    instructor_reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_clean: Mapped[bool | None] = mapped_column(Boolean)
    is_organized: Mapped[bool | None] = mapped_column(Boolean)
    inventory_complete: Mapped[bool | None] = mapped_column(Boolean)
    instructor_comments: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How many items the check covers (fixed at the start): `items` of the totals without a count.
    item_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)


class CheckItem(IdMixin, Base):
    """One item of a check: the capture at the start and, once recorded, the findings."""

    __tablename__ = "inventory_check_items"
    __table_args__ = (
        UniqueConstraint("check_id", "item_id", name="uq_inventory_check_items_check_item"),
        Index("ix_inventory_check_items_check_position", "check_id", "position"),
        CheckConstraint("expected >= 0 AND known_damaged >= 0 AND known_missing >= 0", name="capture_non_negative"),
        CheckConstraint("found >= 0 AND damaged >= 0 AND missing >= 0", name="findings_non_negative"),
        # Recorded all together, and adding up to what was expected.
        CheckConstraint(
            "(found IS NULL AND damaged IS NULL AND missing IS NULL AND recorded_at IS NULL)"
            " OR (found + damaged + missing = expected AND recorded_at IS NOT NULL)",
            name="findings_add_up",
        ),
    )

    check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_checks.id", ondelete="RESTRICT"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"))
    # The item's place in the check (by name at the start): the order records are listed in.
    position: Mapped[int] = mapped_column(Integer)
    expected: Mapped[int] = mapped_column(Integer)
    known_damaged: Mapped[int] = mapped_column(Integer)
    known_missing: Mapped[int] = mapped_column(Integer)
    found: Mapped[int | None] = mapped_column(Integer)
    damaged: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CheckReview(IdMixin, Base):
    """A supervisor's decision on a check (append-only: the check's review history)."""

    __tablename__ = "inventory_check_reviews"
    __table_args__ = (Index("ix_inventory_check_reviews_check_created", "check_id", "created_at"),)

    check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_checks.id", ondelete="RESTRICT"))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decision: Mapped[ReviewDecision] = mapped_column(str_enum(ReviewDecision, "decision", 10))
    comments: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class CheckReminder(Base):
    """A class whose check was not submitted by the end of the slot, noted once per day by the
    periodic job (which raises VERIFICATION_PENDING for it then)."""

    __tablename__ = "inventory_check_reminders"

    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="RESTRICT"), primary_key=True)
    check_date: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
