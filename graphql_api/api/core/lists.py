"""Helpers shared by the domain packages of the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.types.maybe import Some
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from graphql_api.api.core.pagination import SortKey
from graphql_api.api.enums import SortDirection


def present(source: Any, names: dict[str, str]) -> dict[str, Any]:
    """The fields of an update input that the client sent: {service name: value}.

    `names` maps input attribute -> service attribute; absent fields are left out, so "not
    sent" and "set to null" stay different (strawberry.Maybe).
    """
    out: dict[str, Any] = {}
    for attr, target in names.items():
        value = getattr(source, attr)
        if isinstance(value, Some):
            out[target] = value.value
    return out


def sort_key(name: str, column: Any, id_column: Any, direction: SortDirection) -> SortKey:
    descending = direction is SortDirection.DESC
    return SortKey(f"{name}:{direction.value}", ((column, descending), (id_column, descending)))


def selects(selections: Sequence[Selection], path: Sequence[str]) -> bool:
    """Whether `selections` (e.g. `info.selected_fields`) reach the field `path` (GraphQL
    names, e.g. ["edges", "node", "movements", "totalCount"]), through fragments too."""
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and selects(selection.selections, path[1:]):
                return True
        elif isinstance(selection, InlineFragment | FragmentSpread) and selects(selection.selections, path):
            return True
    return False
