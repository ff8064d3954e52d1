"""Notifications: created only by the server, in the transaction of the change that causes
them (`notify`), read and managed by their recipient only.

Each stores its kind and parameters, not text: the title and body are rendered in the
reader's language when read (`notification.<kind>.title` / `.body` in the catalogue). Expired
notifications are never shown and are deleted by a periodic job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api import i18n
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal
from graphql_api.db.models import Notification, NotificationPriority, Role, User
from graphql_api.errors import NotFound
from graphql_api.services.events import publish
from graphql_api.services.filtering import AnyOf, Filters, Flag, OrderField, Ordering

RECEIVED = "notification"  # subject: the notification; user_ids: its recipient
UNREAD_COUNT_CHANGED = "notification_count"  # user_ids: whose unread count changed
DEFAULT_TTL = timedelta(days=90)


def _not_expired() -> ColumnElement[bool]:
    return or_(Notification.expires_at.is_(None), Notification.expires_at > func.now())


def visible_notifications(principal: Principal) -> Select[Any]:
    """The caller's own notifications that have not expired: nobody reads another's."""
    return select(Notification).where(Notification.recipient_id == scope.caller(principal), _not_expired())


NOTIFICATION_FILTERS = Filters(
    "Notification",
    "Filters for the caller's notifications; all given conditions must hold.",
    {
        "unread": Flag(lambda: Notification.read_at.is_(None), "Only notifications not read yet."),
        "kinds": AnyOf(Notification.kind, "Only these kinds (e.g. `user.role_changed`)."),
    },
)
NOTIFICATION_ORDER = Ordering(
    "Notification",
    {"CREATED_AT": OrderField(Notification.created_at, "By time.")},
    default="CREATED_AT",
    default_descending=True,
    id_column=Notification.id,
    direction_only=True,
)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification of a kind: who gets it, what it says, what it is about."""

    recipient: uuid.UUID
    params: Mapping[str, Any] = field(default_factory=dict)
    subject: tuple[str, uuid.UUID] | None = None


async def notify(
    session: AsyncSession,
    recipients: Iterable[uuid.UUID],
    kind: str,
    *,
    params: Mapping[str, Any] | None = None,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    subject: tuple[str, uuid.UUID] | None = None,
    ttl: timedelta | None = DEFAULT_TTL,
) -> list[uuid.UUID]:
    """Notify every recipient (one statement for all), in the caller's transaction; each
    recipient's subscriptions hear of it once the transaction commits."""
    notices = [Notice(user, params or {}, subject) for user in dict.fromkeys(recipients)]
    return await notify_each(session, kind, notices, priority=priority, ttl=ttl)


async def notify_each(
    session: AsyncSession,
    kind: str,
    notices: Sequence[Notice],
    *,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    ttl: timedelta | None = DEFAULT_TTL,
) -> list[uuid.UUID]:
    """One notification per notice, each with its own recipient, parameters and subject (a
    periodic job telling each requester of their own loan), still in one statement."""
    if not notices:
        return []
    expires_at = datetime.now(UTC) + ttl if ttl is not None else None
    ids = [uuid.uuid4() for _ in notices]
    rows = [
        {
            "id": notification_id,
            "recipient_id": notice.recipient,
            "kind": kind,
            "params": dict(notice.params),
            "priority": priority,
            "subject_type": notice.subject[0] if notice.subject is not None else None,
            "subject_id": notice.subject[1] if notice.subject is not None else None,
            "expires_at": expires_at,
        }
        for notification_id, notice in zip(ids, notices, strict=True)
    ]
    await session.execute(insert(Notification), rows)
    for notification_id, notice in zip(ids, notices, strict=True):
        publish(session, RECEIVED, subject_id=notification_id, user_ids=[notice.recipient])
    publish(session, UNREAD_COUNT_CHANGED, user_ids=dict.fromkeys(notice.recipient for notice in notices))
    return ids


async def users_reaching(
    session: AsyncSession, environment_id: uuid.UUID, roles: Iterable[Role], *, besides: Iterable[uuid.UUID] = ()
) -> list[uuid.UUID]:
    """The active users of `roles` whose scope contains the environment (e.g. the supervisors
    of a room's center, the admin of a warehouse), and the `besides` users: the recipients of
    what happens there."""
    found = await session.scalars(
        select(User.id).where(User.is_active.is_(True), User.role.in_(list(roles)), scope.reaches(environment_id))
    )
    return list(dict.fromkeys([*found, *besides]))


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        Notification.recipient_id == user_id, Notification.read_at.is_(None), _not_expired()
    )
    return int(await session.scalar(stmt) or 0)


async def set_read(session: AsyncSession, principal: Principal, notification_id: uuid.UUID, *, read: bool) -> Any:
    """Mark one of the caller's notifications read (or unread again)."""
    row = (
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.recipient_id == principal.id, _not_expired())
            .values(read_at=func.now() if read else None)
            .returning(Notification)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("notification")
    publish(session, UNREAD_COUNT_CHANGED, user_ids=[principal.id])
    return row


async def mark_all_read(session: AsyncSession, principal: Principal, *, kinds: list[str] | None = None) -> int:
    """Mark every unread notification of the caller (of `kinds`, if given) read; how many were."""
    chosen = Notification.kind.in_(kinds) if kinds is not None else None
    result = await session.execute(
        update(Notification)
        .where(Notification.recipient_id == principal.id, Notification.read_at.is_(None), _not_expired())
        .where(*(() if chosen is None else (chosen,)))
        .values(read_at=func.now())
        .returning(Notification.id)
    )
    count = len(result.all())
    if count:
        publish(session, UNREAD_COUNT_CHANGED, user_ids=[principal.id])
    return count


async def delete_notification(session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> None:
    deleted = await session.scalar(
        delete(Notification)
        .where(Notification.id == notification_id, Notification.recipient_id == principal.id, _not_expired())
        .returning(Notification.read_at.is_(None))
    )
    if deleted is None:
        raise NotFound("notification")
    if deleted:  # it was unread
        publish(session, UNREAD_COUNT_CHANGED, user_ids=[principal.id])


async def delete_expired(session: AsyncSession, *, now: datetime | None = None) -> int:
    """The periodic job: expired notifications are gone for good."""
    result = await session.execute(
        delete(Notification)
        .where(Notification.expires_at <= (now or datetime.now(UTC)))
        .returning(Notification.recipient_id, Notification.read_at.is_(None))
    )
    rows = result.all()
    unread_of = {recipient for recipient, unread in rows if unread}
    if unread_of:
        publish(session, UNREAD_COUNT_CHANGED, user_ids=unread_of)
    return len(rows)


i18n.register(
    {
        "es": {
            "notification.account.welcome.title": "Bienvenido",
            "notification.account.welcome.body": (
                "Tu cuenta ({role}) está lista. Aquí verás los avisos que te conciernen."
            ),
        },
        "en": {
            "notification.account.welcome.title": "Welcome",
            "notification.account.welcome.body": (
                "Your account ({role}) is ready. Notices that concern you show up here."
            ),
        },
    }
)
