"""Mutation inputs as service arguments, without a hand-written mapping per mutation.

Input types declare their fields once; ID fields say which node type they name with `ref`:

    @strawberry.input(description="...")
    class UpdateItemInput:
        id: strawberry.ID = ref("InventoryItem", description="The item.")
        name: strawberry.Maybe[str] = strawberry.field(description="New name.")

and `values(input)` gives the service its keyword arguments: IDs decoded (a malformed one is a
ValidationError on its field, one of another type a NotFoundError), API enums as model enums,
and of the `strawberry.Maybe` fields only those the client sent, so "not sent" and "set to
null" stay different.
"""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.types.maybe import Some, _annotation_is_maybe

from graphql_api.api.core.enums import mirrored
from graphql_api.api.core.relay import require_id

_NODE = "graphql_api.node"


def ref(type_name: str, *, description: str, default: Any = strawberry.UNSET) -> Any:
    """An input field holding the global ID of a `type_name` object."""
    if default is strawberry.UNSET:
        return strawberry.field(description=description, metadata={_NODE: type_name})
    return strawberry.field(default=default, description=description, metadata={_NODE: type_name})


def values(source: Any) -> dict[str, Any]:
    """The input's fields as service keyword arguments (see the module's docstring)."""
    out: dict[str, Any] = {}
    for field in source.__strawberry_definition__.fields:
        value = getattr(source, field.python_name)
        if value is None and _is_maybe(field):
            continue  # not sent
        if isinstance(value, Some):
            value = value.value
        node = field.metadata.get(_NODE)
        if node is not None and value is not None:
            value = require_id(value, node, field.graphql_name or _camel(field.python_name))
        out[field.python_name] = _model_value(value)
    return out


def _is_maybe(field: Any) -> bool:
    annotation = field.type_annotation
    return annotation is not None and _annotation_is_maybe(annotation.annotation)


def _model_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _MODEL.get(type(value), {}).get(value, value)
    if isinstance(value, list) and value and isinstance(value[0], enum.Enum):
        return [_model_value(item) for item in value]
    return value


class _ModelMembers(dict[type[enum.Enum], dict[enum.Enum, enum.Enum]]):
    """API enum member -> model enum member, built on first use (after every mirror is known)."""

    def __missing__(self, api: type[enum.Enum]) -> dict[enum.Enum, enum.Enum]:
        for model, mirror in mirrored().items():
            if mirror is api:
                members = self[api] = {member: model[member.name] for member in api}
                return members
        return {}

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if isinstance(key, type) and issubclass(key, enum.Enum) else default


_MODEL = _ModelMembers()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
