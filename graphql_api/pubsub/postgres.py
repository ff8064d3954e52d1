"""Each worker's listener: one connection that LISTENs on the outbox channel and reads the
outbox in order.

A NOTIFY carries only the newest id; the listener reads every row after the last id it has
handed on, in id order (which is commit order, see `services/events.py`), and hands them to
`deliver` one batch at a time, waiting for it (a hub whose renderings are behind holds the
listener back: the events wait in the outbox, not in memory). When its connection is lost (a
terminated backend, a database restart) it reconnects with growing pauses and catches up from
the last id it saw, so no committed event is missed and none is handed on twice. A slow poll
covers a NOTIFY that came while it was reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import orjson

from graphql_api.pubsub.events import CHANNEL, Event

log = logging.getLogger(__name__)
BATCH = 500
_NEWEST = "SELECT coalesce(max(id), 0) FROM outbox_events"
_READ = (
    "SELECT id, topic, subject_id, environment_id, user_ids, data FROM outbox_events WHERE id > $1 ORDER BY id LIMIT $2"
)


class OutboxListener:
    def __init__(
        self,
        dsn: str,
        deliver: Callable[[Sequence[Event]], Awaitable[None]],
        *,
        poll_seconds: float = 5.0,
        connect_timeout: float = 5.0,
        idle: Callable[[], bool] = lambda: False,
    ) -> None:
        self._dsn = dsn
        self._deliver = deliver
        self._idle = idle
        self._announced = 0  # the newest id a NOTIFY has named
        self._poll_seconds = poll_seconds
        self._connect_timeout = connect_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self.last_id: int | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._stopped = False

    async def start(self, from_id: int | None = None) -> None:
        """Listen from now on (or after `from_id`): earlier events are not handed on. With the
        database unreachable, listening starts once it can connect."""
        self.last_id = from_id
        try:
            await self._connect()
            if self.last_id is None and self._connection is not None:
                # Now, not in the task: an event committed once start() has returned is handed on.
                self.last_id = await self._connection.fetchval(_NEWEST)
        except Exception as error:  # the loop keeps trying
            log.warning("outbox listener cannot connect yet (%r)", error)
            await self._close()
        self._task = asyncio.create_task(self._run(), name="outbox-listener")

    async def stop(self) -> None:
        # The connection goes first, with no round trip: a task cancelled during a read makes
        # asyncpg send PostgreSQL a cancel request and wait for it, which could hang shutdown.
        # And the loop ends by itself even if the cancellation is swallowed (asyncio.wait_for
        # before Python 3.12 loses one that races with its awaitable completing).
        self._stopped = True
        connection, self._connection = self._connection, None
        self.connected.clear()
        if connection is not None:
            connection.terminate()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def _connect(self) -> None:
        connection = await asyncpg.connect(
            self._dsn, timeout=self._connect_timeout, server_settings={"application_name": "graphql-api-listener"}
        )
        await connection.add_listener(CHANNEL, self._notified)
        connection.add_termination_listener(self._terminated)
        self._connection = connection
        self.connected.set()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        self.connected.clear()
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self._announced = max(self._announced, int(payload))
        self._wake.set()

    def _terminated(self, *_: Any) -> None:
        self.connected.clear()
        self._wake.set()

    async def _run(self) -> None:
        pause = 0.1
        while not self._stopped:
            try:
                if self._connection is None or self._connection.is_closed():
                    await self._close()
                    await self._connect()
                    self.reconnects += 1
                    log.info("outbox listener reconnected; catching up after id %s", self.last_id)
                if not self._skip_unwanted():
                    await self._read_all()
                pause = 0.1
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._wake.wait()
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: reconnect and catch up
                log.warning("outbox listener lost its connection (%r); retrying in %.1f s", error, pause)
                await self._close()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _skip_unwanted(self) -> bool:
        """With nobody on this worker to hand events to, a NOTIFY moves the last id on without
        reading the rows: a mutation's events then cost the worker no statement. Ids follow
        commit order, so every event up to the id named is committed and owed to no one (a
        subscription starts from its own moment)."""
        if not self._idle() or self.last_id is None or self._announced <= self.last_id:
            return False
        self.last_id = self._announced
        return True

    async def _read_all(self) -> None:
        assert self._connection is not None
        if self.last_id is None:
            self.last_id = await self._connection.fetchval(_NEWEST)
        while True:
            assert self.last_id is not None
            rows = await self._connection.fetch(_READ, self.last_id, BATCH)
            if not rows:
                return
            events = [_event(row) for row in rows]
            self.last_id = events[-1].id
            try:
                await self._deliver(events)
            except Exception:
                # Delivery is the subscribers' business; the listener must go on.
                log.exception("delivering outbox events %s..%s failed", events[0].id, events[-1].id)
            if len(rows) < BATCH:
                return


def _event(row: Any) -> Event:
    data = row["data"]
    if isinstance(data, str):
        data = orjson.loads(data)
    return Event(
        id=row["id"],
        topic=row["topic"],
        subject_id=row["subject_id"],
        environment_id=row["environment_id"],
        user_ids=tuple(row["user_ids"] or ()),
        data=data or {},
    )


def driver_dsn(url: str) -> str:
    """asyncpg's DSN for a database URL as the settings give it."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url
