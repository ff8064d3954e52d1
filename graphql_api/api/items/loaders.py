"""What the items domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById, Children
from graphql_api.db import models
from graphql_api.services import items

ITEM_BY_ID = ById(models.InventoryItem, items.visible_items)
MOVEMENT_BY_ID = ById(models.InventoryMovement, items.visible_movements)
# An item's movements are in its environment, so visible whenever the item is: their total is
# the count the item keeps.
MOVEMENTS_OF_ITEM = Children(
    models.InventoryMovement,
    models.InventoryMovement.item_id,
    items.visible_movements,
    items.MOVEMENT_ORDER,
    count=lambda item: item.movement_count,
)
