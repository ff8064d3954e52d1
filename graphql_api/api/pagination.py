"""Cursor connections with keyset pagination (Relay connection spec).

Cursors encode the sort key of the row (plus its id as tie-breaker), so pages stay correct
while rows are inserted, and `after` costs an index seek, not an OFFSET. Edges, pageInfo and
totalCount are resolved lazily: a client asking only for `totalCount` runs only the count.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from graphql import GraphQLError
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


def _bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def checked(self) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise _bad_request("Pass either `first` or `last`, not both.")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise _bad_request(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.")
        if self.last is not None and self.after is not None:
            raise _bad_request("`after` goes with `first`; use `before` with `last`.")
        if self.first is not None and self.before is not None:
            raise _bad_request("`before` goes with `last`; use `after` with `first`.")
        return self

    @property
    def backward(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def limit(self) -> int:
        value = self.last if self.backward else self.first
        return DEFAULT_PAGE_SIZE if value is None else value

    @property
    def cursor(self) -> str | None:
        return self.before if self.backward else self.after


@dataclass(frozen=True, slots=True)
class SortKey:
    """An ordering: named columns with their direction; the last one must be unique (id)."""

    name: str
    columns: tuple[tuple[InstrumentedAttribute[Any], bool], ...]  # (column, descending)

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, column.key) for column, _ in self.columns]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if hasattr(value, "value") and hasattr(value, "name"):  # enums
        return value.value
    return value


def _from_json(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "u" in value:
            return uuid.UUID(value["u"])
        raise ValueError("bad cursor value")
    enum_class = getattr(column.type, "enum_class", None)
    if enum_class is not None:
        return enum_class(value)
    return value


def encode_cursor(sort: SortKey, row: Any) -> str:
    payload = orjson.dumps([sort.name, [_to_json(v) for v in sort.values(row)]])
    return base64.urlsafe_b64encode(payload).decode("ascii")


def decode_cursor(sort: SortKey, cursor: str) -> list[Any]:
    try:
        name, values = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if name != sort.name or len(values) != len(sort.columns):
            raise ValueError("cursor of another ordering")
        return [_from_json(v, column) for v, (column, _) in zip(values, sort.columns, strict=True)]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError, UnicodeError):
        raise _bad_request("Invalid cursor; it belongs to another list or ordering.") from None


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


@dataclass(slots=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def build_page(rows: list[RowT], sort: SortKey, args: PageArgs) -> Page[RowT]:
    limit = args.limit
    has_more = len(rows) > limit
    rows = rows[:limit]
    if args.backward:
        rows.reverse()
    cursors = [encode_cursor(sort, row) for row in rows]
    if args.backward:
        return Page(rows, cursors, has_next_page=args.before is not None, has_previous_page=has_more)
    return Page(rows, cursors, has_next_page=has_more, has_previous_page=args.after is not None)


def page_statement(stmt: Select[Any], sort: SortKey, args: PageArgs) -> Select[Any]:
    if args.cursor is not None:
        stmt = stmt.where(keyset_condition(sort, decode_cursor(sort, args.cursor), args.backward))
    return stmt.order_by(*order_by(sort, args.backward)).limit(args.limit + 1)


def count_statement(stmt: Select[Any]) -> Select[int]:
    return select(func.count()).select_from(stmt.order_by(None).subquery())


async def fetch_page(session: AsyncSession, stmt: Select[Any], sort: SortKey, args: PageArgs) -> Page[Any]:
    if args.limit == 0:
        return Page([], [], False, False)
    rows = list((await session.scalars(page_statement(stmt, sort, args))).all())
    return build_page(rows, sort, args)


async def fetch_pages_by_parent(
    session: AsyncSession,
    model: Any,
    parent_column: InstrumentedAttribute[Any],
    parent_ids: Sequence[uuid.UUID],
    conditions: Sequence[ColumnElement[bool]],
    sort: SortKey,
    args: PageArgs,
) -> dict[uuid.UUID, Page[Any]]:
    """One page of children for each parent, in one statement (window function)."""
    if args.limit == 0 or not parent_ids:
        return {parent: Page([], [], False, False) for parent in parent_ids}
    stmt = select(
        model,
        func.row_number().over(partition_by=parent_column, order_by=order_by(sort, args.backward)).label("position"),
    ).where(parent_column.in_(parent_ids), *conditions)
    if args.cursor is not None:
        stmt = stmt.where(keyset_condition(sort, decode_cursor(sort, args.cursor), args.backward))
    subquery = stmt.subquery()
    row_alias = aliased(model, subquery)
    ranked = (
        select(row_alias)
        .where(subquery.c.position <= args.limit + 1)
        .order_by(subquery.c[parent_column.key], subquery.c.position)
    )
    grouped: dict[uuid.UUID, list[Any]] = {parent: [] for parent in parent_ids}
    for row in (await session.scalars(ranked)).all():
        grouped[getattr(row, parent_column.key)].append(row)
    return {parent: build_page(rows, sort, args) for parent, rows in grouped.items()}


class Lazy(Generic[RowT]):
    """An awaitable computed at most once, on first await (shared by sibling fields)."""

    def __init__(self, factory: Callable[[], Awaitable[RowT]]) -> None:
        self._factory = factory
        self._task: asyncio.Future[RowT] | None = None

    def __await__(self) -> Any:
        if self._task is None:
            self._task = asyncio.ensure_future(self._factory())
        return self._task.__await__()


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after`/`before` to page from here.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with cursors and the total count (Relay).")
class Connection(Generic[NodeT]):
    _page: strawberry.Private[Lazy[Page[Any]]]
    _count: strawberry.Private[Lazy[int]]
    _to_node: strawberry.Private[Callable[[Any], Any]]

    @strawberry.field(description="The items of this page.")
    async def edges(self) -> list[Edge[NodeT]]:
        page = await self._page
        to_node = self._to_node
        return [Edge(cursor=c, node=to_node(r)) for r, c in zip(page.rows, page.cursors, strict=True)]

    @strawberry.field(description="Pagination state of this page.")
    async def page_info(self) -> PageInfo:
        page = await self._page
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )

    @strawberry.field(description="Number of items in the whole list (all pages), after filters.")
    async def total_count(self) -> int:
        count: int = await self._count
        return count


SessionFactory = Callable[[], Any]


def connection(
    db: SessionFactory, stmt: Select[Any], sort: SortKey, args: PageArgs, to_node: Callable[[Any], Any]
) -> Connection[Any]:
    """A root-level connection over `stmt` (already scoped and filtered)."""
    args = args.checked()
    if args.cursor is not None:
        decode_cursor(sort, args.cursor)  # reject a bad cursor before any work

    async def load_page() -> Page[Any]:
        async with db() as session:
            return await fetch_page(session, stmt, sort, args)

    async def load_count() -> int:
        async with db() as session:
            return int(await session.scalar(count_statement(stmt)) or 0)

    return Connection(_page=Lazy(load_page), _count=Lazy(load_count), _to_node=to_node)
