"""Read fields for centers and environments; scope is applied in the SQL of each."""

from __future__ import annotations

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.organization.types import Center, Environment
from graphql_api.services import organization


@strawberry.type
class OrganizationQuery:
    center = by_id_field(
        Center, description="One center by ID, if the caller may see it.", permission=permissions.authenticated()
    )
    centers = list_field(
        Center,
        description="Centers the caller may see.",
        filters=organization.CENTER_FILTERS,
        ordering=organization.CENTER_ORDER,
        permission=permissions.authenticated(),
    )
    environment = by_id_field(
        Environment,
        description="One environment by ID, if the caller may see it.",
        permission=permissions.authenticated(),
    )
    environments = list_field(
        Environment,
        description="Environments (rooms and warehouses) the caller may see.",
        filters=organization.ENVIRONMENT_FILTERS,
        ordering=organization.ENVIRONMENT_ORDER,
        permission=permissions.authenticated(),
        join=("center",),
    )
