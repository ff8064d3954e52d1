"""Inventory items and stock movements as GraphQL types."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.loaders import child_connection, related
from graphql_api.api.core.pagination import NOT_GIVEN, After, Before, Connection, First, Last, PageArgs, when_loaded
from graphql_api.api.core.relay import Node, encode_id, required
from graphql_api.api.enums import ItemCategory, ItemCondition, ItemStatus, ItemType, MovementReason, to_api
from graphql_api.api.organization.types import Environment
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


@strawberry.type(description="A piece of equipment (one unit) or a group of identical units in an environment.")
class InventoryItem(Node):
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
    # A plain field (no resolver): the Environment, or a Deferred of it (loaders.related).
    environment: Environment = strawberry.field(description="The environment holding the item.")

    @classmethod
    def from_model(cls, row: models.InventoryItem) -> InventoryItem:
        return cls(
            _model=row,
            id=encode_id("InventoryItem", row.id),
            name=row.name,
            internal_code=row.internal_code,
            serial_number=row.serial_number,
            category=to_api(row.category, ItemCategory),
            item_type=to_api(row.item_type, ItemType),
            status=to_api(row.status, ItemStatus),
            condition=condition_of(row),
            brand=row.brand,
            model=row.model,
            purchase_date=row.purchase_date,
            warranty_expiry=row.warranty_expiry,
            last_maintenance_date=row.last_maintenance_date,
            next_maintenance_date=row.next_maintenance_date,
            image_url=row.image_url,
            notes=row.notes,
            quantity=row.quantity,
            quantity_damaged=row.quantity_damaged,
            quantity_missing=row.quantity_missing,
            quantity_in_maintenance=row.quantity_in_maintenance,
            quantity_on_loan=row.quantity_on_loan,
            quantity_available=row.quantity_available,
            retired_at=row.retired_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            environment=related("environment_by_id", row.environment_id, Environment.from_model),
        )

    @strawberry.field(description="Stock movements of this item, newest first.")
    def movements(
        self,
        info: Info,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[InventoryMovement]:
        loaders = info.context.loaders
        return child_connection(
            loaders.movement_pages_by_item,
            loaders.movement_count_by_item,
            self._model.id,
            PageArgs(first, after, last, before),
            InventoryMovement.from_model,
            info.context.settings.max_page_size,
            known_total=loaders.known("movement_count_by_item", self._model.id),
        )


@strawberry.type(description="One entry of the append-only stock ledger: how an item's quantities changed and why.")
class InventoryMovement(Node):
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

    @classmethod
    def from_model(cls, row: models.InventoryMovement) -> InventoryMovement:
        return cls(
            _model=row,
            id=encode_id("InventoryMovement", row.id),
            reason=to_api(row.reason, MovementReason),
            delta_quantity=row.delta_quantity,
            delta_damaged=row.delta_damaged,
            delta_missing=row.delta_missing,
            delta_in_maintenance=row.delta_in_maintenance,
            delta_on_loan=row.delta_on_loan,
            quantity_after=row.quantity_after,
            note=row.note,
            created_at=row.created_at,
        )

    @strawberry.field(description="The item that moved.")
    def item(self, info: Info) -> InventoryItem:
        row = info.context.loaders.item_by_id.load(self._model.item_id)
        return when_loaded(row, lambda found: InventoryItem.from_model(required(found)))  # type: ignore[return-value]

    @strawberry.field(description="Who caused it, if visible to the caller.")
    def actor(self, info: Info) -> User | None:
        if self._model.actor_id is None:
            return None
        row = info.context.loaders.user_by_id.load(self._model.actor_id)
        return when_loaded(row, lambda found: User.from_model(found) if found else None)  # type: ignore[return-value]
