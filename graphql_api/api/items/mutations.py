"""Item management: create, update, retire, adjust stock (SUPERVISOR in scope, ADMIN in the
own warehouse, ADMIN_GENERAL). Scope and role-per-environment rules live in the service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.enums import ItemCategory, ItemType, MovementReason
from graphql_api.api.items.types import InventoryItem, InventoryMovement
from graphql_api.db import models
from graphql_api.services import items
from graphql_api.services.ledger import StockDelta

MANAGERS = permissions.roles(models.Role.SUPERVISOR, models.Role.ADMIN, models.Role.ADMIN_GENERAL)


@strawberry.input(description="A new item and its initial stock.")
class CreateItemInput:
    environment_id: strawberry.ID = ref("Environment", description="Environment that owns it.")
    name: str = strawberry.field(description="Display name (max 100).")
    internal_code: str = strawberry.field(description="Unique inventory code (max 50).")
    category: ItemCategory = strawberry.field(description="Kind of equipment.")
    item_type: ItemType = strawberry.field(default=ItemType.INDIVIDUAL, description="One unit or a group.")
    quantity: int = strawberry.field(default=1, description="Units owned (1 for an individual item).")
    quantity_damaged: int = strawberry.field(default=0, description="Of those, units already damaged.")
    quantity_missing: int = strawberry.field(default=0, description="Of those, units already missing.")
    serial_number: str | None = strawberry.field(default=None, description="Unique serial number.")
    brand: str | None = strawberry.field(default=None, description="Brand.")
    model: str | None = strawberry.field(default=None, description="Model.")
    purchase_date: date | None = strawberry.field(default=None, description="Purchase date.")
    warranty_expiry: date | None = strawberry.field(default=None, description="End of warranty.")
    next_maintenance_date: date | None = strawberry.field(default=None, description="Next planned maintenance.")
    image_url: str | None = strawberry.field(default=None, description="Picture URL (http/https).")
    notes: str | None = strawberry.field(default=None, description="Free text.")


@strawberry.input(description="Changes to an item's description; quantities change only with adjustItemStock.")
class UpdateItemInput:
    id: strawberry.ID = ref("InventoryItem", description="The item.")
    name: strawberry.Maybe[str] = strawberry.field(description="New name.")
    internal_code: strawberry.Maybe[str] = strawberry.field(description="New unique internal code.")
    serial_number: strawberry.Maybe[str | None] = strawberry.field(description="New serial; null clears it.")
    category: strawberry.Maybe[ItemCategory] = strawberry.field(description="New category.")
    brand: strawberry.Maybe[str | None] = strawberry.field(description="New brand; null clears it.")
    model: strawberry.Maybe[str | None] = strawberry.field(description="New model; null clears it.")
    purchase_date: strawberry.Maybe[date | None] = strawberry.field(description="New purchase date.")
    warranty_expiry: strawberry.Maybe[date | None] = strawberry.field(description="New warranty end.")
    next_maintenance_date: strawberry.Maybe[date | None] = strawberry.field(description="Next planned maintenance.")
    image_url: strawberry.Maybe[str | None] = strawberry.field(description="New picture URL.")
    notes: strawberry.Maybe[str | None] = strawberry.field(description="New notes.")


@strawberry.input(description="Retire an item for good; its history stays.")
class RetireItemInput:
    id: strawberry.ID = ref("InventoryItem", description="The item.")
    note: str | None = strawberry.field(default=None, description="Why it is retired.")


@strawberry.input(description="Unit changes per bucket (positive adds, negative removes).")
class StockDeltaInput:
    quantity: int = strawberry.field(default=0, description="Change of owned units (RESTOCK adds, LOSS removes).")
    damaged: int = strawberry.field(default=0, description="Change of the damaged bucket.")
    missing: int = strawberry.field(default=0, description="Change of the missing bucket.")


@strawberry.input(description="A manual stock change, applied only if the quantity is still `expectedQuantity`.")
class AdjustItemStockInput:
    item_id: strawberry.ID = ref("InventoryItem", description="The item.")
    expected_quantity: int = strawberry.field(
        description="The quantity the caller saw; a different current value is a ConflictError."
    )
    delta: StockDeltaInput = strawberry.field(description="What changes.")
    reason: MovementReason = strawberry.field(description="RESTOCK, CORRECTION or LOSS.")
    note: str | None = strawberry.field(default=None, description="Free text for the ledger.")


@strawberry.type(description="The item after the change.")
class ItemPayload:
    item: InventoryItem = strawberry.field(description="The item.")


@strawberry.type(description="The item after the stock change, and the ledger row written.")
class AdjustItemStockPayload:
    item: InventoryItem = strawberry.field(description="The item with its new quantities.")
    movement: InventoryMovement = strawberry.field(description="The ledger row.")


ItemResult = Annotated[
    ItemPayload | ValidationError | NotFoundError | ConflictError | PermissionDeniedError,
    strawberry.union("ItemResult", description="An item, or why the change failed."),
]
AdjustItemStockResult = Annotated[
    AdjustItemStockPayload | ValidationError | NotFoundError | ConflictError | PermissionDeniedError,
    strawberry.union("AdjustItemStockResult", description="The new stock, or why it was not applied."),
]


@strawberry.type
class ItemMutation:
    @mutation(description="Register an item with its initial stock (INITIAL movement).", permission=MANAGERS)
    async def create_item(self, info: Info, input: CreateItemInput) -> ItemResult:
        context = info.context
        row = await items.create_item(context.require_session(), context.require_principal(), **values(input))
        return ItemPayload(item=InventoryItem.from_model(row))

    @mutation(description="Edit an item's descriptive fields.", permission=MANAGERS)
    async def update_item(self, info: Info, input: UpdateItemInput) -> ItemResult:
        changes, context = values(input), info.context
        row = await items.update_item(
            context.require_session(), context.require_principal(), changes.pop("id"), changes=changes
        )
        return ItemPayload(item=InventoryItem.from_model(row))

    @mutation(
        description="Retire an item (never deleted; units on loan or in maintenance must be back).", permission=MANAGERS
    )
    async def retire_item(self, info: Info, input: RetireItemInput) -> ItemResult:
        given, context = values(input), info.context
        row = await items.retire_item(
            context.require_session(), context.require_principal(), given["id"], note=given["note"]
        )
        return ItemPayload(item=InventoryItem.from_model(row))

    @mutation(
        description="Change an item's stock with compare-and-swap on its quantity; writes one ledger row.",
        permission=MANAGERS,
    )
    async def adjust_item_stock(self, info: Info, input: AdjustItemStockInput) -> AdjustItemStockResult:
        given, context = values(input), info.context
        row, movement = await items.adjust_item_stock(
            context.require_session(),
            context.require_principal(),
            given["item_id"],
            expected_quantity=given["expected_quantity"],
            delta=StockDelta(**values(input.delta)),
            reason=given["reason"],
            note=given["note"],
        )
        return AdjustItemStockPayload(
            item=InventoryItem.from_model(row), movement=InventoryMovement.from_model(movement)
        )
