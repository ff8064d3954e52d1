"""Query cost: how many objects an operation's lists may return, estimated before it runs.

A connection (a field whose type is a `...Connection`) counts its page size (`first` or `last`;
DEFAULT_PAGE_SIZE when neither is given) times the pages of every connection around it, so
`items(first: 100) { edges { node { movements(first: 5) { ... } } } }` costs 100 + 100 x 5.
`nodes(ids:)` counts its ids; a list field that declares its size (`list_size`: at most N
objects, or one per value of a list argument) counts that. Other fields count nothing: a single object costs what its lists
cost, and the document itself is bounded by validation (limits.py). An operation costs at
least 1. Arguments may come from variables, so the estimate is made per execution, with the
request's variables; each fragment is walked once per estimate. The estimate of an operation
that uses no variable where it counts is kept (`me`, `node(id: $id)` are the same every time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionResult

from graphql_api.api.core.admission import Shed, Ticket, admission
from graphql_api.api.core.context import Context
from graphql_api.api.core.errors import format_error
from graphql_api.api.core.pagination.arguments import DEFAULT_PAGE_SIZE
from graphql_api.i18n import translate

MAX_INT = 2**31 - 1  # GraphQL's Int is 32-bit: larger values never reach a resolver
MAX_KEPT = 1000
_LIST_SIZE = "graphql_api.list_size"


def list_size(size: int | str) -> dict[str, Any]:
    """`metadata` for a list field that is not a connection: it returns at most `size` objects,
    or (a string) one per value of that list argument (`itemAvailability(itemIds:)`)."""
    return {_LIST_SIZE: size}


def _declared_size(definition: Any) -> int | str | None:
    field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    size: int | str | None = getattr(field, "metadata", {}).get(_LIST_SIZE)
    return size


class CostEstimate:
    """The cost of one execution: a document, an operation in it and the request's variables."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
        self._schema = schema
        self._fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._document = document
        self._given = variables or {}
        self._variables: dict[str, Any] = {}
        self._per_fragment: dict[str, int] = {}
        self.uses_variables = False

    def operation(self, operation_name: str | None) -> int:
        operation = self._operation(operation_name)
        if operation is None:
            return 1  # graphql-core refuses to run it
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return 1
        self._variables = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        self._variables.update(self._given)
        return max(1, self._selections(operation.selection_set, root))

    def _operation(self, operation_name: str | None) -> OperationDefinitionNode | None:
        operations = [d for d in self._document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name is not None and o.name.value == operation_name), None)

    def _selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> int:
        total = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                total += self._selections(selection.selection_set, self._type(selection.type_condition, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> int:
        known = self._per_fragment.get(name)
        if known is not None:
            return known
        self._per_fragment[name] = 0  # validation refuses cycles; this only guards the recursion
        fragment = self._fragments.get(name)
        if fragment is not None:
            parent = self._type(fragment.type_condition, None)
            self._per_fragment[name] = self._selections(fragment.selection_set, parent)
        return self._per_fragment[name]

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        if node.selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        inner_type = get_named_type(definition.type)
        inner = self._selections(node.selection_set, inner_type)
        size = self._size(node, definition, inner_type)
        return inner if size is None else size + size * inner

    def _size(self, node: FieldNode, definition: Any, inner_type: GraphQLNamedType) -> int | None:
        """How many objects the field returns when it is a list of them: a connection's page size,
        the number of ids of `nodes(ids:)`, or what the field declares. None for a single object."""
        field_type = definition.type
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        declared = _declared_size(definition)
        if isinstance(declared, int):
            return declared
        if isinstance(declared, str):
            values = self._value(arguments[declared]) if declared in arguments else None
            return len(values) if isinstance(values, list) else 1
        if isinstance(inner_type, GraphQLObjectType) and inner_type.name.endswith("Connection"):
            sizes = [self._count(arguments[name]) for name in ("first", "last") if name in arguments]
            given = [size for size in sizes if size is not None]
            return max(given) if given else DEFAULT_PAGE_SIZE
        if isinstance(get_nullable_type(field_type), GraphQLList) and "ids" in arguments:
            ids = self._value(arguments["ids"])
            return len(ids) if isinstance(ids, list) else 1
        return None

    def _count(self, value: ValueNode) -> int | None:
        number = self._value(value)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_INT:
            return None  # none given, or a value graphql-core refuses before anything runs
        return number

    def _included(self, selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name in ("skip", "include"):
                condition = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
                value = self._value(condition) if condition is not None else None
                if (name == "skip" and value is True) or (name == "include" and value is False):
                    return False
        return True

    def _value(self, node: ValueNode) -> Any:
        if _has_variable(node):
            self.uses_variables = True
        return value_from_ast_untyped(node, self._variables)

    def _type(self, condition: NamedTypeNode | None, parent: GraphQLNamedType | None) -> GraphQLNamedType | None:
        if condition is None:
            return parent
        return self._schema.get_type(condition.name.value)


def _has_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variable(value) for value in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variable(field.value) for field in node.fields)
    return False


# (schema, document, operation) -> the estimate, for operations whose estimate uses no variable.
# Documents come from the document caches (execution.py), so the same text is the same object;
# the entry holds them so that their ids stay theirs.
_kept: dict[tuple[int, int, str | None], tuple[GraphQLSchema, DocumentNode, int]] = {}


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    key = (id(schema), id(document), operation_name)
    kept = _kept.get(key)
    if kept is not None:
        return kept[2]
    estimate = CostEstimate(schema, document, variables)
    cost = estimate.operation(operation_name)
    if not estimate.uses_variables:
        while len(_kept) >= MAX_KEPT:
            del _kept[next(iter(_kept))]
        _kept[key] = (schema, document, cost)
    return cost


class OperationGate:
    """What stands between a validated operation and its execution, on both execution paths:
    the cost limit (QUERY_COST_LIMIT), then the heavy operations' turn (admission.py). `enter`
    decides, waiting for the turn if need be; `error` is then set when the operation may not
    run, `leave` ends its turn, and `extensions` is the cost to report with an accepted one."""

    __slots__ = ("cost", "error", "limit", "ticket")

    def __init__(self, cost: int, limit: int) -> None:
        self.cost = cost
        self.limit = limit
        self.error: GraphQLError | None = None
        self.ticket: Ticket | None = None

    @classmethod
    async def enter(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Context,
    ) -> OperationGate:
        settings = context.settings
        gate = cls(estimate_cost(schema, document, operation_name, variables), settings.query_cost_limit)
        if gate.cost > gate.limit:
            message = translate("error.query_cost", context.language, {"cost": gate.cost, "limit": gate.limit})
            gate.error = GraphQLError(
                message, extensions={"code": "BAD_REQUEST", "cost": gate.cost, "limit": gate.limit}
            )
            return gate
        try:
            gate.ticket = await admission(settings.admission_running_cost, settings.admission_queue_cost).admit(
                gate.cost
            )
        except Shed as shed:
            message = translate("error.busy", context.language, {"seconds": shed.retry_after})
            gate.error = GraphQLError(
                message, extensions={"code": "RATE_LIMITED", "retryAfterSeconds": shed.retry_after}
            )
            if context.response is not None:
                context.response.headers["Retry-After"] = str(shed.retry_after)
        return gate

    def refusal(self, context: Context) -> ExecutionResult | None:
        """The direct path's response when the operation may not run (formatted as ErrorCodes
        would format it on strawberry's path)."""
        if self.error is None:
            return None
        return ExecutionResult(data=None, errors=[format_error(self.error, context.language, context.meta.request_id)])

    def leave(self) -> None:
        if self.ticket is not None:
            self.ticket.release()

    def extensions(self) -> dict[str, Any]:
        return {} if self.error is not None else {"cost": {"estimated": self.cost, "limit": self.limit}}


class QueryCost(SchemaExtension):
    """The gate on strawberry's path (a document's first request, WebSocket operations); the
    direct path (`Schema.execute_prepared`) calls OperationGate itself."""

    gate: OperationGate | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.graphql_document is None:
            yield  # no request of ours (a script calling Schema.execute)
            return
        gate = self.gate = await OperationGate.enter(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
            context,
        )
        if gate.error is not None:
            execution.result = GraphQLExecutionResult(data=None, errors=[gate.error])  # nothing executes
        try:
            yield
        finally:
            gate.leave()

    def get_results(self) -> dict[str, Any]:
        return self.gate.extensions() if self.gate is not None else {}
