"""Read fields for inventory items; scope is applied in the SQL."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable
from typing import Annotated, Any

import strawberry
from sqlalchemy import Row, join

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import selects, sort_key
from graphql_api.api.core.pagination import (
    NOT_GIVEN,
    After,
    Before,
    Connection,
    First,
    Last,
    NodeIdArg,
    PageArgs,
    connection,
)
from graphql_api.api.core.relay import decode_id, filter_ids
from graphql_api.api.enums import ItemCategory, ItemStatus, ItemType, SortDirection, to_model
from graphql_api.api.items.types import InventoryItem
from graphql_api.db import models, reads
from graphql_api.services import items


@strawberry.enum(description="Fields items can be sorted by.")
class ItemOrderField(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="By name.")
    INTERNAL_CODE = strawberry.enum_value("INTERNAL_CODE", description="By internal code.")
    QUANTITY = strawberry.enum_value("QUANTITY", description="By owned quantity.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="By registration time.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="By last change.")


@strawberry.input(description="Ordering of an items list.")
class ItemOrder:
    field: ItemOrderField = strawberry.field(description="Sort field.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Direction.")


@strawberry.input(
    description="Filters for items; all given conditions must hold. They narrow the caller's scope, never widen it."
)
class ItemWhere:
    environment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only items of these environments."
    )
    categories: list[ItemCategory] | None = strawberry.field(default=None, description="Only these categories.")
    statuses: list[ItemStatus] | None = strawberry.field(
        default=None, description="Only these statuses (default: ACTIVE only)."
    )
    item_types: list[ItemType] | None = strawberry.field(default=None, description="Only individual or group items.")
    search: str | None = strawberry.field(default=None, description="Text in name, internal code or serial number.")
    only_available: bool = strawberry.field(default=False, description="Only items with at least one available unit.")


_COLUMNS = {
    ItemOrderField.NAME: models.InventoryItem.name,
    ItemOrderField.INTERNAL_CODE: models.InventoryItem.internal_code,
    ItemOrderField.QUANTITY: models.InventoryItem.quantity,
    ItemOrderField.CREATED_AT: models.InventoryItem.created_at,
    ItemOrderField.UPDATED_AT: models.InventoryItem.updated_at,
}


_MOVEMENT_COUNT = ("edges", "node", "movements", "totalCount")
_ITEM_ROW, _ENVIRONMENT_ROW, _CENTER_ROW = (
    reads.row_class(model) for model in (models.InventoryItem, models.Environment, models.Center)
)
_PAGE_COLUMNS = [
    *reads.model_columns(models.InventoryItem),
    *reads.model_columns(models.Environment, prefix="environment_"),
    *reads.model_columns(models.Center, prefix="center_"),
]
_ENVIRONMENT_AT = len(reads.model_columns(models.InventoryItem))
_CENTER_AT = _ENVIRONMENT_AT + len(reads.model_columns(models.Environment))
_PAGE_JOIN = join(
    models.InventoryItem, models.Environment, models.Environment.id == models.InventoryItem.environment_id
).join(models.Center, models.Center.id == models.Environment.center_id)


def _filters(where: ItemWhere) -> items.ItemFilter:
    return items.ItemFilter(
        environment_ids=filter_ids(where.environment_ids, "Environment"),
        categories=[to_model(c, models.ItemCategory) for c in where.categories] if where.categories else None,
        statuses=[to_model(s, models.ItemStatus) for s in where.statuses] if where.statuses else None,
        item_types=[to_model(t, models.ItemType) for t in where.item_types] if where.item_types else None,
        search=where.search,
        only_available=where.only_available,
    )


@strawberry.type
class ItemQuery:
    @strawberry.field(description="One item by ID, if the caller may see it.", extensions=permissions.authenticated())
    async def item(self, info: Info, id: NodeIdArg) -> InventoryItem | None:
        pk = decode_id(id, "InventoryItem")
        row = await info.context.loaders.item_by_id.load(pk) if pk else None
        return InventoryItem.from_model(row) if row else None

    @strawberry.field(
        description="Items the caller may see, filtered and ordered.", extensions=permissions.authenticated()
    )
    def items(
        self,
        info: Info,
        where: Annotated[ItemWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[ItemOrder | None, strawberry.argument(description="Ordering (default: name).")] = None,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[InventoryItem]:
        order = order_by or ItemOrder(field=ItemOrderField.NAME)
        stmt = items.items_query(info.context.require_principal(), _filters(where) if where else None)
        key = sort_key(f"item:{order.field.value}", _COLUMNS[order.field], models.InventoryItem.id, order.direction)
        # The page statement joins each item's environment and center (many-to-one, so no row
        # multiplication) and seeds their loaders: nested `environment { center }` costs no
        # statement. Both are in scope whenever the item is (same environment filter). Rows
        # are read as plain column rows, not ORM entities (a third of the memory, less CPU).
        page = stmt.with_only_columns(*_PAGE_COLUMNS).select_from(_PAGE_JOIN)
        environments: dict[uuid.UUID, Any] = {}
        centers: dict[uuid.UUID, Any] = {}

        def read_row(row: Row[Any]) -> Any:
            item = _ITEM_ROW(*row[:_ENVIRONMENT_AT])
            if item.environment_id not in environments:
                environment = environments[item.environment_id] = _ENVIRONMENT_ROW(*row[_ENVIRONMENT_AT:_CENTER_AT])
                if environment.center_id not in centers:
                    centers[environment.center_id] = _CENTER_ROW(*row[_CENTER_AT:])
            return item

        loaders = info.context.loaders
        # Movement counts of the whole page in one batch before the items are built, so each
        # item's `movements { totalCount }` is a plain value (no per-item await).
        counts = any(selects(field.selections, _MOVEMENT_COUNT) for field in info.selected_fields)

        def prime(rows: list[Any]) -> Awaitable[object] | None:
            loaders.prime_many("environment_by_id", environments.values())
            loaders.prime_many("center_by_id", centers.values())
            if counts and rows:
                return loaders.prefetch("movement_count_by_item", [row.id for row in rows])
            return None

        return connection(
            info.context,
            page,
            key,
            PageArgs(first, after, last, before),
            InventoryItem.from_model,
            on_rows=prime,
            read_row=read_row,
            count_stmt=stmt,
        )
