"""Per-request DataLoaders. Every batch function applies the caller's scope in its SQL, and
opens its own short session (batches of different loaders run concurrently)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, any_, bindparam, false, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from strawberry.dataloader import DataLoader

from graphql_api.api.core.database import RequestDatabase
from graphql_api.api.core.pagination import (
    Connection,
    Deferred,
    Page,
    PageArgs,
    SortKey,
    decode_cursor,
    fetch_pages_by_parent,
    now_or_later,
    settled,
    when_loaded,
)
from graphql_api.api.core.relay import required
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, center_filter, environment_filter, user_filter
from graphql_api.db import reads
from graphql_api.db.models import (
    AuditLog,
    Center,
    Environment,
    InventoryItem,
    InventoryMovement,
    Role,
    User,
)

if TYPE_CHECKING:
    from graphql_api.api.core.context import Context

T = TypeVar("T")
# Loaders of an anonymous request see nothing: a home-less student's scope is empty.
ANONYMOUS = Principal(uuid.UUID(int=0), Role.STUDENT, None, None, language="es", token_version=0)


class ScopedById:
    """`model` rows by id within the caller's scope (`condition(principal)`), read without the
    ORM: one compiled statement per scope shape, `= ANY($ids)` so that every batch size shares
    one prepared statement."""

    def __init__(self, model: Any, condition: Callable[[Principal], ColumnElement[bool]]) -> None:
        self.row_class = reads.row_class(model)
        self._prepared = reads.Prepared(
            lambda principal: select(*reads.model_columns(model)).where(
                model.id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))), condition(principal)
            )
        )

    def loader(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, Any]:
        compiled = self._prepared.compiled(scope.shape(principal), principal)
        params = scope.parameters(principal)

        async def load(keys: list[uuid.UUID]) -> list[Any]:
            records = await db.fetch(compiled, {**params, "ids": keys})
            found = {row.id: row for row in reads.rows(records, compiled, self.row_class)}
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)


ENVIRONMENTS = ScopedById(Environment, lambda p: environment_filter(p, Environment.id))
CENTERS = ScopedById(Center, center_filter)
USERS = ScopedById(User, user_filter)
ITEMS = ScopedById(InventoryItem, lambda p: environment_filter(p, InventoryItem.environment_id))


def movement_scope(principal: Principal) -> ColumnElement[bool]:
    """Movements the caller may see: those recorded in an environment of their scope."""
    return environment_filter(principal, InventoryMovement.environment_id)


MOVEMENTS = ScopedById(InventoryMovement, movement_scope)


def by_id(db: RequestDatabase, query: Callable[[Sequence[uuid.UUID]], Select[Any]]) -> DataLoader[uuid.UUID, Any]:
    """ORM rows by id (for tables whose columns the raw path does not convert, e.g. JSON)."""

    async def load(keys: list[uuid.UUID]) -> list[Any]:
        async with db() as session:
            rows = (await session.scalars(query(keys))).all()
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class ChildPageKey:
    parent_id: uuid.UUID
    args: PageArgs


def child_pages(
    db: RequestDatabase,
    model: Any,
    parent_column: Any,
    conditions: Callable[[], list[Any]],
    sort: SortKey,
) -> DataLoader[ChildPageKey, Page[Any]]:
    """Pages of children per parent; keys with the same page arguments share one statement."""

    async def load(keys: list[ChildPageKey]) -> list[Page[Any]]:
        by_args: dict[PageArgs, list[uuid.UUID]] = {}
        for key in keys:
            by_args.setdefault(key.args, []).append(key.parent_id)
        results: dict[ChildPageKey, Page[Any]] = {}
        async with db() as session:
            for args, parents in by_args.items():
                pages = await fetch_pages_by_parent(
                    session,
                    model,
                    parent_column,
                    list(dict.fromkeys(parents)),
                    conditions(),
                    sort,
                    args,
                )
                for parent, page in pages.items():
                    results[ChildPageKey(parent, args)] = page
        return [results[key] for key in keys]

    return DataLoader(load_fn=load)


class CountsByParent:
    """How many `parent_column` children each parent has within the caller's scope
    (`condition(principal)`): compiled once per scope shape and read on the driver, like
    `ScopedById`; `= ANY($keys)` so that every batch size shares one prepared statement."""

    def __init__(self, parent_column: Any, condition: Callable[[Principal], ColumnElement[bool]]) -> None:
        self._prepared = reads.Prepared(
            lambda principal: (
                select(parent_column, func.count())
                .where(parent_column == any_(bindparam("keys", type_=ARRAY(UUID(as_uuid=True)))), condition(principal))
                .group_by(parent_column)
            )
        )

    def loader(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, int]:
        compiled = self._prepared.compiled(scope.shape(principal), principal)
        params = scope.parameters(principal)

        async def load(keys: list[uuid.UUID]) -> list[int]:
            records = await db.fetch(compiled, {**params, "keys": keys})
            counts: dict[uuid.UUID, int] = {parent: count for parent, count in records}  # noqa: C416
            return [counts.get(key, 0) for key in keys]

        return DataLoader(load_fn=load)


MOVEMENT_COUNTS = CountsByParent(InventoryMovement.item_id, movement_scope)


MOVEMENTS_NEWEST_FIRST = SortKey(
    "movements_newest",
    ((InventoryMovement.created_at, True), (InventoryMovement.id, True)),
)


class Loaders:
    """All loaders of one request, created lazily (most requests use few of them).

    A loader captures the caller's scope when it is created, which happens in a resolver,
    after the field's permission check has authenticated the caller.
    """

    def __init__(self, context: Context) -> None:
        self._context = context
        self._db = context.db
        self._cache: dict[str, DataLoader[Any, Any]] = {}
        self._built: dict[tuple[str, uuid.UUID], Any] = {}
        self._known: dict[str, dict[Any, Any]] = {}

    def release(self) -> None:
        """End of the request: drop every loader, its cached futures and the built objects.

        The loaders and the context refer to each other (and futures to their loaders), so
        without this a request's whole object graph is cyclic garbage: only a full collection
        frees it, and under load those took 40-70 ms each (~55 000 objects) every ~0.6 s.
        Released here, it is freed by reference counting as soon as the response is out.
        """
        for loader in self._cache.values():
            loader.cache_map.clear()
        self._cache.clear()
        self._built.clear()
        self._known.clear()

    async def prefetch(self, name: str, keys: list[Any]) -> None:
        """Load `keys` with the `name` loader's batch function in one call and keep the values
        at hand for `known` (a page's movement counts): one statement, and no future per key
        as priming the loader would make."""
        loader: DataLoader[Any, Any] = getattr(self, name)
        values = await loader.load_fn(keys)
        self._known.setdefault(name, {}).update(zip(keys, values, strict=True))

    def known(self, name: str, key: Any) -> Any | None:
        """The value `prefetch` got for `key` with the `name` loader, or None."""
        known = self._known.get(name)
        return None if known is None else known.get(key)

    def activate(self) -> None:
        """Make these the loaders of `related` fields for the rest of this request's task
        (and the tasks it starts). Called by the view when it builds the context."""
        _CURRENT.set(self)

    def built(self, name: str, key: uuid.UUID, build: Callable[[Any], T], row: Any) -> T:
        """`build(row)`, once per request and object (a page's items share their environment)."""
        found = self._built.get((name, key))
        if found is None:
            found = self._built[(name, key)] = build(row)
        return cast(T, found)

    @property
    def _principal(self) -> Principal:
        return self._context.principal or ANONYMOUS

    def prime_many(self, name: str, rows: Any) -> None:
        """Seed a by-id loader with rows already loaded by a wider query (no extra SQL)."""
        loader = getattr(self, name)
        for row in rows:
            loader.prime(row.id, row)

    def _get(self, name: str, factory: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        loader = self._cache.get(name)
        if loader is None:
            loader = self._cache[name] = factory()
        return loader

    # The by-id loaders give `reads` rows (or ORM objects primed by a wider query): both carry
    # the model's columns and properties, which is all the GraphQL types read.

    @property
    def environment_by_id(self) -> DataLoader[uuid.UUID, Environment | None]:
        return self._get("environment_by_id", lambda: ENVIRONMENTS.loader(self._db, self._principal))

    @property
    def center_by_id(self) -> DataLoader[uuid.UUID, Center | None]:
        return self._get("center_by_id", lambda: CENTERS.loader(self._db, self._principal))

    @property
    def user_by_id(self) -> DataLoader[uuid.UUID, User | None]:
        return self._get("user_by_id", lambda: USERS.loader(self._db, self._principal))

    @property
    def item_by_id(self) -> DataLoader[uuid.UUID, InventoryItem | None]:
        return self._get("item_by_id", lambda: ITEMS.loader(self._db, self._principal))

    @property
    def movement_by_id(self) -> DataLoader[uuid.UUID, InventoryMovement | None]:
        return self._get("movement_by_id", lambda: MOVEMENTS.loader(self._db, self._principal))

    @property
    def audit_log_by_id(self) -> DataLoader[uuid.UUID, AuditLog | None]:
        allowed = true() if self._principal.role is Role.ADMIN_GENERAL else false()
        return self._get(
            "audit_log_by_id",
            lambda: by_id(self._db, lambda keys: select(AuditLog).where(AuditLog.id.in_(keys), allowed)),
        )

    def _movement_scope(self) -> list[Any]:
        return [movement_scope(self._principal)]

    @property
    def movement_pages_by_item(self) -> DataLoader[ChildPageKey, Page[InventoryMovement]]:
        return self._get(
            "movement_pages_by_item",
            lambda: child_pages(
                self._db, InventoryMovement, InventoryMovement.item_id, self._movement_scope, MOVEMENTS_NEWEST_FIRST
            ),
        )

    @property
    def movement_count_by_item(self) -> DataLoader[uuid.UUID, int]:
        return self._get("movement_count_by_item", lambda: MOVEMENT_COUNTS.loader(self._db, self._principal))


_CURRENT: ContextVar[Loaders] = ContextVar("graphql_api_loaders")


def related(name: str, key: uuid.UUID, build: Callable[[Any], T]) -> Any:
    """The value of a plain to-one field (`item.environment`): the object, built now, when its
    row is already loaded in this request (a page joined and primed it); otherwise a Deferred
    that loads it through the `name` loader if the client selects the field. Typed Any: the
    field is declared with the object's type, and graphql-core awaits the Deferred."""
    loaders = _CURRENT.get()
    loader: DataLoader[uuid.UUID, Any] = getattr(loaders, name)
    ready = loader.cache_map.get(key)
    if ready is not None and settled(ready) and ready.result() is not None:
        return loaders.built(name, key, build, ready.result())
    return Deferred(lambda: when_loaded(loader.load(key), lambda row: build(required(row))))


def child_connection(
    pages: DataLoader[ChildPageKey, Page[Any]],
    counts: DataLoader[uuid.UUID, int],
    parent_id: uuid.UUID,
    args: PageArgs,
    to_node: Callable[[Any], Any],
    max_size: int,
    known_total: int | None = None,
) -> Connection[Any]:
    """A nested connection (e.g. `item.movements`) served by batched loaders; `known_total` is
    the count when the parent page prefetched it."""
    args = args.checked(max_size)
    if args.cursor is not None:
        decode_cursor(MOVEMENTS_NEWEST_FIRST, args.cursor)

    key = ChildPageKey(parent_id, args)
    # Loader futures, not coroutines: one per item of the parent list, and no task each.
    total = (
        known_total
        if known_total is not None
        else now_or_later(counts.cache_map.get(parent_id), lambda: counts.load(parent_id))
    )
    return Connection(_page=lambda: pages.load(key), _to_node=to_node, total_count=total)
