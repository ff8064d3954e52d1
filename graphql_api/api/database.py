"""One database session per request, shared by the request's resolvers one at a time.

Sibling fields resolve concurrently and an AsyncSession must not be used by two tasks at
once, so access goes through a lock. Sharing one session means one connection and one
transaction per request: authentication, every loader batch and a mutation's writes all run
in it (the mutation commits it; reads roll back when the request ends). Batching by the
loaders keeps the statement count per request small, so serialising them costs little.

The lock is re-entrant for the task that holds a transaction: a mutation's permission check
and service calls run in the mutation's own task. DataLoader batches run in tasks of their
own, so a mutation resolver must not await a loader (it would wait for its own lock);
mutation payload fields resolve after the transaction, where loaders are fine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class RequestDatabase:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None

    def _current(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessionmaker()
        return self._session

    def _owned_by_me(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        """The request's session, for reading (no commit)."""
        if self._owned_by_me():
            yield self._current()
            return
        async with self._lock:
            yield self._current()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on any exception. Writes of one mutation."""
        async with self._lock:
            self._owner = asyncio.current_task()
            session = self._current()
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
        if session is not None:
            await session.close()
