"""The request's state machine:

    PENDING → ASSIGNED → IN_PROGRESS → COMPLETED;  CANCELLED from any state but COMPLETED

Each transition is one conditional `UPDATE … WHERE id AND status IN (allowed) AND <who may>
RETURNING …` in the caller's transaction, so of two concurrent calls one wins and the other
matches nothing. Nothing else happens before it matches: no movement, notification or event.
When it matches nothing, `_refusal` says why (NotFound out of scope, PermissionDenied for the
wrong person, Conflict with the current status). Reassigning is the assign transition from
ASSIGNED.

Who: SUPERVISOR (scope), ADMIN (own warehouse) and ADMIN_GENERAL manage (the item managers,
`manage_items_filter`); the assignee may also start and complete; the requester may also cancel
while the request is PENDING.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter, user_filter
from graphql_api.db.models import (
    Environment,
    InventoryItem,
    MaintenanceRecord,
    MaintenanceRequest,
    MaintenanceStatus,
    MovementReason,
    User,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from graphql_api.services import audit, notifications, validation
from graphql_api.services.ledger import MovementLinks, StockDelta, apply_movement
from graphql_api.services.maintenance.history import RecordFields, checked_fields, write_record
from graphql_api.services.maintenance.requests import publish_change

R = MaintenanceRequest
S = MaintenanceStatus


class Who(enum.Enum):
    MANAGERS = "managers"
    MANAGERS_OR_ASSIGNEE = "managers or the assignee"
    MANAGERS_OR_PENDING_REQUESTER = "managers, or the requester while pending"


@dataclass(frozen=True, slots=True)
class Transition:
    allowed: tuple[MaintenanceStatus, ...]
    to: MaintenanceStatus
    stamp: str  # the column that records when
    who: Who
    kind: str  # the notification sent to the requester and the assignee


TRANSITIONS = {
    "assign": Transition((S.PENDING, S.ASSIGNED), S.ASSIGNED, "assigned_at", Who.MANAGERS, "maintenance.assigned"),
    "start": Transition((S.ASSIGNED,), S.IN_PROGRESS, "started_at", Who.MANAGERS_OR_ASSIGNEE, "maintenance.started"),
    "complete": Transition(
        (S.IN_PROGRESS,), S.COMPLETED, "completed_at", Who.MANAGERS_OR_ASSIGNEE, "maintenance.completed"
    ),
    "cancel": Transition(
        (S.PENDING, S.ASSIGNED, S.IN_PROGRESS),
        S.CANCELLED,
        "cancelled_at",
        Who.MANAGERS_OR_PENDING_REQUESTER,
        "maintenance.cancelled",
    ),
}


@dataclass(frozen=True, slots=True)
class Applied:
    """The request after a transition, and what it was before."""

    request: MaintenanceRequest
    old_status: MaintenanceStatus
    old_assignee: uuid.UUID | None


def _may(principal: Principal, who: Who) -> ColumnElement[bool]:
    manager = manage_items_filter(principal, R.environment_id)
    caller = scope.caller(principal)
    if who is Who.MANAGERS:
        return manager
    if who is Who.MANAGERS_OR_ASSIGNEE:
        return or_(manager, R.assignee_id == caller)
    return or_(manager, and_(R.requester_id == caller, R.status == S.PENDING))


async def _apply(
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    transition: Transition,
    values: dict[str, Any],
    *conditions: ColumnElement[bool],
    otherwise: Callable[[int | None], Exception] | None = None,
) -> Applied:
    """Run the transition's conditional UPDATE; `conditions` are further rules of the call,
    and `otherwise` the error when only those fail (given the request's units)."""
    now = func.now()  # the transaction's time, like the ledger's
    stmt = (
        update(R)
        .where(
            R.id == request_id,
            R.status.in_(transition.allowed),
            environment_filter(principal, R.environment_id),
            _may(principal, transition.who),
            *conditions,
        )
        .values(status=transition.to, updated_at=now, **{transition.stamp: now}, **values)
        # PostgreSQL 18's RETURNING old.*: the previous state, read under the row lock.
        .returning(
            R,
            literal_column("old.status", R.__table__.c.status.type),
            literal_column("old.assignee_id", UUID(as_uuid=True)),
        )
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        units = await _refusal(session, principal, request_id, transition)
        raise otherwise(units) if otherwise is not None else Conflict()
    request, old_status, old_assignee = row
    audit.note_change(
        session,
        entity=R.__tablename__,
        entity_id=request.id,
        old={"status": old_status, **({"assignee_id": old_assignee} if "assignee_id" in values else {})},
        new={"status": transition.to, **values},
    )
    return Applied(request, old_status, old_assignee)


async def _refusal(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, transition: Transition
) -> int | None:
    """The transition matched nothing: raise why (costs a statement, on the failure path only).
    Returns the request's units when the request, the caller and the status were all fine."""
    manager = manage_items_filter(principal, R.environment_id).label("manager")
    found = (
        await session.execute(
            select(R.status, R.assignee_id, R.requester_id, manager, R.units).where(
                R.id == request_id, environment_filter(principal, R.environment_id)
            )
        )
    ).one_or_none()
    if found is None:
        raise NotFound("maintenance_request")
    status, assignee, requester, is_manager, units = found
    if not is_manager:
        if transition.who is Who.MANAGERS:
            raise PermissionDenied()
        person = assignee if transition.who is Who.MANAGERS_OR_ASSIGNEE else requester
        if person != principal.id:
            raise PermissionDenied()
        if transition.who is Who.MANAGERS_OR_PENDING_REQUESTER and status is not S.PENDING:
            raise Conflict("error.maintenance_wrong_status", status=status.value)
    if status not in transition.allowed:
        raise Conflict("error.maintenance_wrong_status", status=status.value)
    return units


async def assign_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, assignee_id: uuid.UUID
) -> MaintenanceRequest:
    """Assign a PENDING request, or reassign an ASSIGNED one, to an active user whose scope
    contains the request's environment (and whom the caller can see)."""
    environment_id = await session.scalar(
        select(R.environment_id).where(R.id == request_id, environment_filter(principal, R.environment_id))
    )
    if environment_id is None:
        raise NotFound("maintenance_request")
    assignee_name = await _assignee(session, principal, assignee_id, environment_id)
    applied = await _apply(session, principal, request_id, TRANSITIONS["assign"], {"assignee_id": assignee_id})
    await _tell(session, principal, applied, TRANSITIONS["assign"], assignee=assignee_name)
    return applied.request


async def _assignee(
    session: AsyncSession, principal: Principal, assignee_id: uuid.UUID, environment_id: uuid.UUID
) -> str:
    found = (
        await session.execute(
            select(User.is_active, User.first_name, User.last_name, scope.reaches(environment_id)).where(
                User.id == assignee_id, user_filter(principal)
            )
        )
    ).one_or_none()
    errors = FieldErrors()
    if found is None:
        errors.add("assigneeId", "field.not_found")
    elif not found[0]:
        errors.add("assigneeId", "field.maintenance_user_inactive")
    elif not found[3]:
        errors.add("assigneeId", "field.maintenance_assignee_out_of_scope")
    errors.raise_if_any()
    assert found is not None
    return f"{found[1]} {found[2]}"


async def start_request(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> MaintenanceRequest:
    """Start the work: the request's units move into the in-maintenance bucket
    (MAINTENANCE_OUT), from the available units or, for units found damaged, from the damaged
    bucket. Units that are not there make it a Conflict, and nothing changes."""
    applied = await _apply(session, principal, request_id, TRANSITIONS["start"], {})
    request = applied.request
    if request.item_id is not None:
        units = request.units or 0
        taken_from_damaged = units if request.units_already_damaged else 0
        delta = StockDelta(damaged=-taken_from_damaged, in_maintenance=units)
        await _move(session, principal, request, MovementReason.MAINTENANCE_OUT, delta)
    await _tell(session, principal, applied, TRANSITIONS["start"])
    return request


async def complete_request(
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    *,
    returned_damaged: int,
    fields: RecordFields,
    today: date,
) -> tuple[MaintenanceRequest, MaintenanceRecord]:
    """Finish the work: write its history record (moving the item's maintenance dates) and
    return the units (MAINTENANCE_RETURN): available again, except `returned_damaged` of them,
    which go to the damaged bucket."""
    errors = FieldErrors()
    clean = checked_fields(errors, fields, today)
    validation.int_range(errors, "returnedDamaged", returned_damaged, minimum=0)
    errors.raise_if_any()
    fits = func.coalesce(R.units, 0) >= returned_damaged

    def too_many(units: int | None) -> Exception:
        return ValidationFailed.single("returnedDamaged", "field.max_value", max=units or 0)

    values = {"returned_damaged": returned_damaged}
    applied = await _apply(session, principal, request_id, TRANSITIONS["complete"], values, fits, otherwise=too_many)
    request = applied.request
    if request.item_id is not None:
        units = request.units or 0
        await _move(
            session,
            principal,
            request,
            MovementReason.MAINTENANCE_RETURN,
            StockDelta(damaged=returned_damaged, in_maintenance=-units),
        )
    record = await write_record(
        session,
        principal.id,
        item_id=request.item_id,
        environment_id=request.environment_id,
        request_id=request.id,
        fields=clean,
    )
    await _tell(session, principal, applied, TRANSITIONS["complete"])
    return request, record


async def cancel_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, reason: str | None = None
) -> MaintenanceRequest:
    """Cancel a request that is not completed; an IN_PROGRESS one returns its units to where
    they came from (available, or damaged for units found damaged: they were not repaired)."""
    errors = FieldErrors()
    clean_reason = validation.text(errors, "reason", reason, max_len=2000)
    errors.raise_if_any()
    applied = await _apply(session, principal, request_id, TRANSITIONS["cancel"], {"cancellation_reason": clean_reason})
    request = applied.request
    if applied.old_status is S.IN_PROGRESS and request.item_id is not None:
        units = request.units or 0
        damaged = units if request.units_already_damaged else 0
        delta = StockDelta(damaged=damaged, in_maintenance=-units)
        await _move(session, principal, request, MovementReason.MAINTENANCE_RETURN, delta)
    await _tell(session, principal, applied, TRANSITIONS["cancel"])
    return request


async def _move(
    session: AsyncSession, principal: Principal, request: MaintenanceRequest, reason: MovementReason, delta: StockDelta
) -> None:
    """The request's stock movement, through the ledger. Scope was settled by the transition
    (the assignee need not manage items), so the ledger gets no principal to check."""
    try:
        await apply_movement(
            session,
            item_id=request.item_id,
            reason=reason,
            delta=delta,
            actor_id=principal.id,
            links=MovementLinks(maintenance_request_id=request.id),
        )
    except ValidationFailed:
        raise Conflict("error.maintenance_units_unavailable", units=request.units) from None


async def _tell(
    session: AsyncSession, principal: Principal, applied: Applied, transition: Transition, *, assignee: str = ""
) -> None:
    """Notify the requester and the assignee (and a replaced assignee), not the caller; publish
    the change."""
    request = applied.request
    place = await session.scalar(
        select(func.coalesce(InventoryItem.name, Environment.name))
        .select_from(Environment)
        .outerjoin(InventoryItem, InventoryItem.id == request.item_id)
        .where(Environment.id == request.environment_id)
    )
    people = (request.requester_id, request.assignee_id, applied.old_assignee)
    recipients = [user for user in dict.fromkeys(people) if user is not None and user != principal.id]
    await notifications.notify(
        session,
        recipients,
        transition.kind,
        params={"title": request.title, "place": place or "", "assignee": assignee},
        subject=("MaintenanceRequest", request.id),
    )
    publish_change(session, request)
