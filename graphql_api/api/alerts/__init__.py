"""System alerts: read, resolved and reopened within scope, raised live; each user's alert settings."""

from graphql_api.api.alerts.mutations import AlertMutation
from graphql_api.api.alerts.queries import AlertQuery
from graphql_api.api.alerts.subscriptions import AlertSubscription
from graphql_api.api.alerts.types import SystemAlert
from graphql_api.api.core.domain import Domain

DOMAIN = Domain(
    name="alerts",
    query=AlertQuery,
    mutation=AlertMutation,
    subscription=AlertSubscription,
    types=(SystemAlert,),
)
