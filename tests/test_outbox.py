"""The outbox and its listener, in process on the session PostgreSQL: a rolled-back transaction
publishes nothing; ids follow commit order even when transactions interleave, so a listener
that reads "after the last id I saw" misses nothing; a listener whose connection is terminated
catches up, each event once, in order."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from graphql_api.db import models
from graphql_api.pubsub.events import Event
from graphql_api.pubsub.postgres import OutboxListener, driver_dsn
from graphql_api.services import events

Sessions = async_sessionmaker[AsyncSession]
WAIT = 20  # generous: only so that a lost event fails the test instead of hanging it


class Received:
    """What a listener handed on, in the order it did."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def deliver(self, batch: Sequence[Event]) -> None:
        self.events.extend(batch)
        self._changed.set()

    def topics(self) -> list[str]:
        return [received.topic for received in self.events]

    async def until(self, done: Callable[[], bool], timeout: float = WAIT) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not done():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"not there after {timeout} s; handed on: {self.topics()}") from None


@pytest.fixture
async def listener(database_url: str, db: Sessions) -> AsyncIterator[tuple[OutboxListener, Received]]:
    received = Received()
    # A slow poll: only a NOTIFY (or a reconnection) should make it read.
    outbox = OutboxListener(driver_dsn(database_url), received.deliver, poll_seconds=60)
    await outbox.start()
    try:
        yield outbox, received
    finally:
        await outbox.stop()


async def publish_and_commit(db: Sessions, *topics: str) -> None:
    async with db.begin() as session:
        for topic in topics:
            events.publish(session, topic)


async def outbox_topics(db: Sessions) -> list[str]:
    async with db() as session:
        return list((await session.scalars(select(models.OutboxEvent.topic).order_by(models.OutboxEvent.id))).all())


async def test_a_rolled_back_transaction_publishes_nothing(
    db: Sessions, listener: tuple[OutboxListener, Received]
) -> None:
    _, received = listener
    async with db() as session, session.begin():
        events.publish(session, "rolled_back_explicitly")
        await session.rollback()
    with contextlib.suppress(RuntimeError):
        async with db.begin() as session:
            events.publish(session, "rolled_back_by_an_error")
            raise RuntimeError("the change fails")
    # A later transaction on a session that had rolled back publishes only its own event.
    async with db() as session:
        async with session.begin():
            events.publish(session, "lost")
            await session.rollback()
        async with session.begin():
            events.publish(session, "kept")
    await received.until(lambda: len(received.events) >= 1)
    assert await outbox_topics(db) == ["kept"]
    assert received.topics() == ["kept"]


async def test_events_of_one_transaction_are_one_statement_and_one_notify(
    db: Sessions, listener: tuple[OutboxListener, Received], count_statements: Any
) -> None:
    _, received = listener
    async with db.begin() as session:
        await session.execute(select(1))
        for n in range(5):
            events.publish(session, f"topic{n}", subject_id=uuid.uuid4(), user_ids=[uuid.uuid4()])
        with count_statements() as counted:
            await session.commit()
    await received.until(lambda: len(received.events) == 5)
    assert counted.value == 1
    assert received.topics() == [f"topic{n}" for n in range(5)]
    assert [e.id for e in received.events] == sorted(e.id for e in received.events)


async def test_ids_follow_commit_order_not_publish_order(
    db: Sessions, listener: tuple[OutboxListener, Received]
) -> None:
    _, received = listener
    async with db() as first, first.begin():
        events.publish(first, "published_first_committed_last")
        await publish_and_commit(db, "published_second_committed_first")
        await first.commit()
    await received.until(lambda: len(received.events) == 2)
    assert received.topics() == ["published_second_committed_first", "published_first_committed_last"]
    assert received.events[0].id < received.events[1].id


async def advisory_lock_waiters(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        waiting: int = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return waiting
    finally:
        await connection.close()


async def test_a_late_committing_writer_is_not_skipped(
    db: Sessions, database_url: str, listener: tuple[OutboxListener, Received]
) -> None:
    """T1 writes its outbox row first and is slow to commit; T2 commits meanwhile. Were T2's
    row to get the higher id and commit first, the listener would read it, move past T1's id
    and never see T1's event. The outbox lock makes T2 wait for T1 instead."""
    _, received = listener
    written, release = asyncio.Event(), asyncio.Event()

    def pause_after_outbox_write(_: Any) -> None:
        # Runs after the outbox listener of services/events.py (class listeners come first).
        written.set()
        await_only(release.wait())

    async with db() as slow:
        event.listen(slow.sync_session, "before_commit", pause_after_outbox_write)
        async with slow.begin():
            events.publish(slow, "first_written")
            slow_commit = asyncio.create_task(slow.commit())
            await asyncio.wait_for(written.wait(), WAIT)
            fast_commit = asyncio.create_task(publish_and_commit(db, "second_written"))
            deadline = time.monotonic() + WAIT
            # Until T2 either committed (no lock) or waits on the outbox lock.
            while not fast_commit.done() and not await advisory_lock_waiters(database_url):
                assert time.monotonic() < deadline, "T2 neither committed nor waited"
                await asyncio.sleep(0.02)
            if fast_commit.done():  # what the listener would do with T2 alone committed
                await received.until(lambda: len(received.events) >= 1)
            release.set()
            await asyncio.wait_for(slow_commit, WAIT)
            await asyncio.wait_for(fast_commit, WAIT)
    await received.until(lambda: len(received.events) >= 2)
    assert received.topics() == ["first_written", "second_written"]


async def terminate_listener(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        killed: int = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'graphql-api-listener' AND datname = current_database()"
        )
        return killed
    finally:
        await connection.close()


async def test_a_terminated_listener_catches_up_each_event_once_in_order(
    db: Sessions, database_url: str, listener: tuple[OutboxListener, Received]
) -> None:
    outbox, received = listener
    await publish_and_commit(db, "before")
    await received.until(lambda: len(received.events) == 1)
    assert await terminate_listener(database_url) == 1
    for n in range(20):  # committed while the listener is away: only the catch-up finds them
        await publish_and_commit(db, f"while_away_{n}")
    await received.until(lambda: len(received.events) == 21)
    await publish_and_commit(db, "after")
    await received.until(lambda: len(received.events) == 22)
    assert outbox.reconnects == 1
    assert received.topics() == await outbox_topics(db)
    assert len({e.id for e in received.events}) == 22


async def test_a_listener_started_after_events_hands_on_only_new_ones(db: Sessions, database_url: str) -> None:
    await publish_and_commit(db, "old")
    received = Received()
    outbox = OutboxListener(driver_dsn(database_url), received.deliver, poll_seconds=60)
    await outbox.start()
    try:
        await publish_and_commit(db, "new")
        await received.until(lambda: len(received.events) == 1)
    finally:
        await outbox.stop()
    assert received.topics() == ["new"]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(models.OutboxEvent)) == 2


async def test_an_idle_worker_moves_on_without_reading_and_hands_on_what_follows(
    database_url: str, db: Sessions
) -> None:
    # With nobody to hand events to, a NOTIFY only moves the last id on: the events committed
    # meanwhile are never read (a read would have handed them on); once somebody is there, the
    # next event is handed on, and only it.
    received, idle = Received(), [False]
    outbox = OutboxListener(driver_dsn(database_url), received.deliver, poll_seconds=60, idle=lambda: idle[0])
    await outbox.start()
    try:
        await publish_and_commit(db, "watched.1")
        await received.until(lambda: "watched.1" in received.topics())
        idle[0] = True
        seen = outbox.last_id
        assert seen is not None
        await publish_and_commit(db, "unwatched.1", "unwatched.2")
        await publish_and_commit(db, "unwatched.3")
        async with asyncio.timeout(WAIT):
            while outbox.last_id is None or outbox.last_id < seen + 3:
                await asyncio.sleep(0.05)
        idle[0] = False
        await publish_and_commit(db, "watched.2")
        await received.until(lambda: "watched.2" in received.topics())
        assert received.topics() == ["watched.1", "watched.2"]
    finally:
        await outbox.stop()
