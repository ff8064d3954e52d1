"""The schema: Query and Mutation assembled from the domains, with the protective extensions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graphql_api.api.audit.queries import AuditQuery
from graphql_api.api.auth.mutations import AuthMutation
from graphql_api.api.errors import EXCEPTION_HANDLERS, ErrorCodes
from graphql_api.api.items.mutations import ItemMutation
from graphql_api.api.items.queries import ItemQuery
from graphql_api.api.node import NodeQuery
from graphql_api.api.organization.mutations import OrganizationMutation
from graphql_api.api.organization.queries import OrganizationQuery
from graphql_api.api.users.mutations import UserMutation
from graphql_api.api.users.queries import UserQuery
from graphql_api.api.validation_rules import RULES

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
# graphql-core's hint: " Did you mean 'a', 'b' or 'c'?" (quoted names never contain "?").
SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")

Query = merge_types("Query", (NodeQuery, UserQuery, OrganizationQuery, ItemQuery, AuditQuery))
Mutation = merge_types("Mutation", (AuthMutation, UserMutation, OrganizationMutation, ItemMutation))


class ReportingParserCache(ParserCache):
    """ParserCache parses on entering its hook, so a syntax or token-limit error escaped outside
    the operation and reached the client without `extensions.code`. Leave failing documents to
    strawberry's own parse step, which reports them inside the operation (ErrorCodes sees them)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            context.graphql_document = None
        yield


class RequireOperationName(SchemaExtension):
    """A document with several operations must say which one to run (GraphQL spec,
    GetOperation); strawberry would silently run the first one."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context._provided_operation_name is None:  # no public accessor
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError("Must provide operation name if query contains multiple operations.")
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # ErrorCodes has already logged what deserves it (unexpected errors, with request id);
        # strawberry's default would log every validation error with a traceback.
        # disable_field_suggestions only strips the hint of "Cannot query field"; argument,
        # input-field, enum-value and type hints leak the schema just the same.
        if self.config.disable_field_suggestions:
            for error in errors:
                error.message = SUGGESTION.sub("", error.message)


def _validation_rules() -> list[type[ASTValidationRule]]:
    """Every extra validation rule, as classes built once. ValidationCache keys its cache on
    the rule classes, so limiter extensions constructed per request (each making new rule
    classes) would miss the cache on every request."""
    depth = QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules
    return [*depth, *aliases, *RULES]


VALIDATION_RULES = _validation_rules()


def build_schema(*, introspection: bool = True, field_suggestions: bool = True) -> Schema:
    # Factories, not instances: strawberry builds fresh extensions per request. The parser
    # and validation caches are module-level LRUs shared by every instance.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        ErrorCodes,
        lambda: ReportingParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        RequireOperationName,  # after ValidationCache, which overwrites the error list
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(VALIDATION_RULES),
    ]
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
