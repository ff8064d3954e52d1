"""System alerts (SPEC §7): raised by the server about an object (an item, a loan, a check),
read, resolved and reopened by SUPERVISOR (the center's rooms), ADMIN (the own warehouse) and
ADMIN_GENERAL; nobody else sees them.

Never two open alerts of one type for one object: the partial unique index of `system_alerts`
decides, so `raise_alert` is an INSERT ... ON CONFLICT DO NOTHING that is safe under concurrent
raises, and only the raise that inserted announces the alert (its event, its notifications).
Resolve and reopen are single conditional UPDATEs; a wrong state is a Conflict that changes
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import (
    AlertSettings,
    AlertSeverity,
    AlertStatus,
    AlertType,
    Environment,
    Notification,
    Role,
    SystemAlert,
    User,
)
from graphql_api.errors import Conflict, NotFound
from graphql_api.services import alert_messages, audit, notifications
from graphql_api.services.events import publish
from graphql_api.services.filtering import AnyOf, Filters, OrderField, Ordering
from graphql_api.services.queries import constraint_name

READERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.ADMIN_GENERAL})
RAISED = "alert"  # subject: the alert raised; environment: its environment
DEFAULT_THRESHOLD = 5
OPEN_INDEX = "uq_system_alerts_open_per_subject"
# The index's predicate, written out: ON CONFLICT finds a partial index only through a
# predicate that implies the index's, and a bound parameter implies nothing.
OPEN_PREDICATE = "status = 'OPEN'"
_RANK = {severity.value: rank for rank, severity in enumerate(AlertSeverity)}


def _in_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.role not in READERS:
        return false()
    # SUPERVISOR: the center's environments; ADMIN: the home warehouse; ADMIN_GENERAL: all.
    return environment_filter(principal, SystemAlert.environment_id)


def visible_alerts(principal: Principal) -> Select[Any]:
    """Alerts of the environments in the caller's scope, for the roles that read alerts."""
    return select(SystemAlert).where(_in_scope(principal))


ALERT_FILTERS = Filters(
    "SystemAlert",
    "Filters for system alerts; all given conditions must hold. They narrow the caller's scope, never widen it.",
    {
        "types": AnyOf(SystemAlert.alert_type, "Only these types."),
        "severities": AnyOf(SystemAlert.severity, "Only these severities."),
        "statuses": AnyOf(SystemAlert.status, "Only open or only resolved alerts (default: both)."),
        "environment_ids": AnyOf(SystemAlert.environment_id, "Only alerts of these environments.", ids="Environment"),
    },
)
ALERT_ORDER = Ordering(
    "SystemAlert",
    {"CREATED_AT": OrderField(SystemAlert.created_at, "By the time the alert was raised.")},
    default="CREATED_AT",
    default_descending=True,
    id_column=SystemAlert.id,
    direction_only=True,
)


def rank(severity: AlertSeverity) -> int:
    """Severities in increasing order (a minimum admits its own and every later one)."""
    return _RANK[severity.value]


def _rank_sql(column: Any) -> ColumnElement[int]:
    return case(_RANK, value=cast(column, String), else_=0)


# ---- who hears of an alert ---------------------------------------------------------------


def reaches(user: Any, home: Any, target: Any) -> ColumnElement[bool]:
    """SQL: `user` (active, with `home` their home environment) reads the alerts of the
    environment `target`. The inverse of `environment_filter` for the reader roles; a test
    compares the two for every user and environment."""
    return and_(
        user.is_active.is_(True),
        or_(
            user.role == Role.ADMIN_GENERAL,
            and_(user.role == Role.ADMIN, user.environment_id == target.id),
            and_(user.role == Role.SUPERVISOR, home.center_id == target.center_id),
        ),
    )


def accepts_type(settings: Any, alert_type: Any) -> ColumnElement[bool]:
    """SQL: the user's settings (outer-joined; none: defaults) take alerts of `alert_type`."""
    return or_(settings.alert_types.is_(None), cast(alert_type, String) == any_(settings.alert_types))


def _wants(settings: Any, alert: Any) -> ColumnElement[bool]:
    return and_(
        accepts_type(settings, alert.alert_type),
        _rank_sql(alert.severity) >= func.coalesce(_rank_sql(settings.min_severity), 0),
        func.coalesce(settings.notify, true()),
    )


def _recipients(alert_ids: Sequence[uuid.UUID]) -> Select[SystemAlert, uuid.UUID]:
    """(alert, user) for every raised alert and everyone to notify of it."""
    target, home = aliased(Environment), aliased(Environment)
    return (
        select(SystemAlert, User.id.label("recipient"))
        .join(target, target.id == SystemAlert.environment_id)
        .join(User, true())
        .outerjoin(home, home.id == User.environment_id)
        .outerjoin(AlertSettings, AlertSettings.user_id == User.id)
        .where(SystemAlert.id.in_(alert_ids), reaches(User, home, target), _wants(AlertSettings, SystemAlert))
    )


async def announce(session: AsyncSession, raised: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Publish each alert just raised (id, environment) and notify its recipients, in one
    statement for all of them (a job that raises many in one INSERT announces them at once)."""
    if not raised:
        return
    for alert_id, environment_id in raised:
        publish(session, RAISED, subject_id=alert_id, environment_id=environment_id)
    pairs = _recipients([alert_id for alert_id, _ in raised]).subquery()
    high = cast(pairs.c.severity, String).in_(("HIGH", "CRITICAL"))
    rows = select(
        func.gen_random_uuid(),
        pairs.c.recipient,
        literal("alert.") + func.lower(cast(pairs.c.alert_type, String)),
        pairs.c.params,
        case((high, "HIGH"), else_="NORMAL"),
        literal("SystemAlert"),
        pairs.c.id,
        func.now() + notifications.DEFAULT_TTL,
    )
    columns = ["id", "recipient_id", "kind", "params", "priority", "subject_type", "subject_id", "expires_at"]
    insert = pg_insert(Notification).from_select(columns, rows).returning(Notification.id, Notification.recipient_id)
    notified = (await session.execute(insert)).all()
    for notification_id, recipient in notified:
        publish(session, notifications.RECEIVED, subject_id=notification_id, user_ids=[recipient])
    if notified:
        publish(session, notifications.UNREAD_COUNT_CHANGED, user_ids={recipient for _, recipient in notified})


# ---- raising -----------------------------------------------------------------------------


def check_params(alert_type: AlertType, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters the type's texts need, exactly (a caller's mistake is a programming error)."""
    expected = alert_messages.PARAMS[alert_type]
    if set(params) != expected:
        raise ValueError(f"{alert_type.name} alerts take the parameters {sorted(expected)}, not {sorted(params)}")
    return {key: value if isinstance(value, int | str) else str(value) for key, value in params.items()}


def on_conflict_keep_open(statement: Any) -> Any:
    """An INSERT into system_alerts that does nothing when the alert is already open."""
    return statement.on_conflict_do_nothing(
        index_elements=[SystemAlert.alert_type, SystemAlert.subject_id], index_where=text(OPEN_PREDICATE)
    )


async def raise_alert(
    session: AsyncSession,
    alert_type: AlertType,
    severity: AlertSeverity,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    environment_id: uuid.UUID,
    params: Mapping[str, Any],
) -> uuid.UUID | None:
    """Raise an alert about `subject_type`/`subject_id` (a node type name and id) in the
    caller's transaction; the id of the new alert, or None when one of that type was already
    open for that object (then nothing happens: no event, no notification)."""
    values = {
        "id": uuid.uuid4(),
        "alert_type": alert_type,
        "severity": severity,
        "status": AlertStatus.OPEN,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "environment_id": environment_id,
        "params": check_params(alert_type, params),
    }
    statement = on_conflict_keep_open(pg_insert(SystemAlert).values(values)).returning(SystemAlert.id)
    alert_id: uuid.UUID | None = await session.scalar(statement)
    if alert_id is not None:
        await announce(session, [(alert_id, environment_id)])
    return alert_id


# ---- resolving and reopening -------------------------------------------------------------


async def _transition(
    session: AsyncSession,
    principal: Principal,
    alert_id: uuid.UUID,
    *,
    source: AlertStatus,
    values: dict[str, Any],
    guard: ColumnElement[bool] | None = None,
) -> SystemAlert | None:
    statement = (
        sql_update(SystemAlert)
        .where(SystemAlert.id == alert_id, SystemAlert.status == source, _in_scope(principal))
        .where(guard if guard is not None else true())
        .values(status=AlertStatus.RESOLVED if source is AlertStatus.OPEN else AlertStatus.OPEN, **values)
        .returning(SystemAlert)
        .execution_options(populate_existing=True)
    )
    row: SystemAlert | None = (await session.execute(statement)).scalar_one_or_none()
    if row is not None:
        audit.note_change(
            session, entity="system_alerts", entity_id=row.id, old={"status": source}, new={"status": row.status}
        )
    return row


async def _why_not(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> SystemAlert:
    """The alert as the caller sees it (NotFound out of scope), once a transition did not apply."""
    row: SystemAlert | None = await session.scalar(visible_alerts(principal).where(SystemAlert.id == alert_id))
    if row is None:
        raise NotFound("alert")
    return row


async def resolve_alert(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> SystemAlert:
    """OPEN -> RESOLVED by the caller, now."""
    row = await _transition(
        session,
        principal,
        alert_id,
        source=AlertStatus.OPEN,
        values={"resolved_at": func.now(), "resolved_by_id": principal.id},
    )
    if row is None:
        await _why_not(session, principal, alert_id)
        raise Conflict("error.already_in_state")
    return row


async def reopen_alert(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> SystemAlert:
    """RESOLVED -> OPEN by the caller, now; refused while another alert of the same type is
    open for the same object (the partial unique index would refuse it too). The last
    resolution (who, when) stays on the alert."""
    twin = aliased(SystemAlert)
    open_twin = (
        select(twin.id)
        .where(
            twin.status == AlertStatus.OPEN,
            twin.alert_type == SystemAlert.alert_type,
            twin.subject_id == SystemAlert.subject_id,
        )
        .exists()
    )
    try:
        row = await _transition(
            session,
            principal,
            alert_id,
            source=AlertStatus.RESOLVED,
            values={"reopened_at": func.now(), "reopened_by_id": principal.id},
            guard=~open_twin,
        )
    except IntegrityError as error:
        # A twin opened by a transaction that committed while this one waited for it.
        if OPEN_INDEX not in constraint_name(error):
            raise
        raise Conflict("error.alert_open_exists") from None
    if row is None:
        found = await _why_not(session, principal, alert_id)
        raise Conflict("error.already_in_state" if found.status is AlertStatus.OPEN else "error.alert_open_exists")
    return row


async def resolve_by_system(session: AsyncSession, condition: ColumnElement[bool], now: datetime) -> list[uuid.UUID]:
    """Resolve every open alert matching `condition`, by nobody (the jobs: the cause is gone)."""
    result = await session.execute(
        sql_update(SystemAlert)
        .where(SystemAlert.status == AlertStatus.OPEN, condition)
        .values(status=AlertStatus.RESOLVED, resolved_at=now, resolved_by_id=None)
        .returning(SystemAlert.id)
    )
    return list(result.scalars())
