"""The loan state machine.

    PENDING → APPROVED → DELIVERED → RETURNED
    PENDING → REJECTED (reason required) | CANCELLED (the requester)
    DELIVERED → OVERDUE (the periodic job) → RETURNED

Each transition is one conditional `UPDATE loans ... WHERE id = :id AND status IN (<from>)
AND <the caller may act> RETURNING` inside the mutation's transaction, so of two concurrent
requests at most one matches. No row: the loan is out of the caller's sight (NotFound), the
caller may see it but not act (PermissionDenied), or it is in another state (Conflict naming
it). What follows the update (stock movements, the capacity check of an approval) raises on
failure, and the transaction rolls back: a refused transition writes nothing.

Deciders are the ADMIN of the loan's warehouse and ADMIN_GENERAL; the requester cancels.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import InventoryItem, Loan, LoanStatus, Role
from graphql_api.errors import Conflict, NotFound, PermissionDenied
from graphql_api.services import audit
from graphql_api.services.loans.visibility import visible_loans

DECIDERS = frozenset({Role.ADMIN, Role.ADMIN_GENERAL})


class Actor(enum.Enum):
    DECIDER = "decider"
    REQUESTER = "requester"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Transition:
    sources: tuple[LoanStatus, ...]
    target: LoanStatus
    actor: Actor


APPROVE = Transition((LoanStatus.PENDING,), LoanStatus.APPROVED, Actor.DECIDER)
REJECT = Transition((LoanStatus.PENDING,), LoanStatus.REJECTED, Actor.DECIDER)
CANCEL = Transition((LoanStatus.PENDING,), LoanStatus.CANCELLED, Actor.REQUESTER)
DELIVER = Transition((LoanStatus.APPROVED,), LoanStatus.DELIVERED, Actor.DECIDER)
RETURN = Transition((LoanStatus.DELIVERED, LoanStatus.OVERDUE), LoanStatus.RETURNED, Actor.DECIDER)
MARK_OVERDUE = Transition((LoanStatus.DELIVERED,), LoanStatus.OVERDUE, Actor.SYSTEM)
TRANSITIONS = {
    "approve": APPROVE,
    "reject": REJECT,
    "cancel": CANCEL,
    "deliver": DELIVER,
    "return": RETURN,
    "mark_overdue": MARK_OVERDUE,
}

# The item's name, returned with the updated loan (what the notifications say).
ITEM_NAME = select(InventoryItem.name).where(InventoryItem.id == Loan.item_id).scalar_subquery().label("item_name")


def _may_act(principal: Principal, actor: Actor) -> ColumnElement[bool]:
    if actor is Actor.REQUESTER:
        return Loan.requester_id == scope.caller(principal)
    if actor is Actor.DECIDER and principal.role in DECIDERS:
        return environment_filter(principal, Loan.warehouse_id)
    return false()


def may_act(principal: Principal, actor: Actor, loan: Loan) -> bool:
    """The same rule as `_may_act`, for a loan the caller can see."""
    if actor is Actor.REQUESTER:
        return loan.requester_id == principal.id
    return actor is Actor.DECIDER and principal.role in DECIDERS


async def transition(
    session: AsyncSession, principal: Principal, loan_id: uuid.UUID, step: Transition, **values: Any
) -> tuple[Loan, str | None]:
    """Apply `step` to the loan with one conditional UPDATE; the loan as it is now and its
    item's name. `values` are the other columns the step sets."""
    stmt = (
        update(Loan)
        .where(Loan.id == loan_id, Loan.status.in_(step.sources), _may_act(principal, step.actor))
        .values(status=step.target, **values)
        .returning(Loan, ITEM_NAME)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        await explain(session, principal, loan_id, step)
    assert row is not None
    loan, item_name = row
    audit.note_change(
        session,
        entity="loans",
        entity_id=loan.id,
        old={"status": _previous(step)},
        new={name: getattr(loan, name) for name in ("status", *values)},
    )
    return loan, item_name


def _previous(step: Transition) -> str:
    return "|".join(status.value for status in step.sources)


async def visible_loan(session: AsyncSession, principal: Principal, loan_id: uuid.UUID) -> Loan:
    stmt = visible_loans(principal).where(Loan.id == loan_id).execution_options(populate_existing=True)
    loan: Loan | None = (await session.scalars(stmt)).one_or_none()
    if loan is None:
        raise NotFound("loan")
    return loan


async def explain(session: AsyncSession, principal: Principal, loan_id: uuid.UUID, step: Transition) -> None:
    """Why `step` matched no row (extra statements, on the failure path only)."""
    loan = await visible_loan(session, principal, loan_id)
    check_may(principal, step, loan)
    raise Conflict("error.conflict")


def check_may(principal: Principal, step: Transition, loan: Loan) -> None:
    """PermissionDenied or a Conflict naming the loan's state, unless `step` may be applied."""
    if not may_act(principal, step.actor, loan):
        raise PermissionDenied()
    if loan.status not in step.sources:
        raise Conflict("error.loan_wrong_status", status=loan.status.value)
