"""Live checks: every change of the checks of a room."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from graphql_api.api.checks.loaders import CHECK_BY_ID
from graphql_api.api.checks.types import InventoryCheck
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.relay import require_id
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.errors import NotFound
from graphql_api.pubsub.events import Event
from graphql_api.services.checks import CHECK_CHANGED


async def _check(context: Context, event: Event) -> InventoryCheck | None:
    assert event.subject_id is not None
    row = await context.loaders[CHECK_BY_ID].load(event.subject_id)
    return InventoryCheck.from_model(row) if row is not None else None


@strawberry.type
class CheckSubscription:
    @subscription(
        description="Every change of the checks of one room (started, recorded, submitted, reviewed, approved, "
        "rejected), as it is committed.",
        permission=permissions.authenticated(),
    )
    async def inventory_check_changed(
        self,
        info: Info,
        environment_id: Annotated[strawberry.ID, strawberry.argument(description="The room to watch.")],
    ) -> AsyncGenerator[InventoryCheck, None]:
        room = require_id(environment_id, "Environment", "environmentId")
        if await info.context.loaders[ENVIRONMENT_BY_ID].load(room) is None:
            raise NotFound("environment")
        return Feed(
            CHECK_CHANGED, matches=lambda event: event.environment_id == room, load=_check, shared=Shared.BY_SCOPE
        )
