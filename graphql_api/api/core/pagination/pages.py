"""Pages of rows: one page of a statement, or one page of children for many parents."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.api.core.pagination.arguments import PageArgs
from graphql_api.api.core.pagination.cursors import decode_cursor, encode_cursor
from graphql_api.api.core.pagination.keyset import SortKey, keyset_condition, order_by
from graphql_api.api.core.pagination.pacing import paced
from graphql_api.db import reads

RowT = TypeVar("RowT")
A = TypeVar("A")


@dataclass(slots=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    sort: SortKey | None
    has_next_page: bool
    has_previous_page: bool

    def cursor(self, row: RowT) -> str:
        # Encoded on demand: most clients ask for a page's end cursor only.
        assert self.sort is not None
        return encode_cursor(self.sort, row)


def empty_page() -> Page[Any]:
    return Page([], None, False, False)


def build_page(rows: list[RowT], sort: SortKey, args: PageArgs) -> Page[RowT]:
    limit = args.limit
    has_more = len(rows) > limit
    rows = rows[:limit]
    if args.backward:
        rows.reverse()
    if args.backward:
        return Page(rows, sort, has_next_page=args.before is not None, has_previous_page=has_more)
    return Page(rows, sort, has_next_page=has_more, has_previous_page=args.after is not None)


def page_statement(stmt: Select[Any], sort: SortKey, args: PageArgs) -> Select[Any]:
    if args.cursor is not None:
        stmt = stmt.where(keyset_condition(sort, decode_cursor(sort, args.cursor), args.backward))
    return stmt.order_by(*order_by(sort, args.backward)).limit(args.limit + 1)


def count_statement(stmt: Select[Any]) -> Select[int]:
    return select(func.count()).select_from(stmt.order_by(None).subquery())


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    sort: SortKey,
    args: PageArgs,
    read_row: Callable[[Row[Any]], Any] | None = None,
) -> Page[Any]:
    """One page of `stmt`: ORM entities, or with `read_row`, what it makes of each Core row."""
    if args.limit == 0:
        return empty_page()
    statement = page_statement(stmt, sort, args)
    if read_row is None:
        rows = list((await session.scalars(statement)).all())
    else:
        rows = [row async for row in paced(await session.execute(statement), read_row)]
    return build_page(rows, sort, args)


async def fetch_pages_by_parent(
    session: AsyncSession,
    visible: Select[Any],
    model: Any,
    parent_column: InstrumentedAttribute[Any],
    parent_ids: Sequence[uuid.UUID],
    sort: SortKey,
    args: PageArgs,
    row_class: Callable[..., Any],
) -> dict[uuid.UUID, Page[Any]]:
    """One page of `visible`'s rows for each parent, in one statement: a LATERAL subquery per
    parent, so each page is an index range however many children a parent has."""
    if args.limit == 0 or not parent_ids:
        return {parent: empty_page() for parent in parent_ids}
    parents = (
        func.unnest(bindparam("parent_ids", list(parent_ids), type_=ARRAY(UUID(as_uuid=True))))
        .table_valued("parent_id", with_ordinality="position")
        .render_derived(name="parents")
    )
    inner = visible.with_only_columns(*reads.model_columns(model)).where(parent_column == parents.c.parent_id)
    if args.cursor is not None:
        inner = inner.where(keyset_condition(sort, decode_cursor(sort, args.cursor), args.backward))
    page = inner.order_by(*order_by(sort, args.backward)).limit(args.limit + 1).lateral("page")
    outer_order = [
        page.c[column.key].desc() if descending != args.backward else page.c[column.key].asc()
        for column, descending in sort.columns
    ]
    stmt = select(page).select_from(parents).join(page, true()).order_by(parents.c.position, *outer_order)
    grouped: dict[uuid.UUID, list[Any]] = {parent: [] for parent in parent_ids}
    key = parent_column.key
    for row in (await session.execute(stmt)).all():
        child = row_class(*row)
        grouped[getattr(child, key)].append(child)
    return {parent: build_page(rows, sort, args) for parent, rows in grouped.items()}
