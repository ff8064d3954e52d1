"""Executing documents: each distinct text parsed and validated once, and a direct path for
documents already validated (`Schema.execute_prepared`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext, ExecutionResult

from graphql_api.api.core.context import Context
from graphql_api.api.core.cost import OperationGate
from graphql_api.api.core.errors import format_error
from graphql_api.api.core.limits import check_document as check_limits
from graphql_api.api.core.validation_rules import RULES

MAX_TOKENS = 2000
# graphql-core's hint: " Did you mean 'a', 'b' or 'c'?" (quoted names never contain "?").
SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


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
        document = context.graphql_document
        assert document is not None
        checked = check_document(context.schema, context.query or "", document, context.validation_rules)
        errors_now = list(checked.errors)
        if checked.operations > 1 and context._provided_operation_name is None:  # no public accessor
            errors_now.append(GraphQLError("Must provide operation name if query contains multiple operations."))
        context.pre_execution_errors = errors_now
        yield


def request_rules(schema: strawberry.Schema) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules strawberry applies to a request of `schema` (graphql-core's own,
    and those its extensions add, e.g. no introspection), for paths that validate themselves."""
    rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
    for extension in schema.extensions:
        if isinstance(extension, type) and issubclass(extension, AddValidationRules):
            rules = (*rules, *extension().validation_rules)  # type: ignore[call-arg]  # subclasses take none
    return rules


def check_document(
    schema: strawberry.Schema,
    query: str,
    document: DocumentNode | None,
    validation_rules: tuple[type[ASTValidationRule], ...],
) -> _Checked:
    """The validation of `query` (parsed as `document`, or parsed here), done once per text."""
    key = (query, validation_rules)
    checked = _CHECKED.get(key)
    if checked is None:
        if document is None:
            try:
                document = parse(query, max_tokens=MAX_TOKENS)
            except GraphQLError as error:
                return _Checked(DocumentNode(definitions=()), (error,), 0)
        rules = (*validation_rules, *VALIDATION_RULES)
        # The limits first: a document they refuse goes no further (see limits.py).
        # strawberry's validate_document adds its own rules (Maybe null, @oneOf).
        errors = tuple(check_limits(schema._schema, document)) or tuple(
            validate_document(schema._schema, document, rules)
        )
        operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        checked = _Checked(document, errors, operations)
        while len(_CHECKED) >= MAX_CACHED_DOCUMENTS:
            del _CHECKED[next(iter(_CHECKED))]
        _CHECKED[key] = checked
    if not checked.errors and isinstance(schema, Schema):
        schema.remember(query, checked.document)
    return checked


MAX_CACHED_DOCUMENTS = 1000
# The schema extensions `Schema.execute_prepared` accounts for, by class name, and how.
DIRECT_PATH_EXTENSIONS = {
    "ErrorCodes": "its on_operation error rewriting is format_error, which execute_prepared applies",
    "Documents": "parses and validates on a document's first request, which goes through strawberry",
    "DisableIntrospection": "adds a validation rule, applied on a document's first request",
    "QueryCost": "execute_prepared runs the same OperationGate (cost limit, admission, extensions.cost)",
}
_CHECKED: dict[tuple[str, tuple[type[ASTValidationRule], ...]], _Checked] = {}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document this schema has parsed and validated without errors, and its operations."""

    document: DocumentNode
    operations: dict[str | None, OperationType]


class Schema(strawberry.Schema):
    """strawberry's Schema, plus a direct path for documents it has already checked.

    `Schema.execute` runs the extension hooks of every request (context managers, parse and
    validate steps that the `Documents` cache answers anyway), a good part of a small
    request. A document that passed validation once is remembered here (per schema: the
    validation rules are the schema's), and `execute_prepared` runs it with graphql-core
    directly and gives its errors the same treatment as `ErrorCodes` (`format_error`). The
    HTTP view takes that path only for plain POSTs of such documents; everything else (the
    first request of a document, invalid documents, batches, GET, subscriptions) goes through
    strawberry as before. Responses are the same either way (tests/test_prepared.py).

    The direct path runs no schema-extension hooks, so it serves a schema only when every
    extension is one it accounts for (`DIRECT_PATH_EXTENSIONS`: today's parse, validate on a
    document's first request, format errors, which `format_error` does here, and gate the
    operation on its cost, whose `OperationGate` is called here too); with any other, every
    request goes through strawberry and `direct_path_problems` says why (a test fails on it).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: dict[str, Prepared] = {}
        # The types `node(id:)` may return (set by the schema builder from the domains).
        self.node_types: frozenset[type] = frozenset()
        self._direct = not self.direct_path_problems()

    def direct_path_problems(self) -> list[str]:
        """Why `execute_prepared` may not serve this schema; empty when it may."""
        return [
            f"schema extension {name} is unknown to the direct path (Schema.execute_prepared runs no extension "
            "hooks): mirror what its hooks do in execute_prepared, then add it to DIRECT_PATH_EXTENSIONS in "
            "graphql_api/api/core/execution.py with a note saying how"
            for name in (getattr(extension, "__name__", repr(extension)) for extension in self.extensions)
            if name not in DIRECT_PATH_EXTENSIONS
        ]

    def remember(self, query: str, document: DocumentNode) -> None:
        if query in self._prepared:
            return
        operations: dict[str | None, OperationType] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value if definition.name else None] = definition.operation
        if len(operations) == 1:
            # Without an operationName the only operation runs (GraphQL spec, GetOperation).
            operations[None] = next(iter(operations.values()))
        else:
            operations.pop(None, None)  # an anonymous operation among several is invalid
        while len(self._prepared) >= MAX_CACHED_DOCUMENTS:
            del self._prepared[next(iter(self._prepared))]
        self._prepared[query] = Prepared(document, operations)

    def prepared(self, query: str, operation_name: str | None) -> DocumentNode | None:
        """The checked document when `operation_name` picks a query or mutation in it."""
        if not self._direct:
            return None
        entry = self._prepared.get(query)
        if entry is None:
            return None
        operation = entry.operations.get(operation_name)
        if operation is None or operation is OperationType.SUBSCRIPTION:
            return None
        return entry.document

    async def execute_prepared(
        self,
        document: DocumentNode,
        context: Context,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        gate = await OperationGate.enter(self._schema, document, operation_name, variables, context)
        refusal = gate.refusal(context)
        if refusal is not None:
            return refusal
        try:
            result = execute(
                self._schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # a TypeGuard in graphql-core's stub
                executor_class=self.execution_context_class,
            )
            if optimized_is_awaitable(result):
                result = await result  # type: ignore[misc]
            data, errors = result.data, result.errors  # type: ignore[union-attr]
        except Exception as error:  # like Schema.execute: a masked INTERNAL error, not a 500
            data, errors = None, [GraphQLError(str(error), original_error=error)]
        finally:
            gate.leave()
        if errors:
            self._process_errors(errors)
            errors = [format_error(error, context.language, context.meta.request_id) for error in errors]
        return ExecutionResult(data=data, errors=errors or None, extensions=gate.extensions() or None)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # ErrorCodes has already logged what deserves it (unexpected errors, with request id);
        # strawberry's default would log every validation error with a traceback.
        # disable_field_suggestions only strips the hint of "Cannot query field"; argument,
        # input-field, enum-value and type hints leak the schema just the same.
        if self.config.disable_field_suggestions:
            for error in errors:
                error.message = SUGGESTION.sub("", error.message)


# Our rules on top of graphql-core's. Depth and aliases are not among them: limits.py checks
# them first, in one pass, instead of strawberry's limiters, which walk every path through
# shared fragments (exponential in the number of fragments).
VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = tuple(RULES)
