"""System alerts and alert settings as GraphQL types: an alert's message in the reader's
language, its object as a node seen within the reader's scope."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from graphql_api.api.alerts.loaders import ALERT_BY_ID
from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import mirrors
from graphql_api.api.core.nodes import resolve_node
from graphql_api.api.core.relay import Node, encode_id
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models
from graphql_api.i18n import translate
from graphql_api.services import alert_messages


@mirrors(models.AlertType)
@strawberry.enum(description="What a system alert is about.")
class AlertType(enum.Enum):
    LOW_STOCK = strawberry.enum_value(
        "LOW_STOCK", description="A group item's available units fell to the threshold or below."
    )
    MAINTENANCE_DUE = strawberry.enum_value("MAINTENANCE_DUE", description="An item's planned maintenance is due.")
    EQUIPMENT_MISSING = strawberry.enum_value("EQUIPMENT_MISSING", description="An approved check found units missing.")
    LOAN_OVERDUE = strawberry.enum_value("LOAN_OVERDUE", description="A delivered loan passed its due date.")
    VERIFICATION_PENDING = strawberry.enum_value(
        "VERIFICATION_PENDING", description="A class's daily check was not submitted by the end of its slot."
    )


@mirrors(models.AlertSeverity)
@strawberry.enum(description="How serious an alert is, in increasing order.")
class AlertSeverity(enum.Enum):
    LOW = strawberry.enum_value("LOW", description="Worth knowing.")
    MEDIUM = strawberry.enum_value("MEDIUM", description="Needs attention.")
    HIGH = strawberry.enum_value("HIGH", description="Needs attention soon (notified with HIGH priority).")
    CRITICAL = strawberry.enum_value("CRITICAL", description="Needs attention now (notified with HIGH priority).")


@mirrors(models.AlertStatus)
@strawberry.enum(description="Whether an alert still needs attention.")
class AlertStatus(enum.Enum):
    OPEN = strawberry.enum_value("OPEN", description="Raised (or reopened) and not resolved.")
    RESOLVED = strawberry.enum_value(
        "RESOLVED", description="Resolved by a person or, when its cause is gone, by the system."
    )


@model_type(
    models.SystemAlert,
    loader=ALERT_BY_ID,
    description=(
        "Something about an object that needs attention, raised by the server; never two open alerts of one type"
        " for one object."
    ),
    related={
        "environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment),
        "resolved_by": Relation(USER_BY_ID, "resolved_by_id", lambda: User, required=False),
        "reopened_by": Relation(USER_BY_ID, "reopened_by_id", lambda: User, required=False),
    },
)
class SystemAlert(Node, ModelObject):
    _model: strawberry.Private[models.SystemAlert]
    alert_type: AlertType = strawberry.field(name="type", description="What it is about.")
    severity: AlertSeverity = strawberry.field(description="How serious it is.")
    status: AlertStatus = strawberry.field(description="Open or resolved.")
    subject_type: str = strawberry.field(description="The GraphQL type of the object concerned, e.g. `InventoryItem`.")
    environment: Environment = strawberry.field(description="The environment the object belongs to.")
    created_at: datetime = strawberry.field(description="When it was raised.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was last resolved; kept after a reopen (the resolution the reopen undid)."
    )
    resolved_by: User | None = strawberry.field(
        description="Who last resolved it; null when the system did (its cause went away) or if not visible."
    )
    reopened_at: datetime | None = strawberry.field(description="When it was last reopened.")
    reopened_by: User | None = strawberry.field(description="Who last reopened it, if visible to the reader.")

    @strawberry.field(description="What happened, in the reader's language.")
    def message(self, info: Info) -> str:
        row = self._model
        return translate(alert_messages.kind(row.alert_type), info.context.language, row.params)

    @strawberry.field(description="The object concerned, if the reader may see it.")
    async def subject(self, info: Info) -> Node | None:
        row = self._model
        return await resolve_node(info, encode_id(row.subject_type, row.subject_id))


@model_type(
    models.AlertSettings,
    description="Which alerts the signed-in user wants and how (the defaults until changed).",
    computed={"alert_types": lambda row: None if row.alert_types is None else [AlertType[t] for t in row.alert_types]},
)
class AlertSettings(ModelObject):
    _model: strawberry.Private[models.AlertSettings]
    low_stock_threshold: int = strawberry.field(
        description="Available units at or below which a group item is low on stock (default 5); the highest"
        " threshold among the users who read an environment's alerts applies there."
    )
    alert_types: list[AlertType] | None = strawberry.field(
        description="The alert types the user wants; null: all of them, also types added later."
    )
    min_severity: AlertSeverity = strawberry.field(description="Notify only of alerts of this severity or higher.")
    notify: bool = strawberry.field(description="Whether raised alerts reach the user's notifications.")
