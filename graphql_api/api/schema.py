"""The schema: Query, Mutation and the node types merged from the domain list, with the
protective extensions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from graphql_api.api.core.cost import QueryCost
from graphql_api.api.core.domain import Domain
from graphql_api.api.core.errors import EXCEPTION_HANDLERS, ErrorCodes
from graphql_api.api.core.execution import Documents, Schema
from graphql_api.api.core.nodes import NodeQuery
from graphql_api.api.core.types import apply_extensions
from graphql_api.api.domains import DOMAINS


def build_schema(
    *, introspection: bool = True, field_suggestions: bool = True, domains: Sequence[Domain] = DOMAINS
) -> Schema:
    # Classes, not instances: strawberry builds fresh extensions per request. The document
    # cache is module-level, shared by every instance.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [ErrorCodes, Documents, QueryCost]
    if not introspection:
        extensions.append(DisableIntrospection)
    queries = [NodeQuery, *(d.query for d in domains if d.query is not None)]
    mutations = [d.mutation for d in domains if d.mutation is not None]
    subscriptions = [d.subscription for d in domains if d.subscription is not None]
    node_types = tuple(t for d in domains for t in d.types)
    apply_extensions(e for d in domains for e in d.extends)
    schema = Schema(
        query=merge_types("Query", tuple(queries)),
        mutation=merge_types("Mutation", tuple(mutations)) if mutations else None,
        subscription=merge_types("Subscription", tuple(subscriptions)) if subscriptions else None,
        types=node_types,
        extensions=extensions,
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
    )
    schema.node_types = frozenset(node_types)
    return schema


def printed_schema() -> str:
    """The SDL as checked in at `schema.graphql` (same bytes as `export-schema` writes)."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["Schema", "build_schema", "printed_schema"]
