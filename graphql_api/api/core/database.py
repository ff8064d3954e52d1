"""One pooled connection per request, shared by the request's resolvers one at a time.

Sibling fields resolve concurrently, and neither an AsyncSession nor an asyncpg connection may
be used by two tasks at once, so access goes through a lock. The connection is checked out on
first use and returned when the request ends; authentication, every loader batch and a
mutation's writes all run on it.

Two ways to use it:

* `fetch()`: the hot read paths (`graphql_api.db.reads`: statements compiled once, rows
  without ORM objects), on the driver's asyncpg connection.
* `__call__()` / `transaction()`: an ORM session bound to the same connection, for everything
  else; `transaction()` commits the writes of one mutation (rolled back on any exception).

Reads outside a mutation run in autocommit, each statement on its own: under READ COMMITTED a
transaction around them would give no common snapshot, and BEGIN/ROLLBACK would cost two more
round trips.

Inside a mutation, everything the mutation's task starts (DataLoader batches run in tasks of
their own) belongs to the transaction: a load made there runs on the transaction's
connection, in turn with the others, and sees the mutation's own writes. Tasks are told apart
by a context variable that the tasks they start inherit, so a load never waits for the lock
its own transaction holds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import reads

# The RequestDatabase whose transaction the current task (and the tasks it started) belongs to.
_IN_TRANSACTION: ContextVar[RequestDatabase | None] = ContextVar("graphql_api_in_transaction", default=None)
AUTOCOMMIT = "AUTOCOMMIT"


class RequestDatabase:
    def __init__(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine
        self._sessionmaker = sessionmaker
        self._connection: AsyncConnection | None = None
        self._driver_connection: asyncpg.Connection | None = None
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        # Turns among the tasks of an open transaction (the mutation and its loader batches).
        self._transaction_lock = asyncio.Lock()
        self._in_transaction = False

    def fresh(self) -> RequestDatabase:
        """Another handle on the same engine: its own connection, checked out on first use."""
        return RequestDatabase(self._engine, self._sessionmaker)

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self._engine.connect()
            await self._connection.execution_options(isolation_level=AUTOCOMMIT)
        return self._connection

    async def _current(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessionmaker(bind=await self._connect())
        return self._session

    def _belongs_to_transaction(self) -> bool:
        return self._in_transaction and _IN_TRANSACTION.get() is self

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Exclusive use of the connection: within the open transaction for its own tasks,
        otherwise once no other task uses it (and no transaction is open)."""
        lock = self._transaction_lock if self._belongs_to_transaction() else self._lock
        async with lock:
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
            if self._belongs_to_transaction():
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
            session = await self._current()
            await self._end_autocommit(session)
            token = _IN_TRANSACTION.set(self)
            self._in_transaction = True
            try:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
            finally:
                self._in_transaction = False
                _IN_TRANSACTION.reset(token)
                await self._start_autocommit()

    async def _end_autocommit(self, session: AsyncSession) -> None:
        # The reads before the transaction ended nothing (autocommit); close their logical
        # transaction so that the isolation level may change, then begin a real one.
        await session.rollback()
        assert self._connection is not None
        default = self._connection.default_isolation_level
        assert default is not None
        await self._connection.execution_options(isolation_level=default)

    async def _start_autocommit(self) -> None:
        if self._connection is not None and not self._connection.closed:
            with contextlib.suppress(Exception):  # a broken connection is discarded at close
                await self._connection.execution_options(isolation_level=AUTOCOMMIT)

    async def close(self) -> None:
        """End the request: end the session and return the connection."""
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
