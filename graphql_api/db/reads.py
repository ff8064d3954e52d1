"""Hot read paths: SQL compiled once, run on the driver's connection, rows without the ORM.

Every request authenticates and most read objects by id; through the ORM each such statement
cost about as much as the rest of the request (statement cache key, execution context,
greenlet switches, identity map). Here a statement is written once with SQLAlchemy Core (so
it uses the same models and scope conditions as everything else), compiled once for asyncpg,
and then executed with asyncpg's own prepared-statement cache.

Parameters are *named* bind parameters (`bindparam("ids")`); the values are passed at each
execution. A statement whose text depends on the caller (scope conditions differ by role) is
compiled once per shape: see `graphql_api.auth.scope.ScopedStatement`.

Rows come back as `ModelRow`s: slotted objects with the model's column attributes (enums
converted, like the ORM does) and its plain Python properties (`quantity_available`), so the
GraphQL types build from them exactly as from ORM objects. They are read-only snapshots:
writes always go through the ORM session in the services.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Select, inspect
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.sql.elements import ColumnElement

from graphql_api.db.engine import statement_counter

DIALECT = PGDialect_asyncpg(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


def _converter(column: Any) -> Callable[[Any], Any] | None:
    """How a value of `column` read by asyncpg becomes what the ORM would give."""
    # Our enums store their value (== name), so the class itself converts: ItemStatus("ACTIVE").
    converter: Callable[[Any], Any] | None = getattr(column.type, "enum_class", None)
    return converter


_ROW_CLASSES: dict[type, type] = {}


def row_class(model: type) -> type:
    """A slotted class with `model`'s mapped columns and its plain properties."""
    cls = _ROW_CLASSES.get(model)
    if cls is None:
        keys = _column_keys(model)
        properties = {
            name: value
            for klass in reversed(model.__mro__)
            for name, value in vars(klass).items()
            if isinstance(value, property)
        }
        cls = dataclasses.make_dataclass(
            f"{model.__name__}Row", keys, slots=True, frozen=False, eq=False, namespace=properties
        )
        _ROW_CLASSES[model] = cls
    return cls


def _column_attributes(model: type) -> list[ColumnProperty[Any]]:
    """The mapped columns that reads may select: all but those marked `info={"secret": True}`
    (a password hash is never needed by a read, so it is never read)."""
    attributes: list[ColumnProperty[Any]] = list(inspect(model).column_attrs)
    return [attr for attr in attributes if not attr.columns[0].info.get("secret")]


def _column_keys(model: type) -> list[str]:
    return [attr.key for attr in _column_attributes(model)]


def model_columns(model: type, prefix: str = "") -> list[ColumnElement[Any]]:
    """The model's columns labelled with their attribute names (after `prefix`, for joins), in
    `row_class` order: `row_class(model)(*values)` builds the row."""
    return [attr.columns[0].label(prefix + attr.key) for attr in _column_attributes(model)]


@dataclasses.dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameter of each $n
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, converter)
    # Values written into the statement (`status == ItemStatus.ACTIVE`), which SQLAlchemy sends
    # as anonymous parameters. Every named parameter is given at each execution, even one
    # built with a value (the scope's template ids).
    literals: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def compile_statement(stmt: Select[Any]) -> Compiled:
    compiled = stmt.compile(dialect=DIALECT)
    names = tuple(compiled.positiontup or ())
    converters = tuple(
        (index, converter)
        for index, column in enumerate(stmt.selected_columns)
        if (converter := _converter(column)) is not None
    )
    literals = {
        name: bind.value
        for name, bind in ((name, compiled.binds[name]) for name in names)
        if bind.unique and not bind.required and bind.callable is None
    }
    return Compiled(compiled.string, names, converters, literals)


class Prepared:
    """A statement that does not depend on the caller, compiled once on first use. (Statements
    that do are `graphql_api.auth.scope.ScopedStatement`s.)"""

    def __init__(self, build: Callable[[], Select[Any]]) -> None:
        self._build = build
        self._compiled: Compiled | None = None

    def compiled(self) -> Compiled:
        if self._compiled is None:
            self._compiled = compile_statement(self._build())
        return self._compiled


class Reader(Protocol):
    """Where compiled reads run (the request's connection: `api.database.RequestDatabase`)."""

    async def fetch(self, compiled: Compiled, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]: ...


def arguments(compiled: Compiled, params: Mapping[str, Any]) -> list[Any]:
    """The positional arguments ($1, $2, …) of `compiled` from named `params`."""
    values = []
    literals = compiled.literals
    for name in compiled.names:
        value = literals[name] if name in literals else params[name]
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, list | tuple) and value and isinstance(value[0], enum.Enum):
            value = [item.value for item in value]
        values.append(value)
    return values


def _count(connection: asyncpg.Connection) -> None:
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1
        if len(counter) > 1 and not connection.is_in_transaction():
            counter[1] += 1  # autocommit: the statement is its own transaction


async def fetch(connection: asyncpg.Connection, compiled: Compiled, params: Mapping[str, Any]) -> list[asyncpg.Record]:
    _count(connection)
    records: list[asyncpg.Record] = await connection.fetch(compiled.sql, *arguments(compiled, params))
    return records


def rows(records: Sequence[Sequence[Any]], compiled: Compiled, cls: type) -> list[Any]:
    """Records of a statement selecting exactly `model_columns(model)`, as `row_class(model)`
    objects."""
    if not compiled.converters:
        return [cls(*record) for record in records]
    return [cls(*converted(record, compiled)) for record in records]


def converted(record: Sequence[Any], compiled: Compiled) -> list[Any]:
    """The record's values with enum columns converted to their Python enums."""
    values = list(record)
    for index, converter in compiled.converters:
        if values[index] is not None:
            values[index] = converter(values[index])
    return values
