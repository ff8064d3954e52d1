"""Resolving and reopening alerts (SUPERVISOR in scope, ADMIN in the own warehouse,
ADMIN_GENERAL; scope is checked in the service) and each user's own alert settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.api.alerts.types import AlertSettings, AlertSeverity, AlertType, SystemAlert
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.services import alert_settings, alerts

READERS = permissions.roles(*alerts.READERS)


@strawberry.input(description="Identifies a system alert.")
class AlertIdInput:
    id: strawberry.ID = ref("SystemAlert", description="The alert.")


@strawberry.input(description="The alert settings to change; fields not sent keep their value.")
class UpdateAlertSettingsInput:
    low_stock_threshold: strawberry.Maybe[int] = strawberry.field(description="0 to 100000 available units.")
    alert_types: strawberry.Maybe[list[AlertType] | None] = strawberry.field(
        description="The alert types wanted; null: all of them (also types added later); []: none."
    )
    min_severity: strawberry.Maybe[AlertSeverity] = strawberry.field(description="Notify from this severity up.")
    notify: strawberry.Maybe[bool] = strawberry.field(description="Whether to be notified of raised alerts.")


@strawberry.type(description="The alert after the change.")
class AlertPayload:
    alert: SystemAlert = strawberry.field(description="The alert.")


@strawberry.type(description="The caller's alert settings after the change.")
class AlertSettingsPayload:
    settings: AlertSettings = strawberry.field(description="The settings.")


AlertResult = Annotated[
    AlertPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union("AlertResult", description="The alert, or why the change was not made."),
]
AlertSettingsResult = Annotated[
    AlertSettingsPayload | ValidationError,
    strawberry.union("AlertSettingsResult", description="The settings, or what is wrong with the input."),
]


@strawberry.type
class AlertMutation:
    @mutation(description="Resolve an open alert (ConflictError if it is not open).", permission=READERS)
    async def resolve_alert(self, info: Info, input: AlertIdInput) -> AlertResult:
        context = info.context
        row = await alerts.resolve_alert(context.require_session(), context.require_principal(), values(input)["id"])
        return AlertPayload(alert=SystemAlert.from_model(row))

    @mutation(
        description=(
            "Reopen a resolved alert (ConflictError if it is open, or while another alert of its type is open for"
            " the same object)."
        ),
        permission=READERS,
    )
    async def reopen_alert(self, info: Info, input: AlertIdInput) -> AlertResult:
        context = info.context
        row = await alerts.reopen_alert(context.require_session(), context.require_principal(), values(input)["id"])
        return AlertPayload(alert=SystemAlert.from_model(row))

    @mutation(description="Change the caller's own alert settings.", permission=permissions.authenticated())
    async def update_alert_settings(self, info: Info, input: UpdateAlertSettingsInput) -> AlertSettingsResult:
        context = info.context
        row = await alert_settings.update(context.require_session(), context.require_principal().id, values(input))
        return AlertSettingsPayload(settings=AlertSettings.from_model(row))
