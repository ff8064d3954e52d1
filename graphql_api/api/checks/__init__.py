"""The daily three-stage inventory check of a room."""

from graphql_api.api.checks.mutations import CheckMutation
from graphql_api.api.checks.queries import CheckQuery
from graphql_api.api.checks.subscriptions import CheckSubscription
from graphql_api.api.checks.types import CheckItemRecord, CheckReview, InventoryCheck
from graphql_api.api.core.domain import Domain

DOMAIN = Domain(
    name="checks",
    query=CheckQuery,
    mutation=CheckMutation,
    subscription=CheckSubscription,
    types=(InventoryCheck, CheckItemRecord, CheckReview),
)
