"""`loans.duties`: the loans awaiting the caller, with the step and the day it is due. Deciders
(the warehouse's ADMIN, ADMIN_GENERAL) decide, deliver and receive; the requester returns;
nobody else has a duty, and a decider never has one for another warehouse's loans."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.auth.scope import Principal
from graphql_api.db import models
from graphql_api.services import loans
from graphql_api.settings import Settings
from tests.api.loans.helpers import make_loan, today
from tests.conftest import Factory, World

L = models.LoanStatus


async def duties(db: async_sessionmaker[AsyncSession], who: Principal) -> set[tuple[uuid.UUID, str, date]]:
    async with db() as session:
        rows = (await session.execute(loans.duties(who))).all()
    return {(loan.id, duty, due) for loan, duty, due in rows}


async def test_each_role_gets_its_own_steps(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, settings: Settings
) -> None:
    w, t = world, today(settings)
    item = w.items["aw"][1]
    made = {}
    for status in (L.PENDING, L.APPROVED, L.DELIVERED, L.OVERDUE, L.RETURNED, L.REJECTED, L.CANCELLED):
        days_ago = 10 if status is L.OVERDUE else 0
        made[status] = await make_loan(
            db, settings, w.instructor, w.admin, w.aw, item=item, status=status, start=1, days_ago=days_ago
        )
    own = await make_loan(db, settings, w.admin, w.admin, w.aw, item=item, status=L.DELIVERED, start=1)
    teacher_b = await factory.user(models.Role.INSTRUCTOR, w.b1)
    other = await make_loan(db, settings, teacher_b, w.admin_b, w.bw, item=w.items["bw"][1])
    end = t + timedelta(days=2)
    overdue_end = t - timedelta(days=8)
    for_admin = {
        (made[L.PENDING].id, "DECIDE", t + timedelta(days=1)),
        (made[L.APPROVED].id, "DELIVER", t + timedelta(days=1)),
        (made[L.DELIVERED].id, "RECEIVE", end),
        (made[L.OVERDUE].id, "RECEIVE", overdue_end),
        (own.id, "RECEIVE", end),  # their own request: one row, the decider's
    }
    assert await duties(db, w.admin.principal) == for_admin
    assert await duties(db, w.instructor.principal) == {
        (made[L.DELIVERED].id, "RETURN", end),
        (made[L.OVERDUE].id, "RETURN", overdue_end),
    }
    assert await duties(db, w.admin_general.principal) == for_admin | {(other.id, "DECIDE", t)}
    assert await duties(db, w.admin_b.principal) == {(other.id, "DECIDE", t)}
    for nobody in (w.supervisor, w.student, teacher_b):
        assert await duties(db, nobody.principal) == set()
