"""Inventory items and their stock ledger."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.items.mutations import ItemMutation
from graphql_api.api.items.queries import ItemQuery
from graphql_api.api.items.subscriptions import ItemSubscription
from graphql_api.api.items.types import InventoryItem, InventoryMovement

DOMAIN = Domain(
    name="items",
    query=ItemQuery,
    mutation=ItemMutation,
    subscription=ItemSubscription,
    types=(InventoryItem, InventoryMovement),
)
