"""What a mutation changed, collected automatically, and the audit rows that record it.

The API layer wraps every mutation in one transaction and writes the audit row itself (see
`graphql_api.api.core.mutation`); no service or resolver writes audit rows directly. Changes made
through the ORM unit of work are captured by a flush listener; services that change rows with
a single conditional UPDATE (state machines, stock compare-and-swap) report them with
`note_change`.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from graphql_api.db.models import AuditLog, AuditOutcome, Role

CHANGES_KEY = "audit_changes"
ACTOR_KEY = "audit_actor"
TARGET_KEY = "audit_target"
# Tables whose rows are bookkeeping, not business entities worth an audit entry.
IGNORED_TABLES = frozenset({"audit_logs", "login_throttle", "refresh_tokens"})
# Never stored in the log, whatever table they belong to.
SECRET_MARKERS = ("password", "token", "secret", "key_hash")
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class RequestMeta:
    request_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


def _is_secret(name: str) -> bool:
    return any(marker in name for marker in SECRET_MARKERS) and name != "token_version"


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in values.items() if not _is_secret(k)}


def note_change(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: uuid.UUID,
    action: str = "update",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """Record a change made outside the ORM unit of work (e.g. a conditional UPDATE)."""
    session.info.setdefault(CHANGES_KEY, []).append(
        {
            "entity": entity,
            "id": str(entity_id),
            "action": action,
            "old": _clean(old or {}),
            "new": _clean(new or {}),
        }
    )


def note_target(session: AsyncSession, *, entity: str, entity_id: uuid.UUID | None, **details: Any) -> None:
    """What an operation is aimed at, recorded even when it fails (a failed sign-in names the
    account that was tried): the failure's audit row is written after the rollback."""
    session.info[TARGET_KEY] = {
        "entity": entity,
        "id": str(entity_id) if entity_id else "",
        "action": "attempt",
        "old": {},
        "new": _clean(details),
    }


def targets(session: AsyncSession) -> list[dict[str, Any]]:
    target = session.info.get(TARGET_KEY)
    return [target] if target is not None else []


def set_actor(session: AsyncSession, user_id: uuid.UUID, role: Role) -> None:
    """Name the actor when the request had none yet (login, register)."""
    session.info[ACTOR_KEY] = (user_id, role)


def note_created(session: AsyncSession, row: Any, *, table: str) -> None:
    """Record a row inserted outside the ORM unit of work (an INSERT … RETURNING), given as a
    `reads.row_class` snapshot."""
    values = {name: getattr(row, name) for name in row.__slots__}
    session.info.setdefault(CHANGES_KEY, []).append(_create_entry(table, values))


def _created(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return _create_entry(obj.__table__.name, {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs})


def _create_entry(table: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": table,
        "id": str(values.get("id") or ""),
        "action": "create",
        "old": {},
        "new": _clean(values),
    }


@event.listens_for(Session, "after_flush")
def _collect_changes(session: Session, _flush: UOWTransaction) -> None:
    changes = session.info.setdefault(CHANGES_KEY, [])
    for obj in session.new:
        if obj.__table__.name not in IGNORED_TABLES:
            changes.append(_created(obj))
    for obj in session.dirty:
        table = obj.__table__.name
        if table in IGNORED_TABLES:
            continue
        state = inspect(obj)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            if attr.key in {"updated_at", "created_at"}:
                continue
            history = state.attrs[attr.key].history
            if history.has_changes():
                old[attr.key] = history.deleted[0] if history.deleted else None
                new[attr.key] = history.added[0] if history.added else None
        if new:
            changes.append(
                {
                    "entity": table,
                    "id": str(getattr(obj, "id", "") or ""),
                    "action": "update",
                    "old": _clean(old),
                    "new": _clean(new),
                }
            )


def collected_changes(session: AsyncSession) -> list[dict[str, Any]]:
    return list(session.info.get(CHANGES_KEY, []))


def primary_entity(changes: list[dict[str, Any]]) -> tuple[str | None, uuid.UUID | None]:
    for change in changes:
        try:
            return change["entity"], uuid.UUID(change["id"])
        except (KeyError, ValueError):
            continue
    return None, None


def _clip(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    # Control characters would let a client forge lines in log viewers (S36).
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in value)
    return cleaned[:size]


_INSERT_ENTRY = insert(AuditLog)


async def write_entry(
    session: AsyncSession,
    *,
    operation: str,
    outcome: AuditOutcome,
    actor: tuple[uuid.UUID, Role] | None,
    meta: RequestMeta,
    duration_ms: int,
    changes: list[dict[str, Any]] | None = None,
    error_code: str | None = None,
) -> None:
    changes = changes or []
    entity_type, entity_id = primary_entity(changes)
    # One INSERT, without a unit-of-work flush (nothing reads the row back).
    await session.execute(
        _INSERT_ENTRY,
        [
            {
                "id": uuid.uuid4(),
                "actor_id": actor[0] if actor else None,
                "actor_role": actor[1] if actor else None,
                "operation": _clip(operation, 100) or "unknown",
                "entity_type": entity_type,
                "entity_id": entity_id,
                "changes": changes,
                "outcome": outcome,
                "error_code": error_code,
                "client_ip": _clip(meta.client_ip, 64),
                "user_agent": _clip(meta.user_agent, 300),
                "request_id": _clip(meta.request_id, 64),
                "duration_ms": max(0, duration_ms),
            }
        ],
    )
