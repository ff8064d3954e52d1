"""Inventory items and stock movements as GraphQL types."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.enums import ItemCategory, ItemCondition, ItemStatus, ItemType, MovementReason
from graphql_api.api.items.loaders import ITEM_BY_ID, MOVEMENT_BY_ID, MOVEMENTS_OF_ITEM
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models


def condition_of(row: models.InventoryItem) -> ItemCondition:
    buckets = {
        ItemCondition.DAMAGED: row.quantity_damaged,
        ItemCondition.MISSING: row.quantity_missing,
        ItemCondition.MAINTENANCE: row.quantity_in_maintenance,
        ItemCondition.IN_USE: row.quantity_on_loan,
    }
    unavailable = sum(buckets.values())
    if unavailable == 0:
        return ItemCondition.AVAILABLE
    for condition, count in buckets.items():
        if count == row.quantity:
            return condition
    return ItemCondition.PARTIAL


@model_type(
    models.InventoryItem,
    loader=ITEM_BY_ID,
    description="A piece of equipment (one unit) or a group of identical units in an environment.",
    computed={"condition": condition_of},
    related={"environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment)},
)
class InventoryItem(Node, ModelObject):
    _model: strawberry.Private[models.InventoryItem]
    name: str = strawberry.field(description="Display name.")
    internal_code: str = strawberry.field(description="Unique inventory code.")
    serial_number: str | None = strawberry.field(description="Manufacturer serial number (unique).")
    category: ItemCategory = strawberry.field(description="Kind of equipment.")
    item_type: ItemType = strawberry.field(description="One unit or a group of identical units.")
    status: ItemStatus = strawberry.field(description="Lifecycle: active or retired.")
    condition: ItemCondition = strawberry.field(description="Computed from the unit buckets.")
    brand: str | None = strawberry.field(description="Brand.")
    model: str | None = strawberry.field(description="Model.")
    purchase_date: date | None = strawberry.field(description="Purchase date.")
    warranty_expiry: date | None = strawberry.field(description="End of the warranty.")
    last_maintenance_date: date | None = strawberry.field(description="Last completed maintenance.")
    next_maintenance_date: date | None = strawberry.field(description="Next planned maintenance.")
    image_url: str | None = strawberry.field(description="Picture URL.")
    notes: str | None = strawberry.field(description="Free text.")
    quantity: int = strawberry.field(description="Units the environment owns.")
    quantity_damaged: int = strawberry.field(description="Units damaged.")
    quantity_missing: int = strawberry.field(description="Units missing.")
    quantity_in_maintenance: int = strawberry.field(description="Units in maintenance.")
    quantity_on_loan: int = strawberry.field(description="Units out on loan.")
    quantity_available: int = strawberry.field(description="quantity minus every bucket above.")
    retired_at: datetime | None = strawberry.field(description="When the item was retired.")
    created_at: datetime = strawberry.field(description="When the item was registered.")
    updated_at: datetime = strawberry.field(description="Last change of any field or quantity.")
    environment: Environment = strawberry.field(description="The environment holding the item.")
    movements = children_field(
        MOVEMENTS_OF_ITEM, "InventoryMovement", __name__, description="Stock movements of this item, newest first."
    )


@model_type(
    models.InventoryMovement,
    loader=MOVEMENT_BY_ID,
    description="One entry of the append-only stock ledger: how an item's quantities changed and why.",
    related={
        "item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem),
        "actor": Relation(USER_BY_ID, "actor_id", lambda: User, required=False),
    },
)
class InventoryMovement(Node, ModelObject):
    _model: strawberry.Private[models.InventoryMovement]
    reason: MovementReason = strawberry.field(description="Why the stock changed.")
    delta_quantity: int = strawberry.field(description="Change of the owned quantity.")
    delta_damaged: int = strawberry.field(description="Change of the damaged bucket.")
    delta_missing: int = strawberry.field(description="Change of the missing bucket.")
    delta_in_maintenance: int = strawberry.field(description="Change of the in-maintenance bucket.")
    delta_on_loan: int = strawberry.field(description="Change of the on-loan bucket.")
    quantity_after: int = strawberry.field(description="The item's quantity after this movement.")
    note: str | None = strawberry.field(description="Free text from the actor.")
    created_at: datetime = strawberry.field(description="When it happened.")
    item: InventoryItem = strawberry.field(description="The item that moved.")
    actor: User | None = strawberry.field(description="Who caused it, if visible to the caller.")
