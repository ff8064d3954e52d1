"""inventory checks: one per class and day, captured items and findings, supervisor reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inventory_check_reminders",
        sa.Column("schedule_id", sa.UUID(), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_inventory_check_reminders_schedule_id_schedules"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "check_date", name=op.f("pk_inventory_check_reminders")),
    )
    op.create_table(
        "inventory_checks",
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("schedule_id", sa.UUID(), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "STUDENT_PENDING",
                "INSTRUCTOR_REVIEW",
                "SUPERVISOR_REVIEW",
                "APPROVED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="STUDENT_PENDING",
            nullable=False,
        ),
        sa.Column("started_by_id", sa.UUID(), nullable=False),
        sa.Column("student_submitted_by_id", sa.UUID(), nullable=True),
        sa.Column("student_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleaning_notes", sa.Text(), nullable=True),
        sa.Column("instructor_id", sa.UUID(), nullable=True),
        sa.Column("instructor_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_clean", sa.Boolean(), nullable=True),
        sa.Column("is_organized", sa.Boolean(), nullable=True),
        sa.Column("inventory_complete", sa.Boolean(), nullable=True),
        sa.Column("instructor_comments", sa.Text(), nullable=True),
        sa.Column("approved_by_id", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("item_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_inventory_checks_approved_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_inventory_checks_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"], ["users.id"], name=op.f("fk_inventory_checks_instructor_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_inventory_checks_schedule_id_schedules"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_inventory_checks_started_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["student_submitted_by_id"],
            ["users.id"],
            name=op.f("fk_inventory_checks_student_submitted_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_checks")),
        sa.UniqueConstraint(
            "environment_id", "schedule_id", "check_date", name="uq_inventory_checks_one_per_class_day"
        ),
    )
    op.create_index("ix_inventory_checks_check_date_id", "inventory_checks", ["check_date", "id"], unique=False)
    op.create_index(
        "ix_inventory_checks_environment_check_date", "inventory_checks", ["environment_id", "check_date"], unique=False
    )
    op.create_index("ix_inventory_checks_status", "inventory_checks", ["status"], unique=False)
    op.create_table(
        "inventory_check_items",
        sa.Column("check_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("known_damaged", sa.Integer(), nullable=False),
        sa.Column("known_missing", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=True),
        sa.Column("damaged", sa.Integer(), nullable=True),
        sa.Column("missing", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint(
            "(found IS NULL AND damaged IS NULL AND missing IS NULL AND recorded_at IS NULL) OR (found + damaged + missing = expected AND recorded_at IS NOT NULL)",
            name=op.f("ck_inventory_check_items_findings_add_up"),
        ),
        sa.CheckConstraint(
            "expected >= 0 AND known_damaged >= 0 AND known_missing >= 0",
            name=op.f("ck_inventory_check_items_capture_non_negative"),
        ),
        sa.CheckConstraint(
            "found >= 0 AND damaged >= 0 AND missing >= 0", name=op.f("ck_inventory_check_items_findings_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["inventory_checks.id"],
            name=op.f("fk_inventory_check_items_check_id_inventory_checks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_items.id"],
            name=op.f("fk_inventory_check_items_item_id_inventory_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_inventory_check_items_recorded_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_check_items")),
        sa.UniqueConstraint("check_id", "item_id", name="uq_inventory_check_items_check_item"),
    )
    op.create_index(
        "ix_inventory_check_items_check_position", "inventory_check_items", ["check_id", "position"], unique=False
    )
    op.create_table(
        "inventory_check_reviews",
        sa.Column("check_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("APPROVED", "REJECTED", name="decision", native_enum=False, create_constraint=True, length=10),
            nullable=False,
        ),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["inventory_checks.id"],
            name=op.f("fk_inventory_check_reviews_check_id_inventory_checks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_inventory_check_reviews_reviewer_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_check_reviews")),
    )
    op.create_index(
        "ix_inventory_check_reviews_check_created", "inventory_check_reviews", ["check_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_inventory_check_reviews_check_created", table_name="inventory_check_reviews")
    op.drop_table("inventory_check_reviews")
    op.drop_index("ix_inventory_check_items_check_position", table_name="inventory_check_items")
    op.drop_table("inventory_check_items")
    op.drop_index("ix_inventory_checks_status", table_name="inventory_checks")
    op.drop_index("ix_inventory_checks_environment_check_date", table_name="inventory_checks")
    op.drop_index("ix_inventory_checks_check_date_id", table_name="inventory_checks")
    op.drop_table("inventory_checks")
    op.drop_table("inventory_check_reminders")
