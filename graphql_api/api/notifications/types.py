"""Notifications as GraphQL types: their text in the reader's language, their object as a node."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import mirrors
from graphql_api.api.core.nodes import resolve_node
from graphql_api.api.core.relay import Node, encode_id
from graphql_api.api.core.types import ModelObject, model_type
from graphql_api.api.notifications.loaders import NOTIFICATION_BY_ID
from graphql_api.db import models
from graphql_api.i18n import translate


@mirrors(models.NotificationPriority)
@strawberry.enum(description="How much a notification matters.")
class NotificationPriority(enum.Enum):
    LOW = strawberry.enum_value("LOW", description="Worth knowing, no hurry.")
    NORMAL = strawberry.enum_value("NORMAL", description="The usual.")
    HIGH = strawberry.enum_value("HIGH", description="Needs attention soon.")


@model_type(
    models.Notification,
    loader=NOTIFICATION_BY_ID,
    description="A message for the signed-in user, created by the server when something concerns them.",
    computed={"read": lambda row: row.read_at is not None},
)
class Notification(Node, ModelObject):
    _model: strawberry.Private[models.Notification]
    kind: str = strawberry.field(description="What happened, e.g. `user.role_changed`; stable, never translated.")
    priority: NotificationPriority = strawberry.field(description="How much it matters.")
    read: bool = strawberry.field(description="Whether the recipient has read it.")
    read_at: datetime | None = strawberry.field(description="When it was marked read.")
    expires_at: datetime | None = strawberry.field(description="After this it disappears.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @strawberry.field(description="Title, in the reader's language.")
    def title(self, info: Info) -> str:
        return translate(f"notification.{self._model.kind}.title", info.context.language, self._model.params)

    @strawberry.field(description="Text, in the reader's language.")
    def body(self, info: Info) -> str:
        return translate(f"notification.{self._model.kind}.body", info.context.language, self._model.params)

    @strawberry.field(description="The object it is about, if any and if the reader may see it.")
    async def subject(self, info: Info) -> Node | None:
        row = self._model
        if row.subject_type is None or row.subject_id is None:
            return None
        return await resolve_node(info, encode_id(row.subject_type, row.subject_id))
