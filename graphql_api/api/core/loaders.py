"""Per-request DataLoaders, declared by their domains as typed keys.

A domain declares what it loads once, at module level (`ITEM_BY_ID = ById(InventoryItem,
items.visible_items)`); a resolver asks the request for its loader of that kind,
`info.context.loaders[ITEM_BY_ID].load(pk)`, typed by the key. Every batch applies the
caller's scope in its SQL (the domain's visibility rule, from its service), so an object out
of scope is simply missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, any_, bindparam, func
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
    ordering_key,
    settled,
    when_loaded,
)
from graphql_api.api.core.relay import required
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, ScopedStatement
from graphql_api.db import reads
from graphql_api.db.models import Role
from graphql_api.services.filtering import Ordering

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M")
T = TypeVar("T")
# Loaders of an anonymous request see nothing: a home-less student's scope is empty.
ANONYMOUS = Principal(uuid.UUID(int=0), Role.STUDENT, None, None, language="es", token_version=0)
Visible = Callable[[Principal], Select[Any]]
_IDS = ARRAY(UUID(as_uuid=True))


class LoaderKey(Generic[K, V]):
    """A kind of loader. `loaders[key]` is the request's DataLoader of this kind, made on
    first use with the request's connection and caller."""

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[K, V]:
        raise NotImplementedError


class ById(LoaderKey[uuid.UUID, M | None], Generic[M]):
    """`model` rows by id among those `visible(principal)` selects, read without the ORM: one
    statement per scope shape (`ScopedStatement`), `= ANY($ids)` so that every batch size
    shares one prepared statement. The rows (`reads.row_class`) carry the model's columns
    and properties, all that the GraphQL types read."""

    def __init__(self, model: type[M], visible: Visible, *, includes_caller: bool = False) -> None:
        self.model = model
        self.visible = visible
        # The caller's own row is always visible to them: the request's loader starts with it
        # (`me`, `createdBy`-style fields need no statement for it).
        self.includes_caller = includes_caller
        self.row_class = reads.row_class(model)
        id_column: Any = model.id  # type: ignore[attr-defined]
        self._statement = ScopedStatement(
            lambda principal, _: (
                visible(_required(principal))
                .with_only_columns(*reads.model_columns(model))
                .where(id_column == any_(bindparam("ids", type_=_IDS)))
            )
        )

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, M | None]:
        compiled = self._statement.compiled(principal)
        params = scope.parameters(principal)
        row_class = self.row_class

        async def load(keys: list[uuid.UUID]) -> list[M | None]:
            records = await db.fetch(compiled, {**params, "ids": keys})
            found = {row.id: row for row in reads.rows(records, compiled, row_class)}
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)


def _required(principal: Principal | None) -> Principal:
    assert principal is not None, "scoped loaders always have a caller"
    return principal


class CountsByParent(LoaderKey[uuid.UUID, int]):
    """How many children each parent has among those `visible(principal)` selects."""

    def __init__(self, parent_column: Any, visible: Visible) -> None:
        self._statement = ScopedStatement(
            lambda principal, _: (
                visible(_required(principal))
                .with_only_columns(parent_column, func.count())
                .where(parent_column == any_(bindparam("keys", type_=_IDS)))
                .group_by(parent_column)
            )
        )

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, int]:
        compiled = self._statement.compiled(principal)
        params = scope.parameters(principal)

        async def load(keys: list[uuid.UUID]) -> list[int]:
            records = await db.fetch(compiled, {**params, "keys": keys})
            counts: dict[uuid.UUID, int] = {parent: count for parent, count in records}  # noqa: C416
            return [counts.get(key, 0) for key in keys]

        return DataLoader(load_fn=load)


class FiguresByParent(LoaderKey[uuid.UUID, Mapping[str, Any]]):
    """Named figures (sums, counts) over each parent's children among those
    `visible(principal)` selects, in one grouped statement per batch: a check's totals from
    its own records. A parent without children gets no figures (an empty mapping)."""

    def __init__(self, parent_column: Any, visible: Visible, figures: Mapping[str, Any]) -> None:
        names = list(figures)
        self._names = names
        self._statement = ScopedStatement(
            lambda principal, _: (
                visible(_required(principal))
                .with_only_columns(parent_column, *(figures[name].label(name) for name in names))
                .where(parent_column == any_(bindparam("keys", type_=_IDS)))
                .group_by(parent_column)
            )
        )

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, Mapping[str, Any]]:
        compiled = self._statement.compiled(principal)
        params = scope.parameters(principal)
        names = self._names

        async def load(keys: list[uuid.UUID]) -> list[Mapping[str, Any]]:
            records = await db.fetch(compiled, {**params, "keys": keys})
            found = {record[0]: dict(zip(names, tuple(record)[1:], strict=True)) for record in records}
            return [found.get(key, {}) for key in keys]

        return DataLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class ChildPageKey:
    parent_id: uuid.UUID
    args: PageArgs


class ChildPages(LoaderKey[ChildPageKey, Page[Any]]):
    """Pages of children per parent; keys with the same page arguments share one statement
    (a LATERAL join: each parent's page is an index range, whatever the parent's history)."""

    def __init__(self, model: Any, parent_column: Any, visible: Visible, sort: SortKey) -> None:
        self.model, self.parent_column, self.visible, self.sort = model, parent_column, visible, sort
        self.row_class = reads.row_class(model)

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[ChildPageKey, Page[Any]]:
        async def load(keys: list[ChildPageKey]) -> list[Page[Any]]:
            by_args: dict[PageArgs, list[uuid.UUID]] = {}
            for key in keys:
                by_args.setdefault(key.args, []).append(key.parent_id)
            results: dict[ChildPageKey, Page[Any]] = {}
            async with db() as session:
                for args, parents in by_args.items():
                    pages = await fetch_pages_by_parent(
                        session, self.visible(principal), self.model, self.parent_column,
                        list(dict.fromkeys(parents)), self.sort, args, self.row_class,
                    )  # fmt: skip
                    for parent, page in pages.items():
                        results[ChildPageKey(parent, args)] = page
            return [results[key] for key in keys]

        return DataLoader(load_fn=load)


class Children(Generic[M]):
    """A parent's children as a connection (`item.movements`), in the children's own order.

    The total comes from `count(parent_row)` when the parent keeps it (no statement), else
    from one batched count per request."""

    def __init__(
        self,
        model: type[M],
        parent_column: Any,
        visible: Visible,
        ordering: Ordering,
        count: Callable[[Any], int] | None = None,
    ) -> None:
        self.sort = sort = ordering_key(ordering)
        self.pages = ChildPages(model, parent_column, visible, sort)
        self.counts = CountsByParent(parent_column, visible)
        self._count = count

    def connection(
        self, loaders: Loaders, parent: Any, args: PageArgs, to_node: Callable[[Any], Any], max_size: int
    ) -> Connection[Any]:
        args = args.checked(max_size)
        if args.cursor is not None:
            decode_cursor(self.sort, args.cursor)  # reject a bad cursor before any work
        pages = loaders[self.pages]
        key = ChildPageKey(parent.id, args)
        if self._count is not None:
            total: Any = self._count(parent)
        else:
            counts = loaders[self.counts]
            # Loader futures, not coroutines: one per parent of the list, and no task each.
            total = now_or_later(counts.cache_map.get(parent.id), lambda: counts.load(parent.id))
        return Connection(_page=lambda: pages.load(key), _to_node=to_node, total_count=total)


class Loaders:
    """All loaders of one request, made on first use (most requests use few of them).

    A loader captures the caller's scope when it is made, which happens in a resolver, after
    the field's permission check has authenticated the caller.
    """

    def __init__(self, db: RequestDatabase, caller: Callable[[], tuple[Principal | None, Any]]) -> None:
        self._db = db
        self._caller = caller
        self._cache: dict[LoaderKey[Any, Any], DataLoader[Any, Any]] = {}
        self._built: dict[tuple[LoaderKey[Any, Any], uuid.UUID], Any] = {}

    def __getitem__(self, key: LoaderKey[K, V]) -> DataLoader[K, V]:
        loader = self._cache.get(key)
        if loader is None:
            principal, row = self._caller()
            loader = self._cache[key] = key.make(self._db, principal or ANONYMOUS)
            if row is not None and isinstance(key, ById) and key.includes_caller:
                loader.prime(row.id, row)
        return cast(DataLoader[K, V], loader)

    def clear(self) -> None:
        """Forget every loaded value (a mutation's transaction starts or rolls back: what was
        loaded before or inside it may no longer be true)."""
        for loader in self._cache.values():
            loader.cache_map.clear()
        self._cache.clear()
        self._built.clear()

    def release(self) -> None:
        """End of the request: drop every loader, its cached futures and the built objects.

        The loaders and the context refer to each other (and futures to their loaders), so
        without this a request's whole object graph is cyclic garbage: only a full collection
        frees it. Released here, it is freed by reference counting as soon as the response is
        out.
        """
        self.clear()
        self._caller = _nobody

    def prime_many(self, key: ById[Any], rows: Any) -> None:
        """Seed a by-id loader with rows already loaded by a wider query (no extra SQL)."""
        loader = self[key]
        for row in rows:
            loader.prime(row.id, row)

    def activate(self) -> None:
        """Make these the loaders of `related` fields for the rest of this request's task
        (and the tasks it starts). Called by the view when it builds the context."""
        _CURRENT.set(self)

    def built(self, key: LoaderKey[Any, Any], pk: uuid.UUID, build: Callable[[Any], T], row: Any) -> T:
        """`build(row)`, once per request and object (a page's items share their environment)."""
        found = self._built.get((key, pk))
        if found is None:
            found = self._built[(key, pk)] = build(row)
        return cast(T, found)


def _nobody() -> tuple[Principal | None, Any]:
    return None, None


_CURRENT: ContextVar[Loaders] = ContextVar("graphql_api_loaders")


def related(key: ById[Any], pk: uuid.UUID | None, build: Callable[[Any], T]) -> Any:
    """The value of a plain to-one field (`item.environment`): None without a key; the object,
    built now, when its row is already loaded in this request (a page joined and primed it);
    otherwise a Deferred that loads it through the loader if the client selects the field.
    Typed Any: the field is declared with the object's type, and graphql-core awaits the
    Deferred."""
    if pk is None:
        return None
    loaders = _CURRENT.get()
    loader = loaders[key]
    ready = loader.cache_map.get(pk)
    if ready is not None and settled(ready) and ready.result() is not None:
        return loaders.built(key, pk, build, ready.result())
    return Deferred(lambda: when_loaded(loader.load(pk), lambda row: build(required(row))))


def optional_related(key: ById[Any], pk: uuid.UUID | None, build: Callable[[Any], T]) -> Any:
    """Like `related` for a reference the caller may not be allowed to see (a movement's
    actor): null when the loader finds nothing."""
    if pk is None:
        return None
    loader = _CURRENT.get()[key]
    return Deferred(lambda: when_loaded(loader.load(pk), lambda row: build(row) if row is not None else None))


__all__ = [
    "ById",
    "ChildPageKey",
    "ChildPages",
    "Children",
    "CountsByParent",
    "LoaderKey",
    "Loaders",
    "optional_related",
    "related",
]
