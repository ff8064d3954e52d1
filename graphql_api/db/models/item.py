"""Inventory items and their append-only stock ledger.

`quantity` is the number of units the environment owns. Units that are not available sit in
buckets (damaged, missing, in maintenance, on loan); available = quantity - sum(buckets) is
computed, never stored. CHECK constraints keep every bucket >= 0 and their sum <= quantity, so a
bug in the service layer cannot corrupt stock silently.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import ItemCategory, ItemStatus, ItemType, MovementReason
from graphql_api.db.models.organization import Environment

# The most units one item row may own. Far below the 32-bit column limit, so that no sum of a
# quantity and a valid delta can overflow in SQL.
MAX_QUANTITY = 100_000
BUCKETS = ("quantity_damaged", "quantity_missing", "quantity_in_maintenance", "quantity_on_loan")


class InventoryItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "inventory_items"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("quantity_damaged >= 0", name="damaged_non_negative"),
        CheckConstraint("quantity_missing >= 0", name="missing_non_negative"),
        CheckConstraint("quantity_in_maintenance >= 0", name="in_maintenance_non_negative"),
        CheckConstraint("quantity_on_loan >= 0", name="on_loan_non_negative"),
        CheckConstraint(
            "quantity_damaged + quantity_missing + quantity_in_maintenance + quantity_on_loan <= quantity",
            name="buckets_within_quantity",
        ),
        CheckConstraint("item_type <> 'INDIVIDUAL' OR quantity <= 1", name="individual_single_unit"),
        CheckConstraint(f"quantity <= {MAX_QUANTITY}", name="quantity_at_most_max"),
        # Serve the default keyset ordering (name, id) without a sort: overall and per room.
        Index("ix_inventory_items_name_id", "name", "id"),
        Index("ix_inventory_items_environment_id_name_id", "environment_id", "name", "id"),
        Index("ix_inventory_items_category", "category"),
    )

    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    internal_code: Mapped[str] = mapped_column(String(50), unique=True)
    serial_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    category: Mapped[ItemCategory] = mapped_column(str_enum(ItemCategory, "category", 20))
    item_type: Mapped[ItemType] = mapped_column(str_enum(ItemType, "item_type", 12))
    status: Mapped[ItemStatus] = mapped_column(
        str_enum(ItemStatus, "status", 10), server_default="ACTIVE", default=ItemStatus.ACTIVE
    )
    brand: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(100))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    warranty_expiry: Mapped[date | None] = mapped_column(Date)
    last_maintenance_date: Mapped[date | None] = mapped_column(Date)
    next_maintenance_date: Mapped[date | None] = mapped_column(Date)
    image_url: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    quantity_damaged: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    quantity_missing: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    quantity_in_maintenance: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    quantity_on_loan: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How many ledger rows the item has, kept by the statements that append them: a page's
    # `movements { totalCount }` then costs the same whatever the history.
    movement_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)

    environment: Mapped[Environment] = relationship(lazy="raise")

    @property
    def quantity_available(self) -> int:
        unavailable: int = sum(getattr(self, bucket) for bucket in BUCKETS)
        return self.quantity - unavailable


class InventoryMovement(IdMixin, Base):
    """One change of an item's quantities. Rows are never updated or deleted (a trigger
    enforces it); the current stock is the sum of the ledger."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        # Newest-first pages per item (created_at DESC, id DESC) and counts per item.
        Index("ix_inventory_movements_item_id_created_at_id", "item_id", "created_at", "id"),
        Index("ix_inventory_movements_environment_id", "environment_id"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"))
    # Copied from the item so that scope filters need no join.
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    reason: Mapped[MovementReason] = mapped_column(str_enum(MovementReason, "reason", 24))
    delta_quantity: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    delta_damaged: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    delta_missing: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    delta_in_maintenance: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    delta_on_loan: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    quantity_after: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Links to the check, loan or maintenance request behind the movement; their foreign keys
    # are added by the migrations that create those tables.
    check_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("loans.id", ondelete="RESTRICT"))
    maintenance_request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
