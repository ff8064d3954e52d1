"""Loans of equipment from a warehouse.

A loan names a registered item of its warehouse (`item_id`) or describes an unregistered one
(`item_description`), never both. Every invariant the database can hold is a CHECK: the dates
in order, the decision columns present for the states that need them, the returned, damaged
and missing counts adding up to the quantity. The units an approved loan reserves are not
stored: they are the loan's quantity over its dates (see `graphql_api.services.loans`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import LoanPriority, LoanStatus, Role
from graphql_api.db.models.item import MAX_QUANTITY

# Loans that hold units of their item: subtracted from its capacity on every day they cover.
HOLDING = (LoanStatus.APPROVED, LoanStatus.DELIVERED, LoanStatus.OVERDUE)
_HOLDING_SQL = "status IN ('APPROVED', 'DELIVERED', 'OVERDUE')"


class Loan(IdMixin, TimestampMixin, Base):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity_range"),
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("(item_id IS NULL) <> (item_description IS NULL)", name="item_or_description"),
        CheckConstraint("(idempotency_key IS NULL) = (request_hash IS NULL)", name="key_with_hash"),
        CheckConstraint(
            "status NOT IN ('APPROVED', 'DELIVERED', 'OVERDUE', 'RETURNED') OR approved_at IS NOT NULL",
            name="approved_has_decision",
        ),
        CheckConstraint(
            "status <> 'REJECTED' OR (rejected_at IS NOT NULL AND rejection_reason IS NOT NULL)",
            name="rejected_has_reason",
        ),
        CheckConstraint("status <> 'CANCELLED' OR cancelled_at IS NOT NULL", name="cancelled_has_time"),
        CheckConstraint(
            "status NOT IN ('DELIVERED', 'OVERDUE', 'RETURNED') OR delivered_at IS NOT NULL",
            name="delivered_has_time",
        ),
        CheckConstraint(
            "status <> 'RETURNED' OR (returned_at IS NOT NULL AND return_date IS NOT NULL"
            " AND returned_quantity IS NOT NULL)",
            name="returned_has_counts",
        ),
        CheckConstraint(
            "returned_quantity IS NULL OR (returned_quantity >= 0 AND returned_damaged >= 0"
            " AND returned_missing >= 0 AND returned_quantity + returned_damaged + returned_missing = quantity)",
            name="return_counts_add_up",
        ),
        CheckConstraint("(returned_quantity IS NULL) = (returned_damaged IS NULL)", name="return_damaged_with_counts"),
        CheckConstraint("(returned_quantity IS NULL) = (returned_missing IS NULL)", name="return_missing_with_counts"),
        # The same key twice for one requester is a replay of the first request.
        Index(
            "uq_loans_requester_idempotency_key",
            "requester_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # Keyset pages newest first: overall, per warehouse, per requester.
        Index("ix_loans_created_at_id", "created_at", "id"),
        Index("ix_loans_warehouse_created_at_id", "warehouse_id", "created_at", "id"),
        Index("ix_loans_requester_created_at_id", "requester_id", "created_at", "id"),
        # item.loans, and the reservations of an item by date (approval, itemAvailability).
        Index("ix_loans_item_created_at_id", "item_id", "created_at", "id"),
        Index("ix_loans_item_holding_dates", "item_id", "start_date", "end_date", postgresql_where=text(_HOLDING_SQL)),
        # The overdue job: delivered loans by due date.
        Index("ix_loans_delivered_end_date", "end_date", postgresql_where=text("status = 'DELIVERED'")),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"))
    item_description: Mapped[str | None] = mapped_column(String(200))
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The requester's role when asking: supervisors see the loans to instructors of their center.
    requester_role: Mapped[Role] = mapped_column(str_enum(Role, "requester_role", 20))
    quantity: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)
    priority: Mapped[LoanPriority] = mapped_column(
        str_enum(LoanPriority, "priority", 10), server_default="MEDIUM", default=LoanPriority.MEDIUM
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[LoanStatus] = mapped_column(
        str_enum(LoanStatus, "status", 12), server_default="PENDING", default=LoanStatus.PENDING
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # sha256 of the normalized request: a replayed key with another request is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The day the units came back (local date, given by whoever received them).
    return_date: Mapped[date | None] = mapped_column(Date)
    returned_quantity: Mapped[int | None] = mapped_column(Integer)
    returned_damaged: Mapped[int | None] = mapped_column(Integer)
    returned_missing: Mapped[int | None] = mapped_column(Integer)
    return_notes: Mapped[str | None] = mapped_column(Text)
