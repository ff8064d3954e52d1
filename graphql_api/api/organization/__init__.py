"""Training centers and their environments (rooms and warehouses)."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.organization.mutations import OrganizationMutation
from graphql_api.api.organization.queries import OrganizationQuery
from graphql_api.api.organization.types import Center, Environment

DOMAIN = Domain(
    name="organization",
    query=OrganizationQuery,
    mutation=OrganizationMutation,
    types=(Center, Environment),
)
