"""The schema: Query and Mutation assembled from the domains, with the protective extensions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from graphql_api.api.audit.queries import AuditQuery
from graphql_api.api.auth.mutations import AuthMutation
from graphql_api.api.core.cost import QueryCost
from graphql_api.api.core.errors import EXCEPTION_HANDLERS, ErrorCodes
from graphql_api.api.core.execution import Documents, Schema
from graphql_api.api.items.mutations import ItemMutation
from graphql_api.api.items.queries import ItemQuery
from graphql_api.api.node import NodeQuery
from graphql_api.api.organization.mutations import OrganizationMutation
from graphql_api.api.organization.queries import OrganizationQuery
from graphql_api.api.users.mutations import UserMutation
from graphql_api.api.users.queries import UserQuery

Query = merge_types("Query", (NodeQuery, UserQuery, OrganizationQuery, ItemQuery, AuditQuery))
Mutation = merge_types("Mutation", (AuthMutation, UserMutation, OrganizationMutation, ItemMutation))


def build_schema(*, introspection: bool = True, field_suggestions: bool = True) -> Schema:
    # Classes, not instances: strawberry builds fresh extensions per request. The document
    # cache is module-level, shared by every instance.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [ErrorCodes, Documents, QueryCost]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
    )


def printed_schema() -> str:
    """The SDL as checked in at `schema.graphql` (same bytes as `export-schema` writes)."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["Mutation", "Query", "Schema", "build_schema", "printed_schema"]
