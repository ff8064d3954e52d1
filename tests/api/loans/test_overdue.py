"""The periodic job: delivered loans past their end date (in APP_TIMEZONE) become OVERDUE,
their requesters are told, and one LOAN_OVERDUE alert is raised per loan, whatever how often
the job runs. The clock is moved, never slept on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import run_due
from graphql_api.services import alerts, loans
from graphql_api.settings import Settings
from tests.api.loans.graphql import act
from tests.api.loans.helpers import make_loan, status_of, today
from tests.conftest import GraphQLClient, World, gid, make_settings

Status = models.LoanStatus
(JOB,) = [job for job in JOBS if job.name == "mark_overdue_loans"]


async def overdue_alerts(db: async_sessionmaker[AsyncSession]) -> list[tuple[uuid.UUID, models.AlertStatus]]:
    async with db() as session:
        rows = await session.execute(
            select(models.SystemAlert.subject_id, models.SystemAlert.status).where(
                models.SystemAlert.alert_type == models.AlertType.LOAN_OVERDUE,
                models.SystemAlert.subject_type == "Loan",
            )
        )
        return sorted((row[0], row[1]) for row in rows.all())


async def count(db: async_sessionmaker[AsyncSession], model: Any, *conditions: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def at(day: Any, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


async def test_the_job_marks_each_late_loan_once(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]

    async def delivered(**values: Any) -> models.Loan:
        return await make_loan(db, settings, world.instructor, world.admin, world.aw, status=Status.DELIVERED, **values)

    late = [
        await delivered(item=item, quantity=2, days=3, days_ago=6),  # due three days ago
        await delivered(description="Router", days=1, days_ago=1),  # due yesterday
    ]
    due_today = await delivered(item=item, days=1)
    approved_late = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.APPROVED, item=item, days=1, days_ago=2
    )
    # Before the job runs, the API already says so.
    query = "query($id: ID!) { loan(id: $id) { isOverdue status } }"
    seen = await gql.data(query, {"id": gid("Loan", late[0].id)}, token=world.instructor)
    assert seen["loan"] == {"isOverdue": True, "status": "DELIVERED"}

    assert list((await run_due(db, settings, [JOB])).ran) == ["mark_overdue_loans"]
    assert [await status_of(db, loan.id) for loan in late] == [Status.OVERDUE, Status.OVERDUE]
    assert await status_of(db, due_today.id) is Status.DELIVERED
    assert await status_of(db, approved_late.id) is Status.APPROVED  # never delivered: nothing is out
    assert await overdue_alerts(db) == sorted((loan.id, models.AlertStatus.OPEN) for loan in late)
    async with db() as session:
        told = (
            await session.execute(
                select(models.Notification.subject_id, models.Notification.priority, models.Notification.params).where(
                    models.Notification.kind == "loan.overdue", models.Notification.recipient_id == world.instructor.id
                )
            )
        ).all()
        run = await session.scalar(select(models.JobRun).where(models.JobRun.job == JOB.name))
    assert sorted(row[0] for row in told) == sorted(loan.id for loan in late)
    assert {row[1] for row in told} == {models.NotificationPriority.HIGH}
    assert {row[2]["item"] for row in told} == {item.name, "Router"}
    assert run is not None
    assert run.detail == {"marked": 2, "alerts": 2}

    # Again, and later: nothing new, even after an alert was resolved.
    async with db.begin() as session:
        await session.execute(
            update(models.SystemAlert)
            .where(models.SystemAlert.subject_id == late[0].id)
            .values(status=models.AlertStatus.RESOLVED)
        )
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert list((await run_due(db, settings, [JOB], now=later, force=True)).ran) == ["mark_overdue_loans"]
    assert len(await overdue_alerts(db)) == 2
    assert await count(db, models.Notification, models.Notification.kind == "loan.overdue") == 2
    # An overdue loan comes back like a delivered one.
    back = await act(gql, "returnLoan", late[0], world.admin, returned=2)
    assert back["loan"]["status"] == "RETURNED"
    assert back["loan"]["isOverdue"] is False


async def test_due_dates_are_local_days(db: async_sessionmaker[AsyncSession], settings: Settings, world: World) -> None:
    day = today(settings)
    # Due tomorrow, local time (America/Bogota, UTC-5).
    loan = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.DELIVERED, description="Router", days=2
    )
    due = day + timedelta(days=1)
    assert loan.end_date == due
    # 03:00 UTC the day after is still 22:00 of the due date in Bogotá: not overdue yet.
    assert (await run_due(db, settings, [JOB], now=at(due + timedelta(days=1), 3), force=True)).ran == {
        "mark_overdue_loans": {"marked": 0, "alerts": 0}
    }
    assert await status_of(db, loan.id) is Status.DELIVERED
    # 06:00 UTC is 01:00 the next day there.
    assert (await run_due(db, settings, [JOB], now=at(due + timedelta(days=1), 6), force=True)).ran == {
        "mark_overdue_loans": {"marked": 1, "alerts": 1}
    }
    assert await status_of(db, loan.id) is Status.OVERDUE
    # With APP_TIMEZONE=UTC the first moment would have been late already.
    utc = make_settings(APP_TIMEZONE="UTC")
    assert loans.Calendar.of(utc, at(due + timedelta(days=1), 3)).today == due + timedelta(days=1)


async def test_the_job_costs_a_fixed_number_of_statements_besides_its_alerts(
    db: async_sessionmaker[AsyncSession], settings: Settings, world: World, count_statements: Any
) -> None:
    # What one more raise_alert costs (the alerts domain owns it).
    async def raising(times: int) -> int:
        with count_statements() as counted:
            async with db.begin() as session:
                for _ in range(times):
                    await alerts.raise_alert(
                        session, models.AlertType.LOAN_OVERDUE, models.AlertSeverity.LOW,
                        subject_type="Loan", subject_id=uuid.uuid4(), environment_id=world.aw.id,
                        params={"item": "x", "environment": "w", "requester": "r", "due_date": "2026-01-01"},
                    )  # fmt: skip
        return counted.value

    per_alert = await raising(2) - await raising(1)
    measured = {}
    for size in (2, 10):
        for _ in range(size):
            await make_loan(
                db, settings, world.instructor, world.admin, world.aw, status=Status.DELIVERED, description="Cable"
            )
        with count_statements() as counted:
            async with db.begin() as session:
                result = await loans.mark_overdue(session, today=today(settings) + timedelta(days=5))
        assert result == {"marked": size, "alerts": size}
        measured[size] = counted.value - size * per_alert
    # The UPDATE ... RETURNING with the items' names, the notifications, the outbox at commit.
    assert measured == {2: 3, 10: 3}
