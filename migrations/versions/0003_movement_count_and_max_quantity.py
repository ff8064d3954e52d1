"""movement count kept on the item; an upper bound for quantities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `item.movements { totalCount }` reads this column instead of counting the ledger, so a
    # page costs the same whatever the history; the statements that append movements keep it.
    op.add_column("inventory_items", sa.Column("movement_count", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE inventory_items SET movement_count = counted.n "
        "FROM (SELECT item_id, count(*) AS n FROM inventory_movements GROUP BY item_id) AS counted "
        "WHERE counted.item_id = inventory_items.id"
    )
    # No item could be created above this bound; a database whose restocks went past it
    # stops here with PostgreSQL's error naming the constraint, for an operator to look at.
    op.create_check_constraint("quantity_at_most_max", "inventory_items", "quantity <= 100000")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_inventory_items_quantity_at_most_max"), "inventory_items", type_="check")
    op.drop_column("inventory_items", "movement_count")
