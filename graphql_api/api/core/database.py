"""One pooled connection per request, shared by the request's resolvers one at a time.

Sibling fields resolve concurrently, and neither an AsyncSession nor an asyncpg connection may
be used by two tasks at once, so access goes through a lock. The connection is checked out on
first use and returned when the request ends; authentication, every loader batch and a
mutation's writes all run on it.

Two ways to use it:

* `fetch()`: the hot read paths (`graphql_api.db.reads`: statements compiled once, rows
  without ORM objects), on the driver's asyncpg connection. Outside a mutation these run in
  autocommit: under READ COMMITTED a transaction around reads gives no common snapshot anyway,
  and BEGIN/ROLLBACK would be two more round trips.
* `__call__()` / `transaction()`: an ORM session bound to the same connection, for everything
  else; `transaction()` commits the writes of one mutation (rolled back on any exception).

The lock is re-entrant for the task that holds a transaction: a mutation's permission check
and service calls run in the mutation's own task. DataLoader batches run in tasks of their
own, so a mutation resolver must not await a loader (it would wait for its own lock);
mutation payload fields resolve after the transaction, where loaders are fine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import reads


class RequestDatabase:
    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine
        self._sessionmaker = sessionmaker
        self._connection: AsyncConnection | None = None
        self._driver_connection: asyncpg.Connection | None = None
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self._engine.connect()
        return self._connection

    async def _current(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessionmaker(bind=await self._connect())
        return self._session

    def _owned_by_me(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Exclusive use of the connection (the transaction's own task already has it)."""
        if self._owned_by_me():
            yield
            return
        async with self._lock:
            yield

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        """The request's session, for reading (no commit)."""
        async with self._turn():
            yield await self._current()

    async def fetch(self, compiled: reads.Compiled, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Run a compiled read (`graphql_api.db.reads`): outside a mutation in autocommit on the
        driver's connection; inside one, in its transaction (through SQLAlchemy, which begins
        the transaction first if this is its first statement)."""
        async with self._turn():
            if self._owned_by_me():
                connection = await (await self._current()).connection()
                result = await connection.exec_driver_sql(compiled.sql, tuple(reads.arguments(compiled, params)))
                return result.all()
            return await reads.fetch(await self._driver(), compiled, params)

    async def _driver(self) -> asyncpg.Connection:
        if self._driver_connection is None:
            proxied = await (await self._connect()).get_raw_connection()
            self._driver_connection = proxied.driver_connection
        return self._driver_connection

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on any exception. Writes of one mutation."""
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                session = await self._current()
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
            finally:
                self._owner = None

    async def close(self) -> None:
        """End the request: roll back an open read transaction and return the connection."""
        async with self._lock:
            session, self._session = self._session, None
            connection, self._connection = self._connection, None
            self._driver_connection = None
        try:
            if session is not None:
                await session.close()
        finally:
            if connection is not None:
                await connection.close()
