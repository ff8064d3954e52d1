"""The stock ledger: the one path by which any quantity of any item changes.

`apply_movement` applies a change to an item's quantity and buckets with one conditional
UPDATE (the database CHECKs reject a negative bucket or buckets above the quantity) and
appends the ledger row, in one statement. Items, loans, maintenance and checks all move units
through it, so the buckets, the ledger and the item's movement count always agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter
from graphql_api.db import reads
from graphql_api.db.models import (
    BUCKETS,
    MAX_QUANTITY,
    InventoryItem,
    InventoryMovement,
    ItemStatus,
    ItemType,
    MovementReason,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from graphql_api.services import audit, events

_STOCK_FIELDS = ("quantity", *BUCKETS)
# Every movement: subject the item, its environment, and the movement's id.
STOCK_CHANGED = "item_stock"


@dataclass(frozen=True, slots=True)
class StockDelta:
    quantity: int = 0
    damaged: int = 0
    missing: int = 0
    in_maintenance: int = 0
    on_loan: int = 0

    def is_zero(self) -> bool:
        return not any((self.quantity, self.damaged, self.missing, self.in_maintenance, self.on_loan))

    def check(self, errors: FieldErrors, field: str = "delta") -> None:
        """Each change within ±MAX_QUANTITY: larger ones can never apply, and bounded values
        keep every sum in the statement far from the 32-bit limit of the columns."""
        values = {
            "quantity": self.quantity,
            "damaged": self.damaged,
            "missing": self.missing,
            "inMaintenance": self.in_maintenance,
            "onLoan": self.on_loan,
        }
        for name, value in values.items():
            if value > MAX_QUANTITY:
                errors.add(f"{field}.{name}", "field.max_value", max=MAX_QUANTITY)
            elif value < -MAX_QUANTITY:
                errors.add(f"{field}.{name}", "field.min_value", min=-MAX_QUANTITY)


@dataclass(frozen=True, slots=True)
class MovementLinks:
    check_id: uuid.UUID | None = None
    loan_id: uuid.UUID | None = None
    maintenance_request_id: uuid.UUID | None = None


async def apply_movement(
    session: AsyncSession,
    *,
    reason: MovementReason,
    delta: StockDelta,
    actor_id: uuid.UUID | None,
    item: InventoryItem | None = None,
    item_id: uuid.UUID | None = None,
    principal: Principal | None = None,
    expected_quantity: int | None = None,
    links: MovementLinks | None = None,
    note: str | None = None,
) -> tuple[Any, Any]:
    """Apply `delta` to one item with a conditional UPDATE and append the ledger row, in one
    statement (`_stock_movement`).

    With `principal`, the UPDATE only matches items the caller may manage; with
    `expected_quantity`, only when the quantity is still the one the caller saw. Returns
    read-only snapshots (`reads.row_class`) of the updated item and of the new movement; an
    ORM `item` given by the caller (create_item) gets its new quantities too.
    """
    target = item.id if item is not None else item_id
    assert target is not None
    errors = FieldErrors()
    delta.check(errors)
    errors.raise_if_any()
    now = datetime.now(UTC)
    links = links or MovementLinks()
    params: dict[str, Any] = {
        "target": target,
        "expected_quantity": expected_quantity,
        "now": now,
        **{f"delta_{name}": getattr(delta, attr) for name, attr in _DELTA_FIELDS.items()},
        **(scope.parameters(principal) if principal is not None else {}),
        "movement_id": uuid.uuid4(),
        "reason": reason,
        "actor_id": actor_id,
        "note": note,
        "check_id": links.check_id,
        "loan_id": links.loan_id,
        "maintenance_request_id": links.maintenance_request_id,
    }
    compiled = _STOCK_MOVEMENT.compiled(principal, (expected_quantity is not None, reason is MovementReason.RETIRE))
    connection = await session.connection()
    result = await connection.exec_driver_sql(compiled.sql, tuple(reads.arguments(compiled, params)))
    record = result.first()
    if record is None:
        await _explain_no_match(session, target, principal, expected_quantity, delta)
    assert record is not None
    values = reads.converted(record, compiled)
    updated = _ITEM_ROW(*values[:_ITEM_WIDTH])
    movement = _MOVEMENT_ROW(*values[_ITEM_WIDTH:])
    if item is not None:
        # create_item's own ORM object: the new quantities, as loaded (not as pending changes).
        for name in (*_STOCK_FIELDS, "movement_count", "updated_at"):
            set_committed_value(item, name, getattr(updated, name))
    new = {name: getattr(updated, name) for name in _STOCK_FIELDS}
    old = {
        "quantity": updated.quantity - delta.quantity,
        "quantity_damaged": updated.quantity_damaged - delta.damaged,
        "quantity_missing": updated.quantity_missing - delta.missing,
        "quantity_in_maintenance": updated.quantity_in_maintenance - delta.in_maintenance,
        "quantity_on_loan": updated.quantity_on_loan - delta.on_loan,
    }
    changed = {k for k in new if new[k] != old[k]}
    if changed:  # the item (not its movement) is the audit entry's main entity: noted first
        audit.note_change(
            session,
            entity="inventory_items",
            entity_id=updated.id,
            old={k: old[k] for k in changed},
            new={k: new[k] for k in changed},
        )
    audit.note_created(session, movement, table=InventoryMovement.__tablename__)
    events.publish(
        session, STOCK_CHANGED, subject_id=updated.id, environment_id=updated.environment_id, movement=movement.id
    )
    return updated, movement


# bucket column -> StockDelta attribute
_DELTA_FIELDS = {
    "quantity": "quantity",
    "quantity_damaged": "damaged",
    "quantity_missing": "missing",
    "quantity_in_maintenance": "in_maintenance",
    "quantity_on_loan": "on_loan",
}
_ITEM_ROW = reads.row_class(InventoryItem)
_MOVEMENT_ROW = reads.row_class(InventoryMovement)
_ITEM_WIDTH = len(reads.model_columns(InventoryItem))
_LINKS = ("check_id", "loan_id", "maintenance_request_id")


def _build_stock_movement(principal: Principal | None, variant: Any) -> Select[Any]:
    """The statement of `apply_movement`:

        WITH updated AS (UPDATE inventory_items SET <buckets + deltas> WHERE <id, active, scope,
                         expected quantity, result valid> RETURNING *),
             movement AS (INSERT INTO inventory_movements SELECT … FROM updated RETURNING *)
        SELECT updated.*, movement.* FROM updated, movement

    The compare-and-swap and the ledger row are one round trip and cannot be separated: no row
    comes back (and nothing is written) when the UPDATE matches nothing. Every value (item,
    deltas, expected quantity, time, the caller's scope ids, the movement's fields) is a named
    parameter given at execution; it is compiled once per caller shape (`ScopedStatement`).
    """
    item = InventoryItem
    after = {column: getattr(item, column) + bindparam(f"delta_{column}", type_=Integer) for column in _DELTA_FIELDS}
    compare_quantity, retiring = variant
    # Units of a retired item never move; its retirement is the one movement it records after.
    status = ItemStatus.RETIRED if retiring else ItemStatus.ACTIVE
    conditions = [item.id == bindparam("target"), item.status == status, *_result_is_valid(after)]
    if principal is not None:
        conditions.append(manage_items_filter(principal, item.environment_id))
        conditions.append(environment_filter(principal, item.environment_id))
    if compare_quantity:
        conditions.append(item.quantity == bindparam("expected_quantity", type_=Integer))
    now = bindparam("now", type_=DateTime(timezone=True))
    item_table, movement_table = cast(Table, InventoryItem.__table__), cast(Table, InventoryMovement.__table__)
    updated = (
        update(item_table)
        .where(and_(*conditions))
        .values(**after, movement_count=item.movement_count + 1, updated_at=now)
        .returning(*item_table.columns)
        .cte("updated")
    )
    movement = movement_table.c
    inserted_values: dict[str, ColumnElement[Any]] = {
        "id": bindparam("movement_id", type_=movement.id.type),
        "item_id": updated.c.id,
        "environment_id": updated.c.environment_id,
        "reason": bindparam("reason", type_=movement.reason.type),
        **{f"delta_{attr}": bindparam(f"delta_{column}", type_=Integer) for column, attr in _DELTA_FIELDS.items()},
        "quantity_after": updated.c.quantity,
        "actor_id": bindparam("actor_id", type_=movement.actor_id.type),
        "note": bindparam("note", type_=movement.note.type),
        **{name: bindparam(name, type_=movement[name].type) for name in _LINKS},
        # created_at: the column's default, now() (the transaction's time, like every movement)
    }
    inserted = (
        insert(movement_table)
        .from_select(list(inserted_values), select(*inserted_values.values()).select_from(updated))
        .returning(*movement_table.columns)
        .cte("movement")
    )
    item_columns = [updated.c[attr.columns[0].name] for attr in inspect(InventoryItem).column_attrs]
    movement_columns = [inserted.c[attr.columns[0].name] for attr in inspect(InventoryMovement).column_attrs]
    return select(*item_columns, *movement_columns).select_from(updated, inserted)


_STOCK_MOVEMENT = scope.ScopedStatement(_build_stock_movement)


def _result_is_valid(after: dict[str, ColumnElement[int]]) -> list[ColumnElement[bool]]:
    """The table's CHECK constraints, applied to the row after the movement.

    Part of the UPDATE's WHERE, so an impossible movement matches no row instead of raising:
    no savepoint is needed, and the CHECKs stay as the last line of defence.
    """
    quantity = after["quantity"]
    buckets = [after[column] for column in BUCKETS]
    return [
        quantity >= 0,
        quantity <= MAX_QUANTITY,
        *(bucket >= 0 for bucket in buckets),
        buckets[0] + buckets[1] + buckets[2] + buckets[3] <= quantity,
        or_(InventoryItem.item_type != ItemType.INDIVIDUAL, quantity <= 1),
    ]


def _invalid_result(item: InventoryItem, delta: StockDelta) -> str | None:
    """Which rule `delta` would break on `item` (catalogue key), if any."""
    quantity = item.quantity + delta.quantity
    buckets = (
        item.quantity_damaged + delta.damaged,
        item.quantity_missing + delta.missing,
        item.quantity_in_maintenance + delta.in_maintenance,
        item.quantity_on_loan + delta.on_loan,
    )
    if quantity < 0 or min(buckets) < 0:
        return "field.negative_result"
    if quantity > MAX_QUANTITY:
        return "field.max_value"
    if item.item_type is ItemType.INDIVIDUAL and quantity > 1:
        return "field.individual_quantity"
    if sum(buckets) > quantity:
        return "field.buckets_exceed_quantity"
    return None


async def _explain_no_match(
    session: AsyncSession,
    item_id: uuid.UUID,
    principal: Principal | None,
    expected_quantity: int | None,
    delta: StockDelta,
) -> None:
    """The conditional UPDATE matched nothing: say why, with the right error (this costs
    extra statements, but only on the failure path)."""
    stmt = select(InventoryItem).where(InventoryItem.id == item_id)
    if principal is not None:
        stmt = stmt.where(environment_filter(principal, InventoryItem.environment_id))
    item = (await session.scalars(stmt)).one_or_none()
    if item is None:
        raise NotFound("item")
    if principal is not None:
        allowed = await session.scalar(
            select(manage_items_filter(principal, InventoryItem.environment_id)).where(InventoryItem.id == item_id)
        )
        if not allowed:
            raise PermissionDenied()
    if item.status is ItemStatus.RETIRED:
        raise Conflict("error.item_retired")
    if expected_quantity is not None and item.quantity != expected_quantity:
        raise Conflict("error.stale_quantity", expected=expected_quantity, actual=item.quantity)
    invalid = _invalid_result(item, delta)
    if invalid is not None:
        raise ValidationFailed.single("delta", invalid, max=MAX_QUANTITY)
    raise Conflict()
