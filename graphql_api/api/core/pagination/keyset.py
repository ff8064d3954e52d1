"""Orderings for keyset pagination: the sort key, and the SQL that pages along it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.services.filtering import Ordering


@dataclass(frozen=True, slots=True)
class SortKey:
    """An ordering: named columns with their direction; the last one must be unique (id)."""

    name: str
    columns: tuple[tuple[InstrumentedAttribute[Any], bool], ...]  # (column, descending)

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, column.key) for column, _ in self.columns]


def keyset_condition(sort: SortKey, values: Sequence[Any], backward: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in the ordering (before them when `backward`)."""
    alternatives = []
    for index, (column, descending) in enumerate(sort.columns):
        greater = descending == backward
        comparison = column > values[index] if greater else column < values[index]
        equal_prefix = [sort.columns[j][0] == values[j] for j in range(index)]
        alternatives.append(and_(*equal_prefix, comparison))
    return or_(*alternatives)


def order_by(sort: SortKey, backward: bool) -> list[Any]:
    return [column.desc() if descending != backward else column.asc() for column, descending in sort.columns]


def ordering_key(ordering: Ordering, field: str | None = None, descending: bool | None = None) -> SortKey:
    """The sort key of one of a list's declared orderings (by default, its default one); the
    row id breaks ties, in the same direction."""
    name = field or ordering.default
    if descending is None:
        descending = ordering.default_descending
    id_column: Any = ordering.id_column
    return SortKey(
        f"{ordering.name.lower()}:{name}:{'DESC' if descending else 'ASC'}",
        ((ordering.fields[name].column, descending), (id_column, descending)),
    )
