"""Notifications: the inbox of the signed-in user, live."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.notifications.mutations import NotificationMutation
from graphql_api.api.notifications.queries import NotificationQuery
from graphql_api.api.notifications.subscriptions import NotificationSubscription
from graphql_api.api.notifications.types import Notification

DOMAIN = Domain(
    name="notifications",
    query=NotificationQuery,
    mutation=NotificationMutation,
    subscription=NotificationSubscription,
    types=(Notification,),
)
