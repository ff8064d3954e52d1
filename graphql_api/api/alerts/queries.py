"""Read fields: the alerts in the caller's scope, and the caller's own alert settings."""

from __future__ import annotations

import strawberry

from graphql_api.api.alerts.types import AlertSettings, SystemAlert
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.db import models
from graphql_api.services import alert_settings, alerts

READERS = permissions.roles(*alerts.READERS)


@strawberry.type
class AlertQuery:
    system_alert = by_id_field(
        SystemAlert, description="One system alert by ID, if the caller may see it.", permission=READERS
    )
    # The environment of each alert comes with its page row (visible whenever the alert is).
    system_alerts = list_field(
        SystemAlert,
        description=(
            "System alerts of the environments in scope (SUPERVISOR: the center; ADMIN: the own warehouse), newest"
            " first."
        ),
        filters=alerts.ALERT_FILTERS,
        ordering=alerts.ALERT_ORDER,
        permission=READERS,
        join=("environment",),
    )

    @strawberry.field(
        description="The caller's alert settings (the defaults until changed).", extensions=permissions.authenticated()
    )
    async def alert_settings(self, info: Info) -> AlertSettings:
        async with info.context.db() as session:
            row: models.AlertSettings = await alert_settings.get(session, info.context.require_principal().id)
        return AlertSettings.from_model(row)
