"""A `subscribe` message turned into a `Subscription`: the same checks as any operation (the
document's validation and limits, the cost limit, the field's permission), then the field's
resolver, which checks what was asked for and answers with a `Feed`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

from graphql_api.api.core.context import Context
from graphql_api.api.core.cost import estimate_cost
from graphql_api.api.core.errors import format_error
from graphql_api.api.core.execution import Schema, check_document, request_rules
from graphql_api.api.core.subscriptions.feeds import Feed
from graphql_api.api.core.subscriptions.hub import Subscription
from graphql_api.errors import DomainError
from graphql_api.i18n import translate


@dataclass(frozen=True, slots=True)
class SubscribeInfo:
    """What a subscription resolver gets as `info` (it only reads the context)."""

    context: Context


async def subscribe(
    schema: Schema, query: str, variables: dict[str, Any] | None, operation_name: str | None, context: Context
) -> Subscription | list[GraphQLError] | None:
    """The subscription a client asked for, or why not (errors with codes, in the caller's
    language); None when the operation is not a subscription (a query or mutation sent over
    the socket, which strawberry runs)."""
    try:
        return await _subscribe(schema, query, variables, operation_name, context)
    except GraphQLError as error:
        return [format_error(error, context.language, context.meta.request_id)]
    except DomainError as error:  # e.g. NotFound: what was asked for is not visible
        wrapped = GraphQLError(str(error), original_error=error)
        return [format_error(wrapped, context.language, context.meta.request_id)]


async def _subscribe(
    schema: Schema, query: str, variables: dict[str, Any] | None, operation_name: str | None, context: Context
) -> Subscription | list[GraphQLError] | None:
    checked = check_document(schema, query, None, request_rules(schema))
    if checked.errors:
        return [format_error(error, context.language, context.meta.request_id) for error in checked.errors]
    document = checked.document
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise GraphQLError("Unknown operation, or several operations and no operationName.")
    if operation.operation is not OperationType.SUBSCRIPTION:
        return None
    graphql_schema = schema._schema
    coerced = get_variable_values(graphql_schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return [format_error(error, context.language, context.meta.request_id) for error in coerced]
    cost = estimate_cost(graphql_schema, document, operation_name, variables)
    if cost > context.settings.query_cost_limit:
        limit = context.settings.query_cost_limit
        message = translate("error.query_cost", context.language, {"cost": cost, "limit": limit})
        raise GraphQLError(message, extensions={"code": "BAD_REQUEST", "cost": cost, "limit": limit})
    feed = await _feed(schema, document, operation, coerced, context)
    return Subscription(feed, document, query, operation_name, variables, context)


async def _feed(schema: Schema, document: Any, operation: Any, coerced: Any, context: Context) -> Feed[Any]:
    graphql_schema = schema._schema
    subscription_type = graphql_schema.subscription_type
    assert subscription_type is not None  # the document validated against a subscription
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    collected = collect_fields(graphql_schema, _fragment_details(fragments), coerced, subscription_type, operation)
    [nodes] = list(collected.grouped_field_set.values())  # validation allows one root field
    field_node: Any = nodes[0].node if hasattr(nodes[0], "node") else nodes[0]
    field_def = subscription_type.fields[field_node.name.value]
    field = field_def.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    raw = get_argument_values(field_def, field_node, coerced)
    kwargs = convert_arguments(raw, field.arguments, schema.schema_converter.scalar_registry, schema.config)
    info: Any = SubscribeInfo(context)
    for extension in field.extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                allowed: Any = permission.has_permission(None, info, **kwargs)
                await allowed  # ours are async and raise their own error
    feed = await field.base_resolver.wrapped_func(None, info, **kwargs)
    if not isinstance(feed, Feed):
        raise TypeError(f"subscription {field.name} must return a Feed")
    return feed


def _fragment_details(fragments: dict[str, Any]) -> dict[str, Any]:
    from graphql.execution.collect_fields import FragmentDetails

    return {name: FragmentDetails(definition) for name, definition in fragments.items()}
