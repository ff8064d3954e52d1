"""Live maintenance: every change of the requests of one environment, or of every environment
in scope."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.relay import require_id
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.api.maintenance.loaders import REQUEST_BY_ID
from graphql_api.api.maintenance.types import MaintenanceRequest
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.errors import NotFound
from graphql_api.pubsub.events import Event
from graphql_api.services import maintenance


async def _request(context: Context, event: Event) -> MaintenanceRequest | None:
    # Loaded through the scoped loader: a subscriber out of scope now gets nothing.
    assert event.subject_id is not None
    row = await context.loaders[REQUEST_BY_ID].load(event.subject_id)
    return MaintenanceRequest.from_model(row) if row is not None else None


@strawberry.type
class MaintenanceSubscription:
    @subscription(
        description="Each maintenance request as it is opened or changes status, as committed.",
        permission=permissions.authenticated(),
    )
    async def maintenance_changed(
        self,
        info: Info,
        environment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this environment's requests (default: every one in scope)."),
        ] = None,
    ) -> AsyncGenerator[MaintenanceRequest, None]:
        if environment_id is None:
            return Feed(maintenance.CHANGED, matches=lambda event: True, load=_request, shared=Shared.BY_SCOPE)
        # An environment out of scope looks exactly like one that does not exist.
        room = require_id(environment_id, "Environment", "environmentId")
        if await info.context.loaders[ENVIRONMENT_BY_ID].load(room) is None:
            raise NotFound("environment")
        return Feed(
            maintenance.CHANGED,
            matches=lambda event: event.environment_id == room,
            load=_request,
            shared=Shared.BY_SCOPE,
        )
