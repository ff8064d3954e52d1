"""Per-request DataLoaders. Every batch function applies the caller's scope in its SQL, and
opens its own short session (batches of different loaders run concurrently)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from graphql_api.api.pagination import (
    Connection,
    Lazy,
    Page,
    PageArgs,
    SortKey,
    decode_cursor,
    fetch_pages_by_parent,
)
from graphql_api.auth.scope import Principal, center_filter, environment_filter, user_filter
from graphql_api.db.models import (
    AuditLog,
    Center,
    Environment,
    InventoryItem,
    InventoryMovement,
    Role,
    User,
)

T = TypeVar("T")
# Loaders of an anonymous request see nothing: a home-less student's scope is empty.
ANONYMOUS = Principal(uuid.UUID(int=0), Role.STUDENT, None, None, language="es", token_version=0)


def by_id(
    db: async_sessionmaker[AsyncSession], query: Callable[[Sequence[uuid.UUID]], Select[Any]]
) -> DataLoader[uuid.UUID, Any]:
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
    db: async_sessionmaker[AsyncSession],
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


def child_counts(
    db: async_sessionmaker[AsyncSession], parent_column: Any, conditions: Callable[[], list[Any]]
) -> DataLoader[uuid.UUID, int]:
    async def load(keys: list[uuid.UUID]) -> list[int]:
        async with db() as session:
            rows = await session.execute(
                select(parent_column, func.count())
                .where(parent_column.in_(keys), *conditions())
                .group_by(parent_column)
            )
            counts: dict[uuid.UUID, int] = {parent: count for parent, count in rows.all()}  # noqa: C416
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)


MOVEMENTS_NEWEST_FIRST = SortKey(
    "movements_newest",
    ((InventoryMovement.created_at, True), (InventoryMovement.id, True)),
)


class Loaders:
    """All loaders of one request, created lazily (most requests use few of them)."""

    def __init__(self, db: async_sessionmaker[AsyncSession], principal: Principal | None) -> None:
        self._db = db
        self._principal = principal or ANONYMOUS
        self._cache: dict[str, DataLoader[Any, Any]] = {}

    def _get(self, name: str, factory: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        loader = self._cache.get(name)
        if loader is None:
            loader = self._cache[name] = factory()
        return loader

    @property
    def environment_by_id(self) -> DataLoader[uuid.UUID, Environment | None]:
        p = self._principal
        return self._get(
            "environment_by_id",
            lambda: by_id(
                self._db,
                lambda keys: select(Environment).where(Environment.id.in_(keys), environment_filter(p, Environment.id)),
            ),
        )

    @property
    def center_by_id(self) -> DataLoader[uuid.UUID, Center | None]:
        p = self._principal
        return self._get(
            "center_by_id",
            lambda: by_id(self._db, lambda keys: select(Center).where(Center.id.in_(keys), center_filter(p))),
        )

    @property
    def user_by_id(self) -> DataLoader[uuid.UUID, User | None]:
        p = self._principal
        return self._get(
            "user_by_id", lambda: by_id(self._db, lambda keys: select(User).where(User.id.in_(keys), user_filter(p)))
        )

    @property
    def item_by_id(self) -> DataLoader[uuid.UUID, InventoryItem | None]:
        p = self._principal
        return self._get(
            "item_by_id",
            lambda: by_id(
                self._db,
                lambda keys: select(InventoryItem).where(
                    InventoryItem.id.in_(keys), environment_filter(p, InventoryItem.environment_id)
                ),
            ),
        )

    @property
    def movement_by_id(self) -> DataLoader[uuid.UUID, InventoryMovement | None]:
        p = self._principal
        return self._get(
            "movement_by_id",
            lambda: by_id(
                self._db,
                lambda keys: select(InventoryMovement).where(
                    InventoryMovement.id.in_(keys), environment_filter(p, InventoryMovement.environment_id)
                ),
            ),
        )

    @property
    def audit_log_by_id(self) -> DataLoader[uuid.UUID, AuditLog | None]:
        allowed = true() if self._principal.role is Role.ADMIN_GENERAL else false()
        return self._get(
            "audit_log_by_id",
            lambda: by_id(self._db, lambda keys: select(AuditLog).where(AuditLog.id.in_(keys), allowed)),
        )

    def _movement_scope(self) -> list[Any]:
        return [environment_filter(self._principal, InventoryMovement.environment_id)]

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
        return self._get(
            "movement_count_by_item", lambda: child_counts(self._db, InventoryMovement.item_id, self._movement_scope)
        )


def child_connection(
    pages: DataLoader[ChildPageKey, Page[Any]],
    counts: DataLoader[uuid.UUID, int],
    parent_id: uuid.UUID,
    args: PageArgs,
    to_node: Callable[[Any], Any],
) -> Connection[Any]:
    """A nested connection (e.g. `item.movements`) served by batched loaders."""
    args = args.checked()
    if args.cursor is not None:
        decode_cursor(MOVEMENTS_NEWEST_FIRST, args.cursor)

    async def load_page() -> Page[Any]:
        return await pages.load(ChildPageKey(parent_id, args))

    async def load_count() -> int:
        return await counts.load(parent_id)

    return Connection(_page=Lazy(load_page), _count=Lazy(load_count), _to_node=to_node)
