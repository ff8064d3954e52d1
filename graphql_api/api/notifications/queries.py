"""The caller's inbox."""

from __future__ import annotations

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import list_field
from graphql_api.api.notifications.types import Notification
from graphql_api.services import notifications


@strawberry.type
class NotificationQuery:
    notifications = list_field(
        Notification,
        description="The caller's notifications, newest first; expired ones are gone.",
        filters=notifications.NOTIFICATION_FILTERS,
        ordering=notifications.NOTIFICATION_ORDER,
        permission=permissions.authenticated(),
    )

    @strawberry.field(
        description="How many of the caller's notifications are unread.", extensions=permissions.authenticated()
    )
    async def unread_notification_count(self, info: Info) -> int:
        async with info.context.db() as session:
            return await notifications.unread_count(session, info.context.require_principal().id)
