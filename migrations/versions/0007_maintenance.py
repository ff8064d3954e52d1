"""maintenance: requests, their history records and per-item plans; the ledger's foreign key to the request behind a movement

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:03.448581
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_plans",
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=True),
        sa.Column("fixed_date", sa.Date(), nullable=True),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("units", sa.Integer(), server_default="1", nullable=False),
        sa.Column("lead_days", sa.Integer(), server_default="7", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_alerted_for", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(interval_days IS NULL) <> (fixed_date IS NULL)", name=op.f("ck_maintenance_plans_interval_xor_fixed_date")
        ),
        sa.CheckConstraint("interval_days BETWEEN 1 AND 3650", name=op.f("ck_maintenance_plans_interval_range")),
        sa.CheckConstraint(
            "interval_days IS NULL OR next_due_date IS NOT NULL",
            name=op.f("ck_maintenance_plans_interval_has_next_date"),
        ),
        sa.CheckConstraint("lead_days BETWEEN 0 AND 365", name=op.f("ck_maintenance_plans_lead_days_range")),
        sa.CheckConstraint("units >= 1", name=op.f("ck_maintenance_plans_units_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_maintenance_plans_created_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_maintenance_plans_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_items.id"],
            name=op.f("fk_maintenance_plans_item_id_inventory_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_plans")),
        sa.UniqueConstraint("item_id", name=op.f("uq_maintenance_plans_item_id")),
    )
    op.create_index("ix_maintenance_plans_environment_id", "maintenance_plans", ["environment_id"], unique=False)
    op.create_index(
        "ix_maintenance_plans_next_due_date",
        "maintenance_plans",
        ["next_due_date"],
        unique=False,
        postgresql_where=sa.text("active AND next_due_date IS NOT NULL"),
    )
    op.create_table(
        "maintenance_requests",
        sa.Column("item_id", sa.UUID(), nullable=True),
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("requester_id", sa.UUID(), nullable=True),
        sa.Column("assignee_id", sa.UUID(), nullable=True),
        sa.Column("plan_id", sa.UUID(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum(
                "LOW", "MEDIUM", "HIGH", "URGENT", name="priority", native_enum=False, create_constraint=True, length=10
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ASSIGNED",
                "IN_PROGRESS",
                "COMPLETED",
                "CANCELLED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("units_already_damaged", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("returned_damaged", sa.Integer(), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)", name=op.f("ck_maintenance_requests_cancelled_at_set")
        ),
        sa.CheckConstraint(
            "(status = 'COMPLETED') = (completed_at IS NOT NULL AND returned_damaged IS NOT NULL)",
            name=op.f("ck_maintenance_requests_completed_at_set"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'CANCELLED') OR assignee_id IS NOT NULL",
            name=op.f("ck_maintenance_requests_assigned_states_have_assignee"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('IN_PROGRESS', 'COMPLETED') OR started_at IS NOT NULL",
            name=op.f("ck_maintenance_requests_started_at_set"),
        ),
        sa.CheckConstraint(
            "(item_id IS NULL AND units IS NULL AND NOT units_already_damaged) OR (item_id IS NOT NULL AND units >= 1)",
            name=op.f("ck_maintenance_requests_units_of_item_requests"),
        ),
        sa.CheckConstraint(
            "(plan_id IS NULL) = (due_date IS NULL)", name=op.f("ck_maintenance_requests_plan_has_due_date")
        ),
        sa.CheckConstraint(
            "returned_damaged IS NULL OR (returned_damaged >= 0 AND returned_damaged <= COALESCE(units, 0))",
            name=op.f("ck_maintenance_requests_returned_damaged_range"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_maintenance_requests_assignee_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_maintenance_requests_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_items.id"],
            name=op.f("fk_maintenance_requests_item_id_inventory_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["maintenance_plans.id"],
            name=op.f("fk_maintenance_requests_plan_id_maintenance_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_maintenance_requests_requester_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_requests")),
    )
    op.create_index("ix_maintenance_requests_assignee_id", "maintenance_requests", ["assignee_id"], unique=False)
    op.create_index("ix_maintenance_requests_created_at_id", "maintenance_requests", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_maintenance_requests_environment_created",
        "maintenance_requests",
        ["environment_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_maintenance_requests_item_created", "maintenance_requests", ["item_id", "created_at", "id"], unique=False
    )
    op.create_index("ix_maintenance_requests_requester_id", "maintenance_requests", ["requester_id"], unique=False)
    op.create_index(
        "uq_maintenance_requests_plan_due_date",
        "maintenance_requests",
        ["plan_id", "due_date"],
        unique=True,
        postgresql_where=sa.text("plan_id IS NOT NULL"),
    )
    op.create_table(
        "maintenance_records",
        sa.Column("item_id", sa.UUID(), nullable=True),
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=True),
        sa.Column("recorded_by_id", sa.UUID(), nullable=False),
        sa.Column(
            "maintenance_type",
            sa.Enum(
                "PREVENTIVE",
                "CORRECTIVE",
                "UPGRADE",
                name="maintenance_type",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("parts", sa.Text(), nullable=True),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "cost IS NULL OR (cost >= 0 AND cost <= 99999999.99)", name=op.f("ck_maintenance_records_cost_range")
        ),
        sa.CheckConstraint(
            "item_id IS NOT NULL OR request_id IS NOT NULL", name=op.f("ck_maintenance_records_item_or_request")
        ),
        sa.CheckConstraint(
            "next_date IS NULL OR next_date > performed_on",
            name=op.f("ck_maintenance_records_next_date_after_performed"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_maintenance_records_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_items.id"],
            name=op.f("fk_maintenance_records_item_id_inventory_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_maintenance_records_recorded_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["maintenance_requests.id"],
            name=op.f("fk_maintenance_records_request_id_maintenance_requests"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_records")),
        sa.UniqueConstraint("request_id", name=op.f("uq_maintenance_records_request_id")),
    )
    op.create_index("ix_maintenance_records_environment_id", "maintenance_records", ["environment_id"], unique=False)
    op.create_index(
        "ix_maintenance_records_item_performed", "maintenance_records", ["item_id", "performed_on", "id"], unique=False
    )
    op.create_index(
        "ix_maintenance_records_performed_on_id", "maintenance_records", ["performed_on", "id"], unique=False
    )
    op.create_foreign_key(
        "fk_inventory_movements_maintenance_request",
        "inventory_movements",
        "maintenance_requests",
        ["maintenance_request_id"],
        ["id"],
        ondelete="RESTRICT",
    )


def downgrade() -> None:
    op.drop_constraint("fk_inventory_movements_maintenance_request", "inventory_movements", type_="foreignkey")
    op.drop_index("ix_maintenance_records_performed_on_id", table_name="maintenance_records")
    op.drop_index("ix_maintenance_records_item_performed", table_name="maintenance_records")
    op.drop_index("ix_maintenance_records_environment_id", table_name="maintenance_records")
    op.drop_table("maintenance_records")
    op.drop_index(
        "uq_maintenance_requests_plan_due_date",
        table_name="maintenance_requests",
        postgresql_where=sa.text("plan_id IS NOT NULL"),
    )
    op.drop_index("ix_maintenance_requests_requester_id", table_name="maintenance_requests")
    op.drop_index("ix_maintenance_requests_item_created", table_name="maintenance_requests")
    op.drop_index("ix_maintenance_requests_environment_created", table_name="maintenance_requests")
    op.drop_index("ix_maintenance_requests_created_at_id", table_name="maintenance_requests")
    op.drop_index("ix_maintenance_requests_assignee_id", table_name="maintenance_requests")
    op.drop_table("maintenance_requests")
    op.drop_index(
        "ix_maintenance_plans_next_due_date",
        table_name="maintenance_plans",
        postgresql_where=sa.text("active AND next_due_date IS NOT NULL"),
    )
    op.drop_index("ix_maintenance_plans_environment_id", table_name="maintenance_plans")
    op.drop_table("maintenance_plans")
