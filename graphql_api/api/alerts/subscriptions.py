"""Live alerts: each alert raised in the subscriber's scope."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from graphql_api.api.alerts.loaders import ALERT_BY_ID
from graphql_api.api.alerts.types import AlertSeverity, SystemAlert
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.enums import to_model
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.db import models
from graphql_api.pubsub.events import Event
from graphql_api.services import alerts


@strawberry.type
class AlertSubscription:
    @subscription(
        description="Each system alert raised in the caller's scope, as it is committed.",
        permission=permissions.roles(*alerts.READERS),
    )
    async def alert_raised(
        self,
        info: Info,
        min_severity: Annotated[
            AlertSeverity, strawberry.argument(description="Only alerts of this severity or higher.")
        ] = AlertSeverity.LOW,
    ) -> AsyncGenerator[SystemAlert, None]:
        minimum = alerts.rank(to_model(min_severity, models.AlertSeverity))

        async def load(context: Context, event: Event) -> SystemAlert | None:
            # Through the scoped loader: an alert out of the subscriber's scope is not seen.
            assert event.subject_id is not None
            row = await context.loaders[ALERT_BY_ID].load(event.subject_id)
            if row is None or alerts.rank(row.severity) < minimum:
                return None
            return SystemAlert.from_model(row)

        # Visibility follows the alert's environment only, and a raised alert has nobody's
        # resolution on it yet: subscribers of one scope share a rendering.
        return Feed(alerts.RAISED, matches=lambda event: True, load=load, shared=Shared.BY_SCOPE)
