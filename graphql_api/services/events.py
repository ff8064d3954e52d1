"""Events: noted in the transaction of the change that causes them, delivered after it commits.

`publish(session, topic, ...)` notes an event on the session. Just before the transaction
commits, every event noted is written to the outbox (`outbox_events`) in one statement that
first takes the outbox lock, so that ids increase in commit order (a listener that reads
"everything after the last id I saw" never skips a row that commits late), and that ends with
NOTIFY, which PostgreSQL delivers only if the transaction commits: a rolled-back transaction
publishes nothing. Events carry ids, never data; subscribers load what they may see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from graphql_api.db.models import OutboxEvent
from graphql_api.pubsub.events import CHANNEL, OUTBOX_LOCK, Event

__all__ = ["CHANNEL", "SESSIONS_REVOKED", "Event", "publish", "trim_outbox"]

_PENDING = "pending_events"

# Topics every worker acts on itself (the rest are for subscriptions).
SESSIONS_REVOKED = "sessions_revoked"  # user_ids: their tokens no longer count


def publish(
    session: AsyncSession,
    topic: str,
    *,
    subject_id: uuid.UUID | None = None,
    environment_id: uuid.UUID | None = None,
    user_ids: Iterable[uuid.UUID] = (),
    **data: Any,
) -> None:
    """Note an event; it is written when this session's transaction commits (never if it
    rolls back). `data` holds further ids only (strings)."""
    session.info.setdefault(_PENDING, []).append(
        {
            "topic": topic,
            "subject_id": str(subject_id) if subject_id else None,
            "environment_id": str(environment_id) if environment_id else None,
            "user_ids": [str(user) for user in user_ids],
            "data": {key: str(value) for key, value in data.items()},
        }
    )


def pending(session: AsyncSession) -> list[dict[str, Any]]:
    """The events noted so far (tests)."""
    return list(session.info.get(_PENDING, []))


_WRITE = text(
    """
    WITH locked AS (SELECT pg_advisory_xact_lock(:lock)),
    written AS (
        INSERT INTO outbox_events (topic, subject_id, environment_id, user_ids, data)
        SELECT e.topic, e.subject_id, e.environment_id,
               ARRAY(SELECT jsonb_array_elements_text(e.user_ids))::uuid[], e.data
        FROM locked, jsonb_to_recordset(CAST(:events AS jsonb))
             AS e(topic text, subject_id uuid, environment_id uuid, user_ids jsonb, data jsonb)
        RETURNING id
    )
    SELECT pg_notify(:channel, max(id)::text) FROM written
    """
)


@event.listens_for(Session, "before_commit")
def _write_outbox(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if events:
        # Last statement of the transaction: the lock is held only until the commit.
        session.execute(_WRITE, {"lock": OUTBOX_LOCK, "events": orjson.dumps(events).decode(), "channel": CHANNEL})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def trim_outbox(session: AsyncSession, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete events older than `older_than` (a listener away longer than that misses them)."""
    cutoff = (now or datetime.now(UTC)) - older_than
    result = await session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
