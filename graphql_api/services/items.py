"""Inventory items and the stock ledger.

Every change of any quantity goes through `apply_movement`: one conditional UPDATE that applies
the deltas (the database CHECKs reject a negative bucket or buckets above the quantity) and one
ledger row. Loans and maintenance will move units between buckets through the same function.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter
from graphql_api.db import reads
from graphql_api.db.models import (
    BUCKETS,
    Environment,
    InventoryItem,
    InventoryMovement,
    ItemCategory,
    ItemStatus,
    ItemType,
    MovementReason,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from graphql_api.services import audit, validation
from graphql_api.services.queries import raise_for_unique, search_condition

MANUAL_REASONS = frozenset({MovementReason.RESTOCK, MovementReason.CORRECTION, MovementReason.LOSS})
_UNIQUE = {
    "uq_inventory_items_internal_code": ("internalCode", "field.internal_code_taken"),
    "uq_inventory_items_serial_number": ("serialNumber", "field.serial_taken"),
}
_STOCK_FIELDS = ("quantity", *BUCKETS)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    environment_ids: list[uuid.UUID] | None = None
    categories: list[ItemCategory] | None = None
    statuses: list[ItemStatus] | None = None
    item_types: list[ItemType] | None = None
    search: str | None = None
    only_available: bool = False


@dataclass(frozen=True, slots=True)
class StockDelta:
    quantity: int = 0
    damaged: int = 0
    missing: int = 0
    in_maintenance: int = 0
    on_loan: int = 0

    def is_zero(self) -> bool:
        return not any((self.quantity, self.damaged, self.missing, self.in_maintenance, self.on_loan))


@dataclass(frozen=True, slots=True)
class MovementLinks:
    check_id: uuid.UUID | None = None
    loan_id: uuid.UUID | None = None
    maintenance_request_id: uuid.UUID | None = None


def available_expr() -> ColumnElement[int]:
    return InventoryItem.quantity - (
        InventoryItem.quantity_damaged
        + InventoryItem.quantity_missing
        + InventoryItem.quantity_in_maintenance
        + InventoryItem.quantity_on_loan
    )


def items_query(principal: Principal, where: ItemFilter | None = None) -> Select[InventoryItem]:
    """Items the caller may see, narrowed by `where`. Without a status filter, only ACTIVE."""
    where = where or ItemFilter()
    stmt = select(InventoryItem).where(environment_filter(principal, InventoryItem.environment_id))
    if where.environment_ids is not None:
        stmt = stmt.where(InventoryItem.environment_id.in_(where.environment_ids))
    if where.categories:
        stmt = stmt.where(InventoryItem.category.in_(where.categories))
    stmt = stmt.where(InventoryItem.status.in_(where.statuses or [ItemStatus.ACTIVE]))
    if where.item_types:
        stmt = stmt.where(InventoryItem.item_type.in_(where.item_types))
    if where.search:
        stmt = stmt.where(
            search_condition(where.search, InventoryItem.name, InventoryItem.internal_code, InventoryItem.serial_number)
        )
    if where.only_available:
        stmt = stmt.where(available_expr() > 0)
    return stmt


def movements_query(principal: Principal) -> Select[InventoryMovement]:
    return select(InventoryMovement).where(environment_filter(principal, InventoryMovement.environment_id))


async def _manageable_environment(
    session: AsyncSession, principal: Principal, environment_id: uuid.UUID
) -> Environment:
    """The environment if the caller may manage its items; NotFound when out of scope,
    PermissionDenied when visible but not manageable (e.g. a student's own room)."""
    row = (
        await session.execute(
            select(Environment, manage_items_filter(principal, Environment.id).label("manage")).where(
                Environment.id == environment_id, environment_filter(principal, Environment.id)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("environment")
    if not row.manage:
        raise PermissionDenied()
    environment: Environment = row[0]
    return environment


async def _item_for_update(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> InventoryItem:
    row = (
        await session.execute(
            select(InventoryItem, manage_items_filter(principal, InventoryItem.environment_id))
            .where(InventoryItem.id == item_id, environment_filter(principal, InventoryItem.environment_id))
            .with_for_update(of=InventoryItem)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("item")
    if not row[1]:
        raise PermissionDenied()
    item: InventoryItem = row[0]
    return item


@dataclass(slots=True)
class ItemFields:
    """Descriptive fields of an item as sent by a client (None = not sent, for updates)."""

    values: dict[str, Any] = field(default_factory=dict)


def _clean_descriptive(errors: FieldErrors, values: dict[str, Any]) -> dict[str, Any]:
    text_limits = {
        "name": ("name", 100, True),
        "internal_code": ("internalCode", 50, True),
        "serial_number": ("serialNumber", 100, False),
        "brand": ("brand", 50, False),
        "model": ("model", 100, False),
        "notes": ("notes", 5000, False),
    }
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in text_limits:
            name, max_len, required = text_limits[key]
            out[key] = validation.text(errors, name, value, max_len=max_len, required=required)
        elif key == "image_url":
            out[key] = validation.url(errors, "imageUrl", value)
        else:
            out[key] = value
    dates = (out.get("purchase_date"), out.get("warranty_expiry"))
    if isinstance(dates[0], date) and isinstance(dates[1], date) and dates[1] < dates[0]:
        errors.add("warrantyExpiry", "field.date_order")
    return out


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise_for_unique(error, _UNIQUE)


async def create_item(
    session: AsyncSession,
    principal: Principal,
    *,
    environment_id: uuid.UUID,
    item_type: ItemType,
    category: ItemCategory,
    quantity: int,
    quantity_damaged: int = 0,
    quantity_missing: int = 0,
    note: str | None = None,
    **descriptive: Any,
) -> InventoryItem:
    """Register an item; its initial stock is the ledger's first (INITIAL) movement."""
    environment = await _manageable_environment(session, principal, environment_id)
    errors = FieldErrors()
    if not environment.is_active:
        errors.add("environmentId", "field.environment_inactive")
    fields = _clean_descriptive(errors, descriptive)
    validation.int_range(errors, "quantity", quantity, minimum=1, maximum=100_000)
    validation.int_range(errors, "quantityDamaged", quantity_damaged, minimum=0)
    validation.int_range(errors, "quantityMissing", quantity_missing, minimum=0)
    if item_type is ItemType.INDIVIDUAL and quantity != 1:
        errors.add("quantity", "field.individual_quantity")
    if quantity_damaged + quantity_missing > quantity:
        errors.add("quantityDamaged", "field.buckets_exceed_quantity")
    errors.raise_if_any()
    item = InventoryItem(
        environment_id=environment.id,
        item_type=item_type,
        category=category,
        status=ItemStatus.ACTIVE,
        quantity=0,
        quantity_damaged=0,
        quantity_missing=0,
        quantity_in_maintenance=0,
        quantity_on_loan=0,
        **fields,
    )
    session.add(item)
    await _flush_unique(session)
    await apply_movement(
        session,
        item=item,
        actor_id=principal.id,
        reason=MovementReason.INITIAL,
        delta=StockDelta(quantity=quantity, damaged=quantity_damaged, missing=quantity_missing),
        note=note,
    )
    return item


async def update_item(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, *, changes: dict[str, Any]
) -> InventoryItem:
    """Edit descriptive fields. Quantities change only through stock movements."""
    item = await _item_for_update(session, principal, item_id)
    if item.status is ItemStatus.RETIRED:
        raise Conflict("error.item_retired")
    errors = FieldErrors()
    # name and internal_code are required in _clean_descriptive: one error per field.
    fields = _clean_descriptive(errors, changes)
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(item, key, value)
    await _flush_unique(session)
    return item


async def retire_item(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, *, note: str | None
) -> InventoryItem:
    """Take an item out of service for good. History stays; units out on loan or in
    maintenance must come back first."""
    item = await _item_for_update(session, principal, item_id)
    if item.status is ItemStatus.RETIRED:
        raise Conflict("error.already_in_state")
    if item.quantity_on_loan or item.quantity_in_maintenance:
        raise ValidationFailed.single("itemId", "field.has_units_out")
    errors = FieldErrors()
    clean_note = validation.text(errors, "note", note, max_len=2000)
    errors.raise_if_any()
    item.status = ItemStatus.RETIRED
    item.retired_at = datetime.now(UTC)
    await session.flush()
    session.add(
        InventoryMovement(
            item_id=item.id,
            environment_id=item.environment_id,
            reason=MovementReason.RETIRE,
            quantity_after=item.quantity,
            actor_id=principal.id,
            note=clean_note,
        )
    )
    await session.flush()
    return item


async def adjust_item_stock(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    *,
    expected_quantity: int,
    delta: StockDelta,
    reason: MovementReason,
    note: str | None,
) -> tuple[Any, Any]:
    """Manual stock change with compare-and-swap on the item's quantity."""
    errors = FieldErrors()
    if reason not in MANUAL_REASONS:
        errors.add("reason", "field.reason_not_allowed")
    if delta.is_zero():
        errors.add("delta", "field.no_change")
    if delta.in_maintenance or delta.on_loan:
        # Those buckets belong to the maintenance and loan workflows.
        errors.add("delta", "field.reason_not_allowed")
    clean_note = validation.text(errors, "note", note, max_len=2000)
    errors.raise_if_any()
    return await apply_movement(
        session,
        item_id=item_id,
        principal=principal,
        actor_id=principal.id,
        reason=reason,
        delta=delta,
        note=clean_note,
        expected_quantity=expected_quantity,
    )


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
    compiled = _stock_movement(principal, expected_quantity is not None)
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
        for name in (*_STOCK_FIELDS, "updated_at"):
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
    # The item (not its movement) is the audit entry's main entity: noted first.
    audit.note_change(
        session,
        entity="inventory_items",
        entity_id=updated.id,
        old={k: old[k] for k in changed},
        new={k: new[k] for k in changed},
    )
    audit.note_created(session, movement, table=InventoryMovement.__tablename__)
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


def _stock_movement(principal: Principal | None, compare_quantity: bool) -> reads.Compiled:
    """`apply_movement`'s one statement, compiled once per caller shape (`_STOCK_MOVEMENT`)."""
    shape = (scope.shape(principal) if principal is not None else None, compare_quantity)
    return _STOCK_MOVEMENT.compiled(shape, (principal, compare_quantity))


def _build_stock_movement(argument: tuple[Principal | None, bool]) -> Select[Any]:
    """The statement of `apply_movement`:

        WITH updated AS (UPDATE inventory_items SET <buckets + deltas> WHERE <id, active, scope,
                         expected quantity, result valid> RETURNING *),
             movement AS (INSERT INTO inventory_movements SELECT … FROM updated RETURNING *)
        SELECT updated.*, movement.* FROM updated, movement

    The compare-and-swap and the ledger row are one round trip and cannot be separated: no row
    comes back (and nothing is written) when the UPDATE matches nothing. Every value (item,
    deltas, expected quantity, time, the caller's scope ids, the movement's fields) is a named
    parameter given at execution. The statement is built for a template caller whose ids match
    nothing, so a parameter left out can only make the UPDATE match no row.
    """
    principal, compare_quantity = argument
    item = InventoryItem
    after = {column: getattr(item, column) + bindparam(f"delta_{column}", type_=Integer) for column in _DELTA_FIELDS}
    conditions = [item.id == bindparam("target"), item.status == ItemStatus.ACTIVE, *_result_is_valid(after)]
    if principal is not None:
        template = scope.template(principal)
        conditions.append(manage_items_filter(template, item.environment_id))
        conditions.append(environment_filter(template, item.environment_id))
    if compare_quantity:
        conditions.append(item.quantity == bindparam("expected_quantity", type_=Integer))
    now = bindparam("now", type_=DateTime(timezone=True))
    item_table, movement_table = cast(Table, InventoryItem.__table__), cast(Table, InventoryMovement.__table__)
    updated = (
        update(item_table)
        .where(and_(*conditions))
        .values(**after, updated_at=now)
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


_STOCK_MOVEMENT = reads.Prepared(_build_stock_movement)


def _result_is_valid(after: dict[str, ColumnElement[int]]) -> list[ColumnElement[bool]]:
    """The table's CHECK constraints, applied to the row after the movement.

    Part of the UPDATE's WHERE, so an impossible movement matches no row instead of raising:
    no savepoint is needed, and the CHECKs stay as the last line of defence.
    """
    quantity = after["quantity"]
    buckets = [after[column] for column in BUCKETS]
    return [
        quantity >= 0,
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
        raise ValidationFailed.single("delta", invalid)
    raise Conflict()
