"""loans from warehouses (their states, decisions and return counts), and the ledger's link to them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:02:20.484631
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("warehouse_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=True),
        sa.Column("item_description", sa.String(length=200), nullable=True),
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column(
            "requester_role",
            sa.Enum(
                "STUDENT",
                "INSTRUCTOR",
                "SUPERVISOR",
                "ADMIN",
                "ADMIN_GENERAL",
                name="requester_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum("LOW", "MEDIUM", "HIGH", name="priority", native_enum=False, create_constraint=True, length=10),
            server_default="MEDIUM",
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "APPROVED",
                "REJECTED",
                "CANCELLED",
                "DELIVERED",
                "OVERDUE",
                "RETURNED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("approved_by_id", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_by_id", sa.UUID(), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_by_id", sa.UUID(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_id", sa.UUID(), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_date", sa.Date(), nullable=True),
        sa.Column("returned_quantity", sa.Integer(), nullable=True),
        sa.Column("returned_damaged", sa.Integer(), nullable=True),
        sa.Column("returned_missing", sa.Integer(), nullable=True),
        sa.Column("return_notes", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status <> 'CANCELLED' OR cancelled_at IS NOT NULL", name=op.f("ck_loans_cancelled_has_time")
        ),
        sa.CheckConstraint(
            "status <> 'REJECTED' OR (rejected_at IS NOT NULL AND rejection_reason IS NOT NULL)",
            name=op.f("ck_loans_rejected_has_reason"),
        ),
        sa.CheckConstraint(
            "status <> 'RETURNED' OR (returned_at IS NOT NULL AND return_date IS NOT NULL AND returned_quantity IS NOT NULL)",
            name=op.f("ck_loans_returned_has_counts"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('APPROVED', 'DELIVERED', 'OVERDUE', 'RETURNED') OR approved_at IS NOT NULL",
            name=op.f("ck_loans_approved_has_decision"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('DELIVERED', 'OVERDUE', 'RETURNED') OR delivered_at IS NOT NULL",
            name=op.f("ck_loans_delivered_has_time"),
        ),
        sa.CheckConstraint("(idempotency_key IS NULL) = (request_hash IS NULL)", name=op.f("ck_loans_key_with_hash")),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (item_description IS NULL)", name=op.f("ck_loans_item_or_description")
        ),
        sa.CheckConstraint(
            "(returned_quantity IS NULL) = (returned_damaged IS NULL)", name=op.f("ck_loans_return_damaged_with_counts")
        ),
        sa.CheckConstraint(
            "(returned_quantity IS NULL) = (returned_missing IS NULL)", name=op.f("ck_loans_return_missing_with_counts")
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_loans_dates_in_order")),
        sa.CheckConstraint("quantity BETWEEN 1 AND 100000", name=op.f("ck_loans_quantity_range")),
        sa.CheckConstraint(
            "returned_quantity IS NULL OR (returned_quantity >= 0 AND returned_damaged >= 0 AND returned_missing >= 0 AND returned_quantity + returned_damaged + returned_missing = quantity)",
            name=op.f("ck_loans_return_counts_add_up"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_loans_approved_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["delivered_by_id"], ["users.id"], name=op.f("fk_loans_delivered_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["inventory_items.id"], name=op.f("fk_loans_item_id_inventory_items"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["users.id"], name=op.f("fk_loans_received_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["rejected_by_id"], ["users.id"], name=op.f("fk_loans_rejected_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_loans_requester_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["environments.id"], name=op.f("fk_loans_warehouse_id_environments"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    op.create_index("ix_loans_created_at_id", "loans", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_loans_delivered_end_date",
        "loans",
        ["end_date"],
        unique=False,
        postgresql_where=sa.text("status = 'DELIVERED'"),
    )
    op.create_index("ix_loans_item_created_at_id", "loans", ["item_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_loans_item_holding_dates",
        "loans",
        ["item_id", "start_date", "end_date"],
        unique=False,
        postgresql_where=sa.text("status IN ('APPROVED', 'DELIVERED', 'OVERDUE')"),
    )
    op.create_index("ix_loans_requester_created_at_id", "loans", ["requester_id", "created_at", "id"], unique=False)
    op.create_index("ix_loans_warehouse_created_at_id", "loans", ["warehouse_id", "created_at", "id"], unique=False)
    op.create_index(
        "uq_loans_requester_idempotency_key",
        "loans",
        ["requester_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_inventory_movements_loan_id_loans"),
        "inventory_movements",
        "loans",
        ["loan_id"],
        ["id"],
        ondelete="RESTRICT",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_inventory_movements_loan_id_loans"), "inventory_movements", type_="foreignkey")
    op.drop_index(
        "uq_loans_requester_idempotency_key",
        table_name="loans",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index("ix_loans_warehouse_created_at_id", table_name="loans")
    op.drop_index("ix_loans_requester_created_at_id", table_name="loans")
    op.drop_index(
        "ix_loans_item_holding_dates",
        table_name="loans",
        postgresql_where=sa.text("status IN ('APPROVED', 'DELIVERED', 'OVERDUE')"),
    )
    op.drop_index("ix_loans_item_created_at_id", table_name="loans")
    op.drop_index("ix_loans_delivered_end_date", table_name="loans", postgresql_where=sa.text("status = 'DELIVERED'"))
    op.drop_index("ix_loans_created_at_id", table_name="loans")
    op.drop_table("loans")
