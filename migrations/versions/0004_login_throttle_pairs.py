"""login throttle per account-and-address pair: known addresses, longer keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `pair:<address>|<email>` holds a 255-character e-mail and an address of up to 64.
    op.alter_column(
        "login_throttle", "key", existing_type=sa.String(length=300), type_=sa.String(length=400), nullable=False
    )
    op.add_column("login_throttle", sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("login_throttle", "last_success_at")
    # Keys longer than the old width cannot be kept; they are counters, so losing them is safe.
    op.execute("DELETE FROM login_throttle WHERE length(key) > 300")
    op.alter_column(
        "login_throttle", "key", existing_type=sa.String(length=400), type_=sa.String(length=300), nullable=False
    )
