"""Inventory items: what each environment holds, who may see and manage them.

Quantities change only through the stock ledger (`graphql_api.services.ledger`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter
from graphql_api.db.models import (
    MAX_QUANTITY,
    Environment,
    InventoryItem,
    InventoryMovement,
    ItemCategory,
    ItemStatus,
    ItemType,
    MovementReason,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from graphql_api.services import validation
from graphql_api.services.filtering import AnyOf, Filters, Flag, OrderField, Ordering, Search
from graphql_api.services.ledger import StockDelta, apply_movement
from graphql_api.services.queries import flush_unique

MANUAL_REASONS = frozenset({MovementReason.RESTOCK, MovementReason.CORRECTION, MovementReason.LOSS})
_UNIQUE = {
    "uq_inventory_items_internal_code": ("internalCode", "field.internal_code_taken"),
    "uq_inventory_items_serial_number": ("serialNumber", "field.serial_taken"),
}


def available_expr() -> ColumnElement[int]:
    return InventoryItem.quantity - (
        InventoryItem.quantity_damaged
        + InventoryItem.quantity_missing
        + InventoryItem.quantity_in_maintenance
        + InventoryItem.quantity_on_loan
    )


def visible_items(principal: Principal) -> Select[Any]:
    """Items the caller may see: those of the environments in scope (any status)."""
    return select(InventoryItem).where(environment_filter(principal, InventoryItem.environment_id))


def visible_movements(principal: Principal) -> Select[Any]:
    """Ledger rows the caller may see: those recorded in an environment of their scope."""
    return select(InventoryMovement).where(environment_filter(principal, InventoryMovement.environment_id))


ITEM_FILTERS = Filters(
    "Item",
    "Filters for items; all given conditions must hold. They narrow the caller's scope, never widen it.",
    {
        "environment_ids": AnyOf(InventoryItem.environment_id, "Only items of these environments.", ids="Environment"),
        "categories": AnyOf(InventoryItem.category, "Only these categories."),
        "statuses": AnyOf(
            InventoryItem.status, "Only these statuses (default: ACTIVE only).", default=(ItemStatus.ACTIVE,)
        ),
        "item_types": AnyOf(InventoryItem.item_type, "Only individual or group items."),
        "search": Search(
            (InventoryItem.name, InventoryItem.internal_code, InventoryItem.serial_number),
            "Text in name, internal code or serial number.",
        ),
        "only_available": Flag(lambda: available_expr() > 0, "Only items with at least one available unit."),
    },
)
ITEM_ORDER = Ordering(
    "Item",
    {
        "NAME": OrderField(InventoryItem.name, "By name."),
        "INTERNAL_CODE": OrderField(InventoryItem.internal_code, "By internal code."),
        "QUANTITY": OrderField(InventoryItem.quantity, "By owned quantity."),
        "CREATED_AT": OrderField(InventoryItem.created_at, "By registration time."),
        "UPDATED_AT": OrderField(InventoryItem.updated_at, "By last change."),
    },
    default="NAME",
    id_column=InventoryItem.id,
)
# A movement's own order, for `item.movements`: newest first.
MOVEMENT_ORDER = Ordering(
    "Movement",
    {"CREATED_AT": OrderField(InventoryMovement.created_at, "By time.")},
    default="CREATED_AT",
    default_descending=True,
    id_column=InventoryMovement.id,
)


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
    validation.int_range(errors, "quantity", quantity, minimum=1, maximum=MAX_QUANTITY)
    validation.int_range(errors, "quantityDamaged", quantity_damaged, minimum=0, maximum=MAX_QUANTITY)
    validation.int_range(errors, "quantityMissing", quantity_missing, minimum=0, maximum=MAX_QUANTITY)
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
    await flush_unique(session, _UNIQUE)
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
    await flush_unique(session, _UNIQUE)
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
    # The ledger records the retirement; no unit moves.
    await apply_movement(
        session, item=item, actor_id=principal.id, reason=MovementReason.RETIRE, delta=StockDelta(), note=clean_note
    )
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
    delta.check(errors)
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
