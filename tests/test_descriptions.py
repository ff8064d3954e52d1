"""Every type, field, argument, input field and enum value of the schema has a description:
they are the clients' manual (SPEC §3)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)

from graphql_api.api.schema import build_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID", "Query", "Mutation", "Subscription"}


def undescribed() -> list[str]:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if name not in BUILT_IN and not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [f"{name}.{field_name}({arg})" for arg, value in field.args.items() if not value.description]
        elif isinstance(type_, GraphQLInputObjectType):
            missing += [f"{name}.{field}" for field, value in type_.fields.items() if not value.description]
        elif isinstance(type_, GraphQLEnumType):
            missing += [f"{name}.{value}" for value, data in type_.values.items() if not data.description]
        elif isinstance(type_, GraphQLUnionType) and not type_.description:
            missing.append(name)
    for directive in schema.directives:
        if directive.name in {"isAuthenticated", "hasRole"} and not directive.description:
            missing.append(f"@{directive.name}")
    return missing


def test_everything_in_the_schema_is_described() -> None:
    assert undescribed() == []
