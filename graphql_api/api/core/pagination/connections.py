"""Cursor connections with keyset pagination (Relay connection spec).

Cursors encode the sort key of the row (plus its id as tie-breaker), so pages stay correct
while rows are inserted, and `after` costs an index seek, not an OFFSET. Edges, pageInfo and
totalCount are resolved lazily: a client asking only for `totalCount` runs only the count.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import strawberry
from sqlalchemy import Row, Select

if TYPE_CHECKING:
    from graphql_api.api.core.context import Context

from graphql_api.api.core.pagination.arguments import PageArgs
from graphql_api.api.core.pagination.cursors import decode_cursor
from graphql_api.api.core.pagination.keyset import SortKey
from graphql_api.api.core.pagination.pacing import PACED_FROM, Paced
from graphql_api.api.core.pagination.pages import Page, count_statement, fetch_page
from graphql_api.api.core.pagination.slots import claim_big_page_slot
from graphql_api.api.core.pagination.values import Lazy, MaybeAwaitable, now_or_later, then

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[NodeT]):
    _row: strawberry.Private[Any]
    _page: strawberry.Private[Page[Any]]
    node: NodeT = strawberry.field(description="The item.")

    @strawberry.field(description="Pass as `after`/`before` to page from here.")
    def cursor(self) -> str:
        return self._page.cursor(self._row)


@strawberry.type(description="A page of a list, with cursors and the total count (Relay).")
class Connection(Generic[NodeT]):
    _page: strawberry.Private[Callable[[], MaybeAwaitable[Page[Any]]]]
    _to_node: strawberry.Private[Callable[[Any], Any]]
    # A plain field: the count, or a Deferred of it (see `Deferred`).
    total_count: int = strawberry.field(description="Number of items in the whole list (all pages), after filters.")

    @strawberry.field(description="The items of this page.")
    def edges(self) -> list[Edge[NodeT]]:
        to_node = self._to_node

        def build(page: Page[Any]) -> list[Edge[NodeT]]:
            if len(page.rows) >= PACED_FROM:
                return Paced(page.rows, lambda row: Edge(_row=row, _page=page, node=to_node(row)))  # type: ignore[return-value]
            return [Edge(_row=row, _page=page, node=to_node(row)) for row in page.rows]

        return then(self._page(), build)  # type: ignore[return-value]

    @strawberry.field(description="Pagination state of this page.")
    def page_info(self) -> PageInfo:
        def build(page: Page[Any]) -> PageInfo:
            rows = page.rows
            return PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursor(rows[0]) if rows else None,
                end_cursor=page.cursor(rows[-1]) if rows else None,
            )

        return then(self._page(), build)  # type: ignore[return-value]


def connection(
    context: Context,
    stmt: Select[Any],
    sort: SortKey,
    args: PageArgs,
    to_node: Callable[[Any], Any],
    *,
    on_rows: Callable[[list[Any]], Awaitable[object] | None] | None = None,
    read_row: Callable[[Row[Any]], Any] | None = None,
    count_stmt: Select[Any] | None = None,
) -> Connection[Any]:
    """A root-level connection over `stmt` (already scoped and filtered).

    `on_rows` sees the page's rows as soon as they are loaded, e.g. to prime loaders with
    objects the page statement fetched eagerly (it may return an awaitable: a batch to load
    before the page is used). `read_row` makes the page's objects from Core
    rows when `stmt` selects columns rather than an entity; `count_stmt` (default: `stmt`)
    counts the list, e.g. without the joins the page needs.
    """
    args = args.checked(context.settings.max_page_size)
    if args.cursor is not None:
        decode_cursor(sort, args.cursor)  # reject a bad cursor before any work
    db = context.db

    async def load_page() -> Page[Any]:
        if args.limit >= PACED_FROM:
            await claim_big_page_slot()
        async with db() as session:
            page = await fetch_page(session, stmt, sort, args, read_row)
        if on_rows is not None:
            primed = on_rows(page.rows)
            if primed is not None:
                await primed
        return page

    async def load_count() -> int:
        async with db() as session:
            return int(await session.scalar(count_statement(stmt if count_stmt is None else count_stmt)) or 0)

    return Connection(_page=Lazy(load_page).get, _to_node=to_node, total_count=now_or_later(None, Lazy(load_count).get))
