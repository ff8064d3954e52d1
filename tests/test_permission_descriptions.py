"""The docs explorer tells who may call each field: the description of every field that carries
@isAuthenticated or @hasRole ends with that rule, and no other field mentions one.

The expected text is derived here from the directive printed in the SDL (not from the code that
writes the suffix), so a description that drifted from the enforced permission fails.
"""

from __future__ import annotations

import pytest
from graphql import (
    FieldDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    parse,
)

from graphql_api.api.schema import build_schema, printed_schema

MARKER = "Requires:"


def _fields() -> dict[str, FieldDefinitionNode]:
    fields: dict[str, FieldDefinitionNode] = {}
    for definition in parse(printed_schema()).definitions:
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for field in definition.fields or ():
                fields[f"{definition.name.value}.{field.name.value}"] = field
    return fields


FIELDS = _fields()


def _expected_rule(field: FieldDefinitionNode) -> str | None:
    rules: list[str] = []
    for directive in field.directives or ():
        if directive.name.value == "isAuthenticated":
            rules.append("signed in")
        elif directive.name.value == "hasRole":
            (argument,) = directive.arguments
            assert isinstance(argument.value, ListValueNode)
            names = [value.value for value in argument.value.values]  # type: ignore[attr-defined]
            if len(names) == 1:
                rules.append(f"signed in with the role {names[0]}")
            else:
                rules.append(f"signed in with one of the roles {', '.join(names)}")
    return f"{MARKER} {' and '.join(rules)}." if rules else None


def test_the_scan_sees_protected_and_public_fields() -> None:
    protected = [name for name, field in FIELDS.items() if _expected_rule(field)]
    assert len(protected) >= 30
    assert {"Query.me", "Mutation.createUser", "Mutation.login"} <= set(FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_description_ends_with_the_declared_rule(name: str) -> None:
    field = FIELDS[name]
    description = field.description.value if field.description else ""
    rule = _expected_rule(field)
    if rule is None:
        assert MARKER not in description, f"{name} is public but its description names a rule"
    else:
        assert description.endswith("\n\n" + rule), f"{name}: {description!r} should end with {rule!r}"
        assert description.count(MARKER) == 1


async def test_introspection_shows_the_same_descriptions() -> None:
    # GraphiQL's docs explorer reads introspection, not the SDL file.
    result = await build_schema().execute('{ __type(name: "Mutation") { fields { name description } } }')
    assert result.errors is None
    assert result.data is not None
    by_name = {field["name"]: field["description"] for field in result.data["__type"]["fields"]}
    assert by_name["createUser"].endswith("\n\nRequires: signed in with the role ADMIN_GENERAL.")
    assert by_name["logout"].endswith("\n\nRequires: signed in.")
    assert MARKER not in by_name["login"]


def test_building_twice_does_not_repeat_the_rule() -> None:
    build_schema()
    assert printed_schema().count(MARKER) == sum(1 for field in FIELDS.values() if _expected_rule(field))
