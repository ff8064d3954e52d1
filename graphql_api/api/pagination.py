"""Cursor connections with keyset pagination (Relay connection spec).

Cursors encode the sort key of the row (plus its id as tie-breaker), so pages stay correct
while rows are inserted, and `after` costs an index seek, not an OFFSET. Edges, pageInfo and
totalCount are resolved lazily: a client asking only for `totalCount` runs only the count.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, cast

import orjson
import strawberry
from graphql import GraphQLError
from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from strawberry.types.unset import UNSET

if TYPE_CHECKING:
    from graphql_api.api.context import Context

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Pages of at least PACED_FROM rows hand their edges out one by one and give the event loop a
# turn after every PACE_SECONDS of work on them (`Paced`).
PACED_FROM = 200
PACE_SECONDS = 0.005
# How many requests with a big page a process works on at once. A request takes a slot with
# its first big page, before the page is read, and keeps it until its response is out. Working
# on every big page in flight at once (16 in the benchmark) held all their rows and results in
# memory together: more memory, and full garbage collections (whose cost grows with the live
# objects) of 40-65 ms. The CPU is the limit either way; the others wait their turn holding
# nothing, and small requests still run between the slices of the big ones.
BIG_PAGES_AT_ONCE = 2
_big_pages: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _big_page_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _big_pages.get(loop)
    if slots is None:
        slots = _big_pages[loop] = asyncio.Semaphore(BIG_PAGES_AT_ONCE)
    return slots


class BigPageSlot:
    """A request's claim on one of BIG_PAGES_AT_ONCE slots: taken by its first big page (root
    page read, or a paced list), kept until `release` (the view calls it when the request ends).
    Its other big pages, nested ones included, use the same slot. Once released it takes no
    slot again (a straggling task of a finished request must not hold one forever)."""

    __slots__ = ("_held", "_lock", "_released")

    def __init__(self) -> None:
        self._held: asyncio.Semaphore | None = None
        self._lock: asyncio.Lock | None = None
        self._released = False

    async def take(self) -> None:
        if self._held is not None or self._released:
            return
        if self._lock is None:  # two big pages of one request must not take two slots
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._held is None and not self._released:
                slots = _big_page_slots()
                await slots.acquire()
                self._held = slots
                if self.ended():  # the request ended while this task waited
                    self.release()

    def ended(self) -> bool:
        return self._released

    def release(self) -> None:
        self._released = True
        if self._held is not None:
            self._held.release()
            self._held = None

    def activate(self) -> None:
        """The slot of big pages for the rest of this request's task (and the tasks it starts)."""
        _SLOT.set(self)


_SLOT: ContextVar[BigPageSlot | None] = ContextVar("graphql_api_big_page_slot", default=None)


async def claim_big_page_slot() -> None:
    """Before reading a big page: the request's slot (kept until the request ends). Outside a
    request nothing: its paced list takes a slot of its own."""
    request_slot = _SLOT.get()
    if request_slot is not None:
        await request_slot.take()


@contextlib.asynccontextmanager
async def big_page_slot() -> AsyncIterator[None]:
    """Work on a big page (a paced list): in the request's slot, or outside a request (a job, a
    test) in a slot of its own until the list is done or abandoned."""
    slot = _SLOT.get()
    own = slot is None
    if slot is None:
        slot = BigPageSlot()
    try:
        await slot.take()
        yield
    finally:
        if own:
            slot.release()


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

    def __post_init__(self) -> None:
        # Omitted arguments arrive as UNSET (see api.arguments): the same as null here.
        for name in ("first", "after", "last", "before"):
            if getattr(self, name) is UNSET:
                object.__setattr__(self, name, None)

    def checked(self, max_size: int = MAX_PAGE_SIZE) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise _bad_request("Pass either `first` or `last`, not both.")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= max_size:
                raise _bad_request(f"`{name}` must be between 0 and {max_size}.")
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


async def paced(source: Iterable[Any], make: Callable[[Any], A], *, check_every: int = 64) -> AsyncIterator[A]:
    """`make(x)` for each `x` of `source`, giving the event loop a turn after every
    PACE_SECONDS of work, counting the consumer's work between items too (a 1 000-row page is
    ~20 ms of conversion). The clock is read every `check_every` items; small pages get no turn."""
    turn = time.perf_counter() + PACE_SECONDS
    for count, item in enumerate(source, 1):
        yield make(item)
        if count % check_every == 0 and time.perf_counter() >= turn:
            await asyncio.sleep(0)
            turn = time.perf_counter() + PACE_SECONDS


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
        return {parent: empty_page() for parent in parent_ids}
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


A = TypeVar("A")
B = TypeVar("B")
MaybeAwaitable: TypeAlias = A | Awaitable[A]


def then(value: MaybeAwaitable[A], fn: Callable[[A], B]) -> MaybeAwaitable[B]:
    """`fn(value)` now if `value` is ready, else an awaitable of it.

    Resolvers return this instead of being `async def`: graphql-core awaits what needs
    awaiting, and values already at hand (primed loaders, a loaded page) cost no task.
    """
    if isinstance(value, asyncio.Future):
        if value.done():
            return fn(cast(A, value.result()))
        return _after(value, fn)
    if inspect.isawaitable(value):
        return _after(cast(Awaitable[A], value), fn)
    return fn(value)


def when_loaded(value: Awaitable[A], fn: Callable[[A], B]) -> MaybeAwaitable[B]:
    """`then` for a DataLoader future (typed for it)."""
    return then(value, fn)


async def _after(value: Awaitable[A], fn: Callable[[A], B]) -> B:
    return fn(await value)


class Deferred(Generic[A]):
    """A field value computed only if the client selects the field.

    graphql-core awaits whatever awaitable it finds in a plain (resolver-less) field. Fields
    whose value is usually at hand (a page primed it) are therefore plain fields holding the
    value, or a Deferred when it is not: no resolver call per object (strawberry builds an
    `Info`, converts arguments and runs the extension chain for every resolver call), and no
    statement unless the field is selected.
    """

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], MaybeAwaitable[A]]) -> None:
        self._make = make

    def __await__(self) -> Generator[Any, None, A]:
        value = self._make()
        if inspect.isawaitable(value):
            return (yield from cast(Awaitable[A], value).__await__())
        return value


def now_or_later(ready: Awaitable[A] | None, make: Callable[[], MaybeAwaitable[A]]) -> Any:
    """The value of a plain field: `ready`'s result if it is a completed future (a primed
    loader), else a `Deferred` of `make`. Typed Any: the field is declared with the value's
    type, and graphql-core awaits the Deferred."""
    if isinstance(ready, asyncio.Future) and settled(ready):
        return ready.result()
    return Deferred(make)


def settled(future: asyncio.Future[Any]) -> bool:
    """Done with a result (not cancelled, no exception)."""
    return future.done() and not future.cancelled() and future.exception() is None


class Lazy(Generic[RowT]):
    """A value computed at most once, on first use (shared by sibling fields)."""

    def __init__(self, factory: Callable[[], Awaitable[RowT]]) -> None:
        self._factory = factory
        self._task: asyncio.Future[RowT] | None = None

    def get(self) -> MaybeAwaitable[RowT]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._factory())
        return self._task


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


class Paced(Generic[A]):
    """The edges of a big page as an async iterable, which graphql-core completes like a list.

    graphql-core completes a list in one go: for 1 000 items that held the event loop ~100 ms,
    and every other request waited. Here each edge is made when graphql-core asks for the next
    one, and once PACE_SECONDS of work (making edges and completing their fields) has passed,
    the loop gets a turn. Each iteration starts afresh, so a list selected twice (aliases) is
    complete both times.
    """

    def __init__(self, rows: Sequence[Any], make: Callable[[Any], A]) -> None:
        self._rows = rows
        self._make = make

    def __aiter__(self) -> AsyncIterator[A]:
        return self._items()

    async def _items(self) -> AsyncIterator[A]:
        async with big_page_slot():
            # Completing one edge's fields is the costly part: the time is checked after each.
            async for edge in paced(self._rows, self._make, check_every=1):
                yield edge


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
