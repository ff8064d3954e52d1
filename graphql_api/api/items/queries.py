"""Read fields for inventory items; scope is applied in the SQL."""

from __future__ import annotations

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.items.types import InventoryItem
from graphql_api.services import items


@strawberry.type
class ItemQuery:
    item = by_id_field(
        InventoryItem, description="One item by ID, if the caller may see it.", permission=permissions.authenticated()
    )
    # Each page row comes with its environment and center (both visible whenever the item
    # is): nested `environment { center }` costs no statement.
    items = list_field(
        InventoryItem,
        description="Items the caller may see, filtered and ordered.",
        filters=items.ITEM_FILTERS,
        ordering=items.ITEM_ORDER,
        permission=permissions.authenticated(),
        join=("environment", "environment.center"),
    )
