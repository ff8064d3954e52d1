"""The loans of the demo data: one loan in every state per center, made through the service
as the center's instructor asked and its warehouse administrator decided."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import Environment, InventoryItem, LoanPriority, LoanStatus, User
from graphql_api.services.loans.calendar import Calendar
from graphql_api.services.loans.operations import (
    ReturnCounts,
    approve_loan,
    cancel_loan,
    deliver_loan,
    reject_loan,
    return_loan,
)
from graphql_api.services.loans.overdue import mark_overdue
from graphql_api.services.loans.requests import LoanRequest, create_loan
from graphql_api.settings import Settings

# status, item (by name) or an unregistered one (None: described), quantity, first day (from
# today), days, purpose
_PLAN: list[tuple[LoanStatus, str | None, int, int, int, str]] = [
    (LoanStatus.PENDING, "Tableta gráfica", 2, 2, 3, "Taller de diseño digital"),
    (LoanStatus.PENDING, None, 2, 1, 1, "Presentación de proyectos en el auditorio"),
    (LoanStatus.APPROVED, "Computador de escritorio", 5, 3, 3, "Curso de ofimática para la ficha nocturna"),
    (LoanStatus.REJECTED, "Micrófono inalámbrico", 1, 4, 1, "Grabación de podcast"),
    (LoanStatus.CANCELLED, "Regleta multitoma", 3, 1, 2, "Feria de emprendimiento"),
    (LoanStatus.DELIVERED, "Cámara web", 2, 0, 3, "Clases virtuales de la semana"),
    (LoanStatus.RETURNED, "Teclado USB", 5, 0, 1, "Prueba de mecanografía"),
]
_LATE = ("Videoproyector", "Sustentación de proyectos")
_REJECTION = "El micrófono disponible está reservado para el auditorio esa semana."


async def demo_loans(session: AsyncSession, settings: Settings, warehouse: Environment, emails: dict[str, str]) -> None:
    """Loans of `warehouse` in every state; `emails` names the center's instructor and admin."""
    instructor, admin = await _principal(session, emails["instructor"]), await _principal(session, emails["admin"])
    stock = {
        item.name: item
        for item in await session.scalars(select(InventoryItem).where(InventoryItem.environment_id == warehouse.id))
    }
    calendar = Calendar.of(settings)
    for status, name, quantity, start, days, purpose in _PLAN:
        first = calendar.today + timedelta(days=start)
        loan = await create_loan(
            session,
            instructor,
            LoanRequest(
                warehouse_id=warehouse.id,
                item_id=stock[name].id if name is not None else None,
                item_description=None if name is not None else "Cable HDMI de 10 m",
                quantity=quantity,
                purpose=purpose,
                start_date=first,
                end_date=first + timedelta(days=days - 1),
                priority=LoanPriority.HIGH if status is LoanStatus.PENDING else LoanPriority.MEDIUM,
            ),
            calendar=calendar,
        )
        await _take_to(session, status, loan.id, instructor, admin, calendar)
    await _overdue(session, warehouse, stock[_LATE[0]], instructor, admin, calendar)


async def _take_to(
    session: AsyncSession, status: LoanStatus, loan_id: Any, requester: Principal, admin: Principal, calendar: Calendar
) -> None:
    if status is LoanStatus.REJECTED:
        await reject_loan(session, admin, loan_id, reason=_REJECTION)
    elif status is LoanStatus.CANCELLED:
        await cancel_loan(session, requester, loan_id)
    elif status is not LoanStatus.PENDING:
        await approve_loan(session, admin, loan_id, calendar=calendar)
        if status in (LoanStatus.DELIVERED, LoanStatus.RETURNED):
            await deliver_loan(session, admin, loan_id)
        if status is LoanStatus.RETURNED:
            counts = ReturnCounts(returned=4, damaged=1, notes="Una tecla suelta")
            await return_loan(session, admin, loan_id, counts, calendar=calendar)


async def _overdue(
    session: AsyncSession,
    warehouse: Environment,
    item: InventoryItem,
    requester: Principal,
    admin: Principal,
    calendar: Calendar,
) -> None:
    """Asked for, approved and handed out ten days ago for three days; the job marks it."""
    then = Calendar(calendar.timezone, calendar.now - timedelta(days=10))
    request = LoanRequest(
        warehouse_id=warehouse.id,
        item_id=item.id,
        quantity=1,
        purpose=_LATE[1],
        start_date=then.today,
        end_date=then.today + timedelta(days=2),
    )
    loan = await create_loan(session, requester, request, calendar=then)
    await approve_loan(session, admin, loan.id, calendar=then)
    await deliver_loan(session, admin, loan.id)
    await mark_overdue(session, today=calendar.today)


async def _principal(session: AsyncSession, email: str) -> Principal:
    row = (
        await session.execute(
            select(User, Environment.center_id)
            .join(Environment, Environment.id == User.environment_id)
            .where(User.email == email)
        )
    ).one()
    user: User = row[0]
    return Principal(user.id, user.role, user.environment_id, row[1], "es", user.token_version)
