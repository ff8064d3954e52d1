"""initial schema: users, organization, inventory, ledger, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY_TABLES = ("inventory_movements", "audit_logs")


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column(
            "actor_role",
            sa.Enum(
                "STUDENT",
                "INSTRUCTOR",
                "SUPERVISOR",
                "ADMIN",
                "ADMIN_GENERAL",
                name="actor_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=60), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "SUCCESS", "FAILURE", "DENIED", name="outcome", native_enum=False, create_constraint=True, length=10
            ),
            nullable=False,
        ),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("duration_ms", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    op.create_index("ix_audit_logs_actor_id", "audit_logs", ["actor_id"], unique=False)
    op.create_index("ix_audit_logs_created_at", "audit_logs", ["created_at"], unique=False)
    op.create_index("ix_audit_logs_entity", "audit_logs", ["entity_type", "entity_id"], unique=False)
    op.create_index("ix_audit_logs_operation", "audit_logs", ["operation"], unique=False)
    op.create_table(
        "centers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centers")),
        sa.UniqueConstraint("code", name=op.f("uq_centers_code")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "environments",
        sa.Column("center_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), server_default="30", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_warehouse", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_environments_capacity_non_negative")),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_environments_center_id_centers"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environments")),
        sa.UniqueConstraint("code", name=op.f("uq_environments_code")),
    )
    op.create_index("ix_environments_center_id", "environments", ["center_id"], unique=False)
    op.create_table(
        "inventory_items",
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("internal_code", sa.String(length=50), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "COMPUTER",
                "PROJECTOR",
                "KEYBOARD",
                "MOUSE",
                "TV",
                "CAMERA",
                "MICROPHONE",
                "TABLET",
                "OTHER",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "item_type",
            sa.Enum("INDIVIDUAL", "GROUP", name="item_type", native_enum=False, create_constraint=True, length=12),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("ACTIVE", "RETIRED", name="status", native_enum=False, create_constraint=True, length=10),
            server_default="ACTIVE",
            nullable=False,
        ),
        sa.Column("brand", sa.String(length=50), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_expiry", sa.Date(), nullable=True),
        sa.Column("last_maintenance_date", sa.Date(), nullable=True),
        sa.Column("next_maintenance_date", sa.Date(), nullable=True),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), server_default="1", nullable=False),
        sa.Column("quantity_damaged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quantity_missing", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quantity_in_maintenance", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quantity_on_loan", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "item_type <> 'INDIVIDUAL' OR quantity <= 1", name=op.f("ck_inventory_items_individual_single_unit")
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_inventory_items_quantity_non_negative")),
        sa.CheckConstraint(
            "quantity_damaged + quantity_missing + quantity_in_maintenance + quantity_on_loan <= quantity",
            name=op.f("ck_inventory_items_buckets_within_quantity"),
        ),
        sa.CheckConstraint("quantity_damaged >= 0", name=op.f("ck_inventory_items_damaged_non_negative")),
        sa.CheckConstraint("quantity_in_maintenance >= 0", name=op.f("ck_inventory_items_in_maintenance_non_negative")),
        sa.CheckConstraint("quantity_missing >= 0", name=op.f("ck_inventory_items_missing_non_negative")),
        sa.CheckConstraint("quantity_on_loan >= 0", name=op.f("ck_inventory_items_on_loan_non_negative")),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_inventory_items_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_items")),
        sa.UniqueConstraint("internal_code", name=op.f("uq_inventory_items_internal_code")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_inventory_items_serial_number")),
    )
    op.create_index("ix_inventory_items_category", "inventory_items", ["category"], unique=False)
    op.create_index(
        "ix_inventory_items_environment_id_name", "inventory_items", ["environment_id", "name"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "STUDENT",
                "INSTRUCTOR",
                "SUPERVISOR",
                "ADMIN",
                "ADMIN_GENERAL",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("program", sa.String(length=100), nullable=True),
        sa.Column("ficha", sa.String(length=20), nullable=True),
        sa.Column("avatar_url", sa.String(length=500), nullable=True),
        sa.Column("environment_id", sa.UUID(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_users_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index("ix_users_environment_id", "users", ["environment_id"], unique=False)
    op.create_table(
        "inventory_movements",
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("environment_id", sa.UUID(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "INITIAL",
                "RESTOCK",
                "CORRECTION",
                "VERIFICATION_FINDING",
                "LOAN_OUT",
                "LOAN_RETURN",
                "MAINTENANCE_OUT",
                "MAINTENANCE_RETURN",
                "LOSS",
                "RETIRE",
                name="reason",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("delta_quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delta_damaged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delta_missing", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delta_in_maintenance", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delta_on_loan", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("check_id", sa.UUID(), nullable=True),
        sa.Column("loan_id", sa.UUID(), nullable=True),
        sa.Column("maintenance_request_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_inventory_movements_actor_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_inventory_movements_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_items.id"],
            name=op.f("fk_inventory_movements_item_id_inventory_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movements")),
    )
    op.create_index("ix_inventory_movements_environment_id", "inventory_movements", ["environment_id"], unique=False)
    op.create_index(
        "ix_inventory_movements_item_id_created_at", "inventory_movements", ["item_id", "created_at"], unique=False
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("family_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False)
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "language",
            sa.Enum("ES", "EN", name="language", native_enum=False, create_constraint=True),
            server_default="ES",
            nullable=False,
        ),
        sa.Column(
            "theme",
            sa.Enum("LIGHT", "DARK", "SYSTEM", name="theme", native_enum=False, create_constraint=True, length=10),
            server_default="SYSTEM",
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("notify_in_app", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("notify_email", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("notify_push", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_settings_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_settings")),
    )
    # The stock ledger and the audit log are append-only: history must not be rewritten, even
    # by a buggy service or a hand-typed UPDATE.
    op.execute(
        """
        CREATE FUNCTION forbid_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END $$;
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS forbid_history_rewrite()")
    op.drop_table("user_settings")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_inventory_movements_item_id_created_at", table_name="inventory_movements")
    op.drop_index("ix_inventory_movements_environment_id", table_name="inventory_movements")
    op.drop_table("inventory_movements")
    op.drop_index("ix_users_environment_id", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_inventory_items_environment_id_name", table_name="inventory_items")
    op.drop_index("ix_inventory_items_category", table_name="inventory_items")
    op.drop_table("inventory_items")
    op.drop_index("ix_environments_center_id", table_name="environments")
    op.drop_table("environments")
    op.drop_table("login_throttle")
    op.drop_table("centers")
    op.drop_index("ix_audit_logs_operation", table_name="audit_logs")
    op.drop_index("ix_audit_logs_entity", table_name="audit_logs")
    op.drop_index("ix_audit_logs_created_at", table_name="audit_logs")
    op.drop_index("ix_audit_logs_actor_id", table_name="audit_logs")
    op.drop_table("audit_logs")
