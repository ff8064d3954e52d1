"""The schema: Query and Mutation assembled from the domains, with the protective extensions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import DisableIntrospection, MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
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


@dataclass(frozen=True, slots=True)
class _Checked:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]
    operations: int


class Documents(SchemaExtension):
    """Parse and validate each distinct query text once; the result is reused for every
    request that sends the same text (clients send the same few documents over and over).

    One extension instead of strawberry's ParserCache + ValidationCache + limiters: its
    ValidationCache keyed on the parsed document, whose hash walks the whole tree on every
    request, and each extension adds hooks to every request. Here the key is the query text
    (with the rule set). Also: documents over MAX_TOKENS fail to parse, and a document with
    several operations must say which one to run (GraphQL spec, GetOperation; strawberry
    would silently run the first one).
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        checked = _CHECKED.get((context.query or "", context.validation_rules))
        if checked is not None:
            context.graphql_document = checked.document
        else:
            # A failing parse is left to strawberry's own parse step (same limit), which
            # reports the error inside the operation, where ErrorCodes gives it a code.
            context.parse_options["max_tokens"] = MAX_TOKENS
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = (context.query or "", context.validation_rules)
        checked = _CHECKED.get(key)
        if checked is None:
            document = context.graphql_document
            assert document is not None
            rules = (*context.validation_rules, *VALIDATION_RULES)
            # strawberry's validate_document adds its own rules (Maybe null, @oneOf).
            errors = tuple(validate_document(context.schema._schema, document, rules))
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            checked = _Checked(document, errors, operations)
            while len(_CHECKED) >= MAX_CACHED_DOCUMENTS:
                del _CHECKED[next(iter(_CHECKED))]
            _CHECKED[key] = checked
        errors_now = list(checked.errors)
        if checked.operations > 1 and context._provided_operation_name is None:  # no public accessor
            errors_now.append(GraphQLError("Must provide operation name if query contains multiple operations."))
        context.pre_execution_errors = errors_now
        yield


MAX_CACHED_DOCUMENTS = 1000
_CHECKED: dict[tuple[str, tuple[type[ASTValidationRule], ...]], _Checked] = {}


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # ErrorCodes has already logged what deserves it (unexpected errors, with request id);
        # strawberry's default would log every validation error with a traceback.
        # disable_field_suggestions only strips the hint of "Cannot query field"; argument,
        # input-field, enum-value and type hints leak the schema just the same.
        if self.config.disable_field_suggestions:
            for error in errors:
                error.message = SUGGESTION.sub("", error.message)


def _validation_rules() -> tuple[type[ASTValidationRule], ...]:
    """Our validation rules on top of graphql-core's, as classes built once (the limiter
    extensions make new rule classes each time they are constructed)."""
    depth = QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules
    return (*depth, *aliases, *RULES)


VALIDATION_RULES = _validation_rules()


def build_schema(*, introspection: bool = True, field_suggestions: bool = True) -> Schema:
    # Classes, not instances: strawberry builds fresh extensions per request. The document
    # cache is module-level, shared by every instance.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [ErrorCodes, Documents]
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
