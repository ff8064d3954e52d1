"""schedules: recurring class slots, one class at a time per room (exclusion constraint)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT_TIMES = "tsrange(DATE '2000-01-01' + start_time, DATE '2000-01-01' + end_time)"
SLOT_DATES = "daterange(valid_from, valid_until, '[]')"
WEEK_MINUTE = "(weekday - 1) * 1440 + (EXTRACT(EPOCH FROM start_time) / 60)::integer"


def upgrade() -> None:
    # Equality on uuid and smallint inside a GiST exclusion constraint (trusted since PG 13: the
    # database owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "schedules",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("instructor_id", sa.UUID(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=200), nullable=False),
        sa.Column("group_number", sa.String(length=40), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("student_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("week_minute", sa.Integer(), sa.Computed(WEEK_MINUTE, persisted=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_schedules_weekday_range")),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_schedules_ends_after_start")),
        sa.CheckConstraint("valid_until >= valid_from", name=op.f("ck_schedules_valid_range")),
        sa.CheckConstraint("student_count BETWEEN 0 AND 1000", name=op.f("ck_schedules_student_count_range")),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_schedules_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"], ["users.id"], name=op.f("fk_schedules_instructor_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        postgresql.ExcludeConstraint(
            (sa.column("environment_id"), "="),
            (sa.column("weekday"), "="),
            (sa.text(SLOT_TIMES), "&&"),
            (sa.text(SLOT_DATES), "&&"),
            name="ex_schedules_one_class_at_a_time",
            using="gist",
            where=sa.text("is_active"),
        ),
    )
    op.create_index("ix_schedules_instructor_id", "schedules", ["instructor_id"], unique=False)
    op.create_index("ix_schedules_environment_weekday", "schedules", ["environment_id", "weekday"], unique=False)
    op.create_index("ix_schedules_week_minute_id", "schedules", ["week_minute", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_schedules_week_minute_id", table_name="schedules")
    op.drop_index("ix_schedules_environment_weekday", table_name="schedules")
    op.drop_index("ix_schedules_instructor_id", table_name="schedules")
    op.drop_table("schedules")
