"""Live notifications of the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.api.notifications.loaders import NOTIFICATION_BY_ID
from graphql_api.api.notifications.types import Notification
from graphql_api.pubsub.events import Event
from graphql_api.services import notifications


async def _notification(context: Context, event: Event) -> Notification | None:
    assert event.subject_id is not None
    row = await context.loaders[NOTIFICATION_BY_ID].load(event.subject_id)
    return Notification.from_model(row) if row is not None else None


@strawberry.type
class NotificationSubscription:
    @subscription(
        description="Each new notification of the caller, as it is created.", permission=permissions.authenticated()
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        me = info.context.require_principal().id
        return Feed(notifications.RECEIVED, matches=lambda event: me in event.user_ids, load=_notification)

    @subscription(
        description="The caller's unread notification count, each time it changes.",
        permission=permissions.authenticated(),
    )
    async def unread_notification_count_changed(self, info: Info) -> AsyncGenerator[int, None]:
        principal = info.context.require_principal()

        async def count(context: Context, event: Event) -> int:
            async with context.db() as session:
                return await notifications.unread_count(session, principal.id)

        return Feed(
            notifications.UNREAD_COUNT_CHANGED,
            matches=lambda event: principal.id in event.user_ids,
            load=count,
            shared=Shared.BY_USER,
        )
