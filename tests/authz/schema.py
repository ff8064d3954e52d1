"""Reading the built schema: which fields take IDs and where, who the directives let in, and
documents that call a field with a selection of everything worth comparing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from graphql import (
    ConstDirectiveNode,
    EnumValueNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    ListValueNode,
    ObjectTypeDefinitionNode,
    get_named_type,
    parse,
)

from graphql_api.api.schema import build_schema, printed_schema
from tests.authz.cases import AUTHENTICATED, PUBLIC, Access


def _root(type_: GraphQLObjectType | None) -> GraphQLObjectType:
    assert type_ is not None
    return type_


SCHEMA = build_schema()
GRAPHQL = SCHEMA._schema
QUERY_TYPE = _root(GRAPHQL.query_type)
MUTATION_TYPE = _root(GRAPHQL.mutation_type)

IdPath = tuple[str, ...]


def unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def strip_non_null(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_id(type_: Any) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name == "ID"


def id_slots(fields: Mapping[str, Any], prefix: IdPath = (), seen: frozenset[str] = frozenset()) -> list[IdPath]:
    """Paths to every ID inside arguments / input fields, recursing into input objects."""
    found: list[IdPath] = []
    for name, arg in fields.items():
        named = get_named_type(arg.type)
        if _is_id(arg.type):
            found.append((*prefix, name))
        elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            found.extend(id_slots(named.fields, (*prefix, name), seen | {named.name}))
    return found


def node_type_names(schema: GraphQLSchema) -> list[str]:
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return sorted(t.name for t in schema.get_possible_types(node))


def query_fields_with_ids(schema: GraphQLSchema) -> list[str]:
    return sorted(name for name, f in _root(schema.query_type).fields.items() if id_slots(f.args))


def mutation_fields(schema: GraphQLSchema) -> list[str]:
    return sorted(schema.mutation_type.fields) if schema.mutation_type else []


def directives() -> dict[tuple[str, str], Access]:
    """(root, field) -> PUBLIC, AUTHENTICATED or the frozenset of role names, from the SDL."""
    out: dict[tuple[str, str], Access] = {}
    for definition in parse(printed_schema()).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode) or definition.name.value not in {"Query", "Mutation"}:
            continue
        for field_node in definition.fields or ():
            access: Access = PUBLIC
            for directive in field_node.directives or ():
                if directive.name.value == "isAuthenticated":
                    access = AUTHENTICATED
                elif directive.name.value == "hasRole":
                    access = _roles(directive)
            out[(definition.name.value, field_node.name.value)] = access
    return out


def _roles(directive: ConstDirectiveNode) -> frozenset[str]:
    (argument,) = directive.arguments or ()
    assert isinstance(argument.value, ListValueNode), argument
    return frozenset(value.value for value in argument.value.values if isinstance(value, EnumValueNode))


def slot_type(field_name: str, id_names: Mapping[str, str], path: IdPath) -> str:
    """The node type (or "Node") an ID slot of a query field points to."""
    if len(path) == 1 and path[0] in {"id", "ids"}:
        return str(unwrap(QUERY_TYPE.fields[field_name].type).name)
    if path[-1] in id_names:
        return id_names[path[-1]]
    pytest.fail(
        f"{field_name}: cannot tell which type the ID at {'.'.join(path)} names;"
        " declare it in the id_names of the type's domain (its authz.py)"
    )


def arg_type(graphql_field: GraphQLField, path: IdPath) -> Any:
    type_: Any = graphql_field.args[path[0]].type
    for step in path[1:]:
        type_ = get_named_type(type_).fields[step].type
    return type_


def is_list_slot(field_name: str, path: IdPath) -> bool:
    return isinstance(strip_non_null(arg_type(QUERY_TYPE.fields[field_name], path)), GraphQLList)


def single_id_fields() -> list[str]:
    """Query fields whose only ID is one `id` argument: `node` and the by-id fields."""
    fields = QUERY_TYPE.fields
    return sorted(name for name in query_fields_with_ids(GRAPHQL) if id_slots(fields[name].args) == [("id",)])


# ---- documents ---------------------------------------------------------------------------


def _is_error(member: GraphQLObjectType) -> bool:
    return any(i.name == "Error" for i in member.interfaces)


def _union_selection(named: GraphQLUnionType, depth: int) -> str:
    parts = ["__typename"]
    if any(_is_error(member) for member in named.types):
        parts.append("... on Error { code message }")
    for member in named.types:
        if member.name == "ValidationError":
            parts.append("... on ValidationError { fieldErrors { field code } }")
        elif not _is_error(member):
            parts.append(f"... on {member.name} {selection(member, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


def selection(type_: Any, depth: int = 0) -> str:
    """A selection for a result: __typename, ids of nodes, error codes, scalars of payloads."""
    named = unwrap(type_)
    if isinstance(named, GraphQLUnionType):
        return _union_selection(named, depth)
    if isinstance(named, GraphQLInterfaceType) and named.name == "Node":
        return "{ __typename id }"
    assert isinstance(named, GraphQLObjectType), named
    fields = named.fields
    if "edges" in fields and "totalCount" in fields:
        return "{ totalCount edges { node { __typename id } } }"
    if any(i.name == "Node" for i in named.interfaces):
        return "{ __typename id }"
    parts = ["__typename"]
    for name, sub in fields.items():
        if isinstance(unwrap(sub.type), GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif depth < 2:
            parts.append(f"{name} {selection(sub.type, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


def query_document(field_name: str, arguments: Mapping[str, Any]) -> str:
    graphql_field = QUERY_TYPE.fields[field_name]
    declared = ", ".join(f"${name}: {graphql_field.args[name].type}" for name in arguments)
    passed = ", ".join(f"{name}: ${name}" for name in arguments)
    header = f"query Q({declared})" if declared else "query Q"
    call = f"{field_name}({passed})" if passed else field_name
    return f"{header} {{ result: {call} {selection(graphql_field.type)} }}"


def mutation_document(field_name: str) -> str:
    graphql_field = MUTATION_TYPE.fields[field_name]
    assert list(graphql_field.args) == ["input"], f"{field_name}: mutations take exactly one `input` argument"
    input_type = graphql_field.args["input"].type
    return f"mutation M($input: {input_type}) {{ result: {field_name}(input: $input) {selection(graphql_field.type)} }}"


def query_arguments(field_name: str, slot_values: Mapping[IdPath, Any]) -> dict[str, Any]:
    """Variables that put `slot_values` at their ID paths; other input fields keep defaults."""
    graphql_field = QUERY_TYPE.fields[field_name]
    variables: dict[str, Any] = {}
    for path, value in slot_values.items():
        if len(path) == 1:
            variables[path[0]] = value
            continue
        container = variables.setdefault(path[0], {})
        for step in path[1:-1]:
            container = container.setdefault(step, {})
        container[path[-1]] = value
    for name, arg in graphql_field.args.items():
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is None and name not in variables:
            pytest.fail(f"{field_name}: required argument {name} has no value; teach the matrix about it")
    return variables


def is_list_of_nodes(field_name: str) -> bool:
    """A list of the objects asked for by id (`nodes`), not a list about the object given."""
    type_ = strip_non_null(QUERY_TYPE.fields[field_name].type)
    return isinstance(type_, GraphQLList) and unwrap(type_).name in {"Node", *node_type_names(GRAPHQL)}


def is_connection(field_name: str) -> bool:
    return_type = unwrap(QUERY_TYPE.fields[field_name].type)
    return isinstance(return_type, GraphQLObjectType) and "edges" in return_type.fields


def connection_node_type(field_name: str) -> str:
    edges = unwrap(QUERY_TYPE.fields[field_name].type).fields["edges"].type
    return str(unwrap(unwrap(edges).fields["node"].type).name)
