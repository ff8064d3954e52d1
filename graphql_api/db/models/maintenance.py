"""Maintenance: requests (a state machine), the history of work done, and per-item plans.

Every rule the database can state is a constraint here: an item request has 1+ units and an
environment request none, a status carries the timestamps and assignee it implies, at most one
history entry per request, one plan per item, one plan-opened request per plan and due date.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import MaintenancePriority, MaintenanceStatus, MaintenanceType
from graphql_api.db.models.item import InventoryMovement

# Numeric(10, 2): the largest cost a record may hold.
MAX_COST = Decimal("99999999.99")
MAX_INTERVAL_DAYS = 3650
MAX_LEAD_DAYS = 365


class MaintenancePlan(IdMixin, TimestampMixin, Base):
    """Preventive maintenance of one item: every N days, or once on a fixed date."""

    __tablename__ = "maintenance_plans"
    __table_args__ = (
        CheckConstraint("(interval_days IS NULL) <> (fixed_date IS NULL)", name="interval_xor_fixed_date"),
        CheckConstraint(f"interval_days BETWEEN 1 AND {MAX_INTERVAL_DAYS}", name="interval_range"),
        CheckConstraint(f"lead_days BETWEEN 0 AND {MAX_LEAD_DAYS}", name="lead_days_range"),
        CheckConstraint("units >= 1", name="units_positive"),
        # An interval plan always has a next date; a fixed-date plan has none once it fired.
        CheckConstraint("interval_days IS NULL OR next_due_date IS NOT NULL", name="interval_has_next_date"),
        # The periodic job reads only active plans with something due.
        Index(
            "ix_maintenance_plans_next_due_date",
            "next_due_date",
            postgresql_where=text("active AND next_due_date IS NOT NULL"),
        ),
        Index("ix_maintenance_plans_environment_id", "environment_id"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"), unique=True)
    # Copied from the item so that the scope filter needs no join.
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    interval_days: Mapped[int | None] = mapped_column(Integer)
    fixed_date: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    lead_days: Mapped[int] = mapped_column(Integer, server_default="7", default=7)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    # The due date whose MAINTENANCE_DUE alert was raised: once per item and date, even after
    # someone resolves the alert.
    last_alerted_for: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class MaintenanceRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "maintenance_requests"
    __table_args__ = (
        CheckConstraint(
            "(item_id IS NULL AND units IS NULL AND NOT units_already_damaged) OR (item_id IS NOT NULL AND units >= 1)",
            name="units_of_item_requests",
        ),
        CheckConstraint(
            "returned_damaged IS NULL OR (returned_damaged >= 0 AND returned_damaged <= COALESCE(units, 0))",
            name="returned_damaged_range",
        ),
        CheckConstraint(
            "status IN ('PENDING', 'CANCELLED') OR assignee_id IS NOT NULL", name="assigned_states_have_assignee"
        ),
        CheckConstraint("status NOT IN ('IN_PROGRESS', 'COMPLETED') OR started_at IS NOT NULL", name="started_at_set"),
        CheckConstraint(
            "(status = 'COMPLETED') = (completed_at IS NOT NULL AND returned_damaged IS NOT NULL)",
            name="completed_at_set",
        ),
        CheckConstraint("(status = 'CANCELLED') = (cancelled_at IS NOT NULL)", name="cancelled_at_set"),
        CheckConstraint("(plan_id IS NULL) = (due_date IS NULL)", name="plan_has_due_date"),
        # A plan opens one request per due date, whatever runs the job and how often.
        Index(
            "uq_maintenance_requests_plan_due_date",
            "plan_id",
            "due_date",
            unique=True,
            postgresql_where=text("plan_id IS NOT NULL"),
        ),
        # Newest-first pages: overall, per room, per item.
        Index("ix_maintenance_requests_created_at_id", "created_at", "id"),
        Index("ix_maintenance_requests_environment_created", "environment_id", "created_at", "id"),
        Index("ix_maintenance_requests_item_created", "item_id", "created_at", "id"),
        Index("ix_maintenance_requests_assignee_id", "assignee_id"),
        Index("ix_maintenance_requests_requester_id", "requester_id"),
    )

    # Null: a request for the environment itself (a broken door, the air conditioning).
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"))
    # The item's environment for item requests (scope filters need no join).
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    # Null: opened by the system for a maintenance plan (`plan_id`).
    requester_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("maintenance_plans.id", ondelete="RESTRICT"))
    due_date: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[MaintenancePriority] = mapped_column(str_enum(MaintenancePriority, "priority", 10))
    status: Mapped[MaintenanceStatus] = mapped_column(
        str_enum(MaintenanceStatus, "status", 12), server_default="PENDING", default=MaintenanceStatus.PENDING
    )
    units: Mapped[int | None] = mapped_column(Integer)
    # The units are in the item's damaged bucket already (a check found them damaged): starting
    # takes them from there instead of from the available units.
    units_already_damaged: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    returned_damaged: Mapped[int | None] = mapped_column(Integer)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MaintenanceRecord(IdMixin, TimestampMixin, Base):
    """One entry of an item's maintenance history: written when a request is completed, or by
    hand for work done outside a request."""

    __tablename__ = "maintenance_records"
    __table_args__ = (
        CheckConstraint(f"cost IS NULL OR (cost >= 0 AND cost <= {MAX_COST})", name="cost_range"),
        CheckConstraint("next_date IS NULL OR next_date > performed_on", name="next_date_after_performed"),
        # A room's own upkeep is recorded only by completing its request; manual entries are per item.
        CheckConstraint("item_id IS NOT NULL OR request_id IS NOT NULL", name="item_or_request"),
        # Newest-first pages: overall and per item.
        Index("ix_maintenance_records_performed_on_id", "performed_on", "id"),
        Index("ix_maintenance_records_item_performed", "item_id", "performed_on", "id"),
        Index("ix_maintenance_records_environment_id", "environment_id"),
    )

    # Null: the record of an environment request (no item).
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"))
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    # The completed request it records (one entry per request); null for a manual entry.
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("maintenance_requests.id", ondelete="RESTRICT"), unique=True
    )
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    maintenance_type: Mapped[MaintenanceType] = mapped_column(str_enum(MaintenanceType, "maintenance_type", 12))
    description: Mapped[str] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    parts: Mapped[str | None] = mapped_column(Text)
    performed_on: Mapped[date] = mapped_column(Date)
    next_date: Mapped[date | None] = mapped_column(Date)


# The ledger's link to the request behind a MAINTENANCE_OUT / MAINTENANCE_RETURN movement: its
# column is the items domain's, its foreign key comes with the table it points to.
_movements: Table = InventoryMovement.__table__  # type: ignore[assignment]
_movements.append_constraint(
    ForeignKeyConstraint(
        ["maintenance_request_id"],
        ["maintenance_requests.id"],
        name="fk_inventory_movements_maintenance_request",
        ondelete="RESTRICT",
    )
)
