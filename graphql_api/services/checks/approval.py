"""The supervisor's stage: approve (the findings reach the inventory) or reject (back to the
instructor with a reason). Each decision is kept as a review row.

How findings are applied: the check captured, per item, the damaged and missing units already
known at its start; the students' counts are compared with that capture, and only the
difference is applied, as a VERIFICATION_FINDING movement (never an overwrite of the item).
Units that moved since the start (a loan delivered, units sent to maintenance) are not undone:
the difference is applied to the item as it is now, limited to what its buckets allow (a
decrease to the units still in the bucket, an increase to the units still available), and the
movement's note says when it was limited. An item retired since the start is left as it is.
Newly missing units raise EQUIPMENT_MISSING; newly damaged units open one maintenance request
per item. Everything happens in the approval's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    CheckItem,
    CheckReview,
    Environment,
    InventoryCheck,
    InventoryItem,
    ItemStatus,
    MaintenancePriority,
    MovementReason,
    NotificationPriority,
    ReviewDecision,
)
from graphql_api.errors import FieldErrors
from graphql_api.services import alerts, maintenance, validation
from graphql_api.services.checks import messages
from graphql_api.services.checks.workflow import APPROVE, REJECT, transition
from graphql_api.services.ledger import MovementLinks, StockDelta, apply_movement


async def approve_check(
    session: AsyncSession, principal: Principal, check_id: uuid.UUID, *, comments: str | None
) -> InventoryCheck:
    errors = FieldErrors()
    clean = validation.text(errors, "comments", comments, max_len=2000)
    errors.raise_if_any()
    values = {"approved_by_id": principal.id, "approved_at": func.now()}
    check = await transition(session, principal, check_id, APPROVE, values)
    assert check is not None
    await _review(session, principal, check, ReviewDecision.APPROVED, clean)
    await apply_findings(session, principal, check)
    people = [*messages.students_of(check), *([check.instructor_id] if check.instructor_id else [])]
    await messages.tell(session, check, "check.approved", people)
    return check


async def reject_check(
    session: AsyncSession, principal: Principal, check_id: uuid.UUID, *, reason: str
) -> InventoryCheck:
    errors = FieldErrors()
    clean = validation.required_text(errors, "reason", reason, max_len=2000)
    errors.raise_if_any()
    check = await transition(session, principal, check_id, REJECT, {})
    assert check is not None
    await _review(session, principal, check, ReviewDecision.REJECTED, clean)
    people = [*messages.students_of(check), *([check.instructor_id] if check.instructor_id else [])]
    await messages.tell(session, check, "check.rejected", people, priority=NotificationPriority.HIGH, reason=clean)
    return check


async def _review(
    session: AsyncSession, principal: Principal, check: InventoryCheck, decision: ReviewDecision, comments: str | None
) -> None:
    await session.execute(
        insert(CheckReview).values(
            id=uuid.uuid4(), check_id=check.id, reviewer_id=principal.id, decision=decision, comments=comments
        )
    )


@dataclass(frozen=True, slots=True)
class Finding:
    damaged: int  # units to add to (or, negative, take from) the damaged bucket
    missing: int
    limited: bool  # the item's buckets did not allow the whole difference


def finding(record: CheckItem, item: InventoryItem) -> Finding:
    """The difference between what was found and what was known at the start, as the item as
    it is now can take it."""
    damaged = max(record.damaged or 0, 0) - record.known_damaged
    missing = max(record.missing or 0, 0) - record.known_missing
    applied_damaged = max(damaged, -item.quantity_damaged)
    applied_missing = max(missing, -item.quantity_missing)
    room = item.quantity_available - min(applied_damaged, 0) - min(applied_missing, 0)
    if applied_missing > 0:
        applied_missing = min(applied_missing, room)
        room -= applied_missing
    if applied_damaged > 0:
        applied_damaged = min(applied_damaged, room)
    return Finding(applied_damaged, applied_missing, (applied_damaged, applied_missing) != (damaged, missing))


async def apply_findings(session: AsyncSession, principal: Principal, check: InventoryCheck) -> None:
    """Every item whose findings differ from the capture, locked in one statement (in id
    order, as every writer of items locks them), then moved one by one."""
    differs = or_(CheckItem.damaged != CheckItem.known_damaged, CheckItem.missing != CheckItem.known_missing)
    rows = (
        await session.execute(
            select(CheckItem, InventoryItem)
            .join(InventoryItem, InventoryItem.id == CheckItem.item_id)
            .where(CheckItem.check_id == check.id, differs, InventoryItem.status == ItemStatus.ACTIVE)
            .order_by(InventoryItem.id)
            .with_for_update(of=InventoryItem)
        )
    ).all()
    room = await session.scalar(select(Environment.name).where(Environment.id == check.environment_id))
    for record, item in rows:
        await _apply(session, principal, check, item, finding(record, item), str(room))


async def _apply(
    session: AsyncSession, principal: Principal, check: InventoryCheck, item: InventoryItem, found: Finding, room: str
) -> None:
    if found.damaged == 0 and found.missing == 0:
        return
    item_id, name, code, environment_id = item.id, item.name, item.internal_code, item.environment_id
    note = f"check {check.check_date.isoformat()}" + (
        " (limited: units moved since the start)" if found.limited else ""
    )
    await apply_movement(
        session,
        item_id=item_id,
        reason=MovementReason.VERIFICATION_FINDING,
        delta=StockDelta(damaged=found.damaged, missing=found.missing),
        actor_id=principal.id,
        links=MovementLinks(check_id=check.id),
        note=note,
    )
    session.expire(item)  # moved by the ledger's own statement: whoever reads it next reloads it
    day = check.check_date.isoformat()
    if found.missing > 0:
        await alerts.raise_alert(
            session,
            AlertType.EQUIPMENT_MISSING,
            AlertSeverity.HIGH,
            subject_type="InventoryItem",
            subject_id=item_id,
            environment_id=environment_id,
            params={"item": name, "code": code, "environment": room, "missing": found.missing},
        )
    if found.damaged > 0:
        await maintenance.open_request(
            session,
            principal,
            item_id=item_id,
            units=found.damaged,
            title=f"{name}: {found.damaged} dañado(s) en la verificación del {day}",
            description=f"Encontrados dañados en la verificación diaria del {day}.",
            priority=MaintenancePriority.MEDIUM,
            units_already_damaged=True,
        )
