"""Loan requests: who may ask for what, and idempotent creation.

INSTRUCTORs request from a warehouse of their own center, ADMINs from their own warehouse
(both: a warehouse in the caller's scope). A request names a registered item of that
warehouse and a quantity it could lend at all, or describes an unregistered item (no stock:
nothing is reserved or moved for it); its dates run from today or later, end >= start.

With an `idempotency_key`, the request is stored with a hash of its normalized input under a
unique (requester, key) index: the same key again returns the first loan (no second
notification, nothing written), the same key with another input is a ValidationError, and two
first uses at once end with one loan (INSERT ... ON CONFLICT DO NOTHING, then read the winner).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import MAX_QUANTITY, Environment, InventoryItem, ItemStatus, Loan, LoanPriority, Role, User
from graphql_api.errors import FieldErrors, NotFound, ValidationFailed
from graphql_api.services import audit, notifications, validation
from graphql_api.services.loans.calendar import Calendar
from graphql_api.services.loans.messages import params_of, publish_change
from graphql_api.services.loans.reservations import lendable

MAX_LOAN_DAYS = 366


@dataclass(frozen=True, slots=True)
class LoanRequest:
    """A request as given, before it is checked."""

    warehouse_id: uuid.UUID
    quantity: int
    purpose: str
    start_date: date
    end_date: date
    item_id: uuid.UUID | None = None
    item_description: str | None = None
    priority: LoanPriority = LoanPriority.MEDIUM


async def create_loan(
    session: AsyncSession,
    principal: Principal,
    request: LoanRequest,
    *,
    calendar: Calendar,
    idempotency_key: str | None = None,
) -> Loan:
    """A new PENDING loan; the warehouse's administrators are told. See the module's docstring."""
    errors = FieldErrors()
    key = validation.text(errors, "idempotencyKey", idempotency_key, max_len=100)
    errors.raise_if_any()
    request = _normalized(request)
    digest = _digest(request)
    if key is not None:
        earlier = await _by_key(session, principal, key)
        if earlier is not None:
            return _replayed(earlier, digest)
    _, item = await _check(session, principal, request, calendar.today)
    loan = await _insert(session, principal, request, key, digest)
    if loan is None:  # a concurrent first use of the key committed first
        earlier = await _by_key(session, principal, key or "")
        assert earlier is not None
        return _replayed(earlier, digest)
    audit.note_change(session, entity="loans", entity_id=loan.id, action="create", new=_audited(loan))
    await _tell_administrators(session, principal, loan, item.name if item is not None else None)
    publish_change(session, loan)
    return loan


def _normalized(request: LoanRequest) -> LoanRequest:
    purpose = request.purpose.strip()
    description = request.item_description.strip() if request.item_description is not None else None
    return LoanRequest(**{**asdict(request), "purpose": purpose, "item_description": description or None})


def _digest(request: LoanRequest) -> str:
    payload = {name: str(value) if value is not None else None for name, value in asdict(request).items()}
    payload["priority"] = request.priority.name
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _by_key(session: AsyncSession, principal: Principal, key: str) -> Loan | None:
    stmt = select(Loan).where(Loan.requester_id == principal.id, Loan.idempotency_key == key)
    loan: Loan | None = (await session.scalars(stmt)).one_or_none()
    return loan


def _replayed(loan: Loan, digest: str) -> Loan:
    if loan.request_hash != digest:
        raise ValidationFailed.single("idempotencyKey", "field.idempotency_key_reused")
    return loan


async def _check(
    session: AsyncSession, principal: Principal, request: LoanRequest, today: date
) -> tuple[Environment, InventoryItem | None]:
    warehouse = await _warehouse(session, principal, request.warehouse_id)
    errors = FieldErrors()
    if not warehouse.is_warehouse:
        errors.add("warehouseId", "field.not_a_warehouse")
    elif not warehouse.is_active:
        errors.add("warehouseId", "field.environment_inactive")
    item = await _item(session, principal, errors, request, warehouse)
    validation.text(errors, "purpose", request.purpose, max_len=2000, required=True)
    validation.int_range(errors, "quantity", request.quantity, minimum=1, maximum=MAX_QUANTITY)
    _check_dates(errors, request, today)
    errors.raise_if_any()
    return warehouse, item


async def _warehouse(session: AsyncSession, principal: Principal, warehouse_id: uuid.UUID) -> Environment:
    stmt = select(Environment).where(Environment.id == warehouse_id, environment_filter(principal, Environment.id))
    warehouse: Environment | None = (await session.scalars(stmt)).one_or_none()
    if warehouse is None:
        raise NotFound("environment")
    return warehouse


async def _item(
    session: AsyncSession, principal: Principal, errors: FieldErrors, request: LoanRequest, warehouse: Environment
) -> InventoryItem | None:
    if (request.item_id is None) == (request.item_description is None):
        field = "itemDescription" if request.item_id is not None else "itemId"
        errors.add(field, "field.item_or_description")
        return None
    if request.item_description is not None:
        validation.text(errors, "itemDescription", request.item_description, max_len=200)
        return None
    stmt = select(InventoryItem).where(
        InventoryItem.id == request.item_id, environment_filter(principal, InventoryItem.environment_id)
    )
    item: InventoryItem | None = (await session.scalars(stmt)).one_or_none()
    if item is None:
        errors.add("itemId", "field.not_found")
    elif item.environment_id != warehouse.id:
        errors.add("itemId", "field.item_not_in_warehouse")
    elif item.status is ItemStatus.RETIRED:
        errors.add("itemId", "field.item_retired")
    elif request.quantity > lendable(item):
        errors.add("quantity", "field.exceeds_lendable", max=lendable(item))
    return item


def _check_dates(errors: FieldErrors, request: LoanRequest, today: date) -> None:
    if request.start_date < today:
        errors.add("startDate", "field.date_in_past")
    if request.end_date < request.start_date:
        errors.add("endDate", "field.date_order")
    elif (request.end_date - request.start_date).days + 1 > MAX_LOAN_DAYS:
        errors.add("endDate", "field.loan_too_long", max=MAX_LOAN_DAYS)


async def _insert(
    session: AsyncSession, principal: Principal, request: LoanRequest, key: str | None, digest: str
) -> Loan | None:
    values: dict[str, Any] = {
        **asdict(request),
        "requester_id": principal.id,
        "requester_role": principal.role,
        "idempotency_key": key,
        "request_hash": digest if key is not None else None,
    }
    stmt = (
        insert(Loan)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["requester_id", "idempotency_key"], index_where=text("idempotency_key IS NOT NULL")
        )
        .returning(Loan)
    )
    loan: Loan | None = (await session.scalars(stmt)).one_or_none()
    return loan


def _audited(loan: Loan) -> dict[str, Any]:
    names = ("warehouse_id", "item_id", "item_description", "requester_id", "quantity", "purpose", "priority")
    return {name: getattr(loan, name) for name in (*names, "start_date", "end_date", "status")}


async def _tell_administrators(session: AsyncSession, principal: Principal, loan: Loan, item_name: str | None) -> None:
    admins = await notifications.users_reaching(session, loan.warehouse_id, [Role.ADMIN])
    recipients = [admin for admin in admins if admin != principal.id]
    if not recipients:
        return
    name = func.concat_ws(" ", User.first_name, User.last_name)
    requester = await session.scalar(select(name).where(User.id == principal.id))
    await notifications.notify(
        session,
        recipients,
        "loan.requested",
        params=params_of(loan, item_name, requester=requester or ""),
        subject=("Loan", loan.id),
    )
