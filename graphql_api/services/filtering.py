"""Declarations of a list's filters and orderings, written once per list by its domain.

A `Filters` names each condition a client may give (`environmentIds`, `search`, ...) with the
column it applies to and its description. The service applies the values to its scoped
statement (`Filters.apply`); the API builds the list's `where:` input from the same
declaration, so the two never drift apart. An `Ordering` does the same for `orderBy:`.

Filters only ever narrow the caller's scope: they are added to a statement that is already
scoped, with AND.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.services.queries import search_condition


@dataclass(frozen=True, slots=True)
class AnyOf:
    """The column is one of the given values. `ids` names the node type of a list of IDs: IDs
    that name another type or are malformed are dropped, and a list left empty matches nothing
    (a filter never widens). `default` applies when the client gives no value."""

    column: InstrumentedAttribute[Any]
    description: str
    ids: str | None = None
    default: tuple[Any, ...] | None = None

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        if value is None or (not value and self.ids is None):
            return self.column.in_(self.default) if self.default else None
        return self.column.in_(value)

    @property
    def python_type(self) -> Any:
        return self.column.type.python_type


@dataclass(frozen=True, slots=True)
class Equals:
    """The column equals the value (a flag such as `isActive`, a code)."""

    column: InstrumentedAttribute[Any]
    description: str

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        return None if value is None else self.column == value

    @property
    def python_type(self) -> Any:
        return self.column.type.python_type


@dataclass(frozen=True, slots=True)
class Search:
    """Case-insensitive text in any of the columns."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    description: str

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        return search_condition(value, *self.columns) if value else None

    python_type = str


@dataclass(frozen=True, slots=True)
class Flag:
    """A yes/no switch, off by default, that adds a fixed condition when on."""

    when_on: Callable[[], ColumnElement[bool]]
    description: str

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        return self.when_on() if value else None

    python_type = bool


@dataclass(frozen=True, slots=True)
class Bound:
    """The column is at or after (`lower`) or before (`upper`) the value: date and time ranges."""

    column: InstrumentedAttribute[Any]
    description: str
    lower: bool = True

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        if value is None:
            return None
        clause: ColumnElement[bool] = self.column >= value if self.lower else self.column < value
        return clause

    @property
    def python_type(self) -> Any:
        return self.column.type.python_type


@dataclass(frozen=True, slots=True)
class Custom:
    """Any other condition on one value of `python_type`."""

    build: Callable[[Any], ColumnElement[bool]]
    description: str
    python_type: Any = str

    def condition(self, value: Any) -> ColumnElement[bool] | None:
        return None if value is None else self.build(value)


Condition = AnyOf | Equals | Search | Flag | Bound | Custom


@dataclass(frozen=True)
class Filters:
    """The filters of one list; `name` names its `where:` input (`<name>Where`)."""

    name: str
    description: str
    fields: Mapping[str, Condition] = field(default_factory=dict)

    def apply(self, stmt: Select[Any], values: Mapping[str, Any] | None) -> Select[Any]:
        """`stmt` narrowed by every condition whose value is given (defaults included)."""
        values = values or {}
        for name, condition in self.fields.items():
            clause = condition.condition(values.get(name))
            if clause is not None:
                stmt = stmt.where(clause)
        return stmt


@dataclass(frozen=True, slots=True)
class OrderField:
    column: InstrumentedAttribute[Any]
    description: str


@dataclass(frozen=True)
class Ordering:
    """The orderings of one list (`<name>OrderField`, `<name>Order`); the row id breaks ties.

    With `direction_only` the list has one ordering and takes only a `direction:` argument.
    """

    name: str
    fields: Mapping[str, OrderField]
    default: str
    default_descending: bool = False
    id_column: InstrumentedAttribute[uuid.UUID] | None = None
    direction_only: bool = False

    def __post_init__(self) -> None:
        assert self.default in self.fields, f"{self.name}: default ordering {self.default} is not declared"
        assert self.id_column is not None, f"{self.name}: give the id column that breaks ties"
