"""Live stock: every movement of the items of an environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.relay import require_id
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.api.items.loaders import ITEM_BY_ID, MOVEMENT_BY_ID
from graphql_api.api.items.types import InventoryItem, InventoryMovement
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.errors import NotFound
from graphql_api.pubsub.events import Event
from graphql_api.services.ledger import STOCK_CHANGED


@strawberry.type(description="An item's stock changed: the item as it is now, and the ledger row written.")
class StockChange:
    item: InventoryItem = strawberry.field(
        description="The item as it is when the event is delivered (it may include a later movement already; "
        "`movement.quantityAfter` is this movement's own figure)."
    )
    movement: InventoryMovement = strawberry.field(description="The movement that changed it.")


async def _stock_change(context: Context, event: Event) -> StockChange | None:
    assert event.subject_id is not None
    loaders = context.loaders
    item = loaders[ITEM_BY_ID].load(event.subject_id)
    movement = loaders[MOVEMENT_BY_ID].load(event.ref("movement"))
    # Both awaited (gather): when the database is away both fail, and the second one's error
    # left unread would be logged as never retrieved.
    item_row, movement_row = await asyncio.gather(item, movement)
    if item_row is None or movement_row is None:
        return None
    return StockChange(item=InventoryItem.from_model(item_row), movement=InventoryMovement.from_model(movement_row))


@strawberry.type
class ItemSubscription:
    @subscription(
        description="Every stock movement of the items of one environment, as it is committed.",
        permission=permissions.authenticated(),
    )
    async def item_stock_changed(
        self,
        info: Info,
        environment_id: Annotated[strawberry.ID, strawberry.argument(description="The environment to watch.")],
    ) -> AsyncGenerator[StockChange, None]:
        # An environment out of scope looks exactly like one that does not exist.
        environment = require_id(environment_id, "Environment", "environmentId")
        if await info.context.loaders[ENVIRONMENT_BY_ID].load(environment) is None:
            raise NotFound("environment")
        return Feed(
            STOCK_CHANGED,
            matches=lambda event: event.environment_id == environment,
            load=_stock_change,
            shared=Shared.BY_SCOPE,
        )
