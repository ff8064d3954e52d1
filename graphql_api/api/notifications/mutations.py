"""The recipient's own management of their notifications (nobody creates one: the server does)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import NotFoundError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.notifications.types import Notification
from graphql_api.services import notifications

SIGNED_IN = permissions.authenticated()


@strawberry.input(description="Identifies one of the caller's notifications.")
class NotificationIdInput:
    id: strawberry.ID = ref("Notification", description="The notification.")


@strawberry.input(description="Which unread notifications to mark read.")
class MarkAllNotificationsReadInput:
    kinds: list[str] | None = strawberry.field(default=None, description="Only these kinds (default: all).")


@strawberry.type(description="The notification after the change.")
class NotificationPayload:
    notification: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="How many notifications were marked read.")
class MarkAllNotificationsReadPayload:
    count: int = strawberry.field(description="Notifications that were unread and are read now.")


@strawberry.type(description="The notification is gone.")
class DeleteNotificationPayload:
    id: strawberry.ID = strawberry.field(description="Global ID of the deleted notification.")


NotificationResult = Annotated[
    NotificationPayload | ValidationError | NotFoundError,
    strawberry.union("NotificationResult", description="The notification, or why not."),
]
DeleteNotificationResult = Annotated[
    DeleteNotificationPayload | ValidationError | NotFoundError,
    strawberry.union("DeleteNotificationResult", description="Done, or why not."),
]


@strawberry.type
class NotificationMutation:
    @mutation(description="Mark one of the caller's notifications read.", permission=SIGNED_IN)
    async def mark_notification_read(self, info: Info, input: NotificationIdInput) -> NotificationResult:
        context = info.context
        row = await notifications.set_read(
            context.require_session(), context.require_principal(), values(input)["id"], read=True
        )
        return NotificationPayload(notification=Notification.from_model(row))

    @mutation(description="Mark one of the caller's notifications unread again.", permission=SIGNED_IN)
    async def mark_notification_unread(self, info: Info, input: NotificationIdInput) -> NotificationResult:
        context = info.context
        row = await notifications.set_read(
            context.require_session(), context.require_principal(), values(input)["id"], read=False
        )
        return NotificationPayload(notification=Notification.from_model(row))

    @mutation(description="Mark every unread notification of the caller read.", permission=SIGNED_IN)
    async def mark_all_notifications_read(
        self, info: Info, input: MarkAllNotificationsReadInput
    ) -> MarkAllNotificationsReadPayload:
        context = info.context
        count = await notifications.mark_all_read(
            context.require_session(), context.require_principal(), **values(input)
        )
        return MarkAllNotificationsReadPayload(count=count)

    @mutation(description="Delete one of the caller's notifications.", permission=SIGNED_IN)
    async def delete_notification(self, info: Info, input: NotificationIdInput) -> DeleteNotificationResult:
        context = info.context
        await notifications.delete_notification(
            context.require_session(), context.require_principal(), values(input)["id"]
        )
        return DeleteNotificationPayload(id=input.id)
