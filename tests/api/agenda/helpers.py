"""The agenda's scene (classes, checks, loans, maintenance of world A and B, each named) and the
query that reads it back as names."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import maintenance
from graphql_api.settings import Settings
from tests.api.checks.helpers import S, Walker
from tests.api.loans.helpers import make_loan
from tests.api.maintenance.helpers import advance, open_for_item
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

L = models.LoanStatus
M = models.MaintenanceStatus

AGENDA = """query ($from: Date!, $to: Date!) { myAgenda(from: $from, to: $to) {
  from to today truncated
  entries {
    __typename
    ... on AgendaClass { date startTime endTime checkStatus schedule { id } inventoryCheck { id status } }
    ... on AgendaCheckReview { date late check { id status } }
    ... on AgendaLoan { date late action loan { id status } }
    ... on AgendaMaintenanceRequest { date late request { id status } }
    ... on AgendaMaintenancePlan { date late plan { id } }
  } } }"""


@dataclass
class Scene:
    world: World
    today: date
    people: dict[str, Actor]
    names: dict[str, str] = field(default_factory=dict)  # global id -> name

    def name(self, type_name: str, value: uuid.UUID, name: str) -> None:
        self.names[gid(type_name, value)] = name

    def entry(self, entry: dict[str, Any]) -> tuple[str, str, date]:
        """(type, name of what it is about, date): a class is named by its slot and day."""
        typename = entry["__typename"].removeprefix("Agenda")
        inner = {"Class": "schedule", "CheckReview": "check", "Loan": "loan"}.get(typename)
        inner = inner or ("request" if typename == "MaintenanceRequest" else "plan")
        return typename, self.names.get(entry[inner]["id"], "?"), date.fromisoformat(entry["date"])

    def actor(self, name: str) -> Actor:
        return self.people.get(name) or self.world.role(name)


async def agenda(gql: GraphQLClient, actor: Actor, start: date, end: date) -> dict[str, Any]:
    data = await gql.data(AGENDA, {"from": start.isoformat(), "to": end.isoformat()}, token=actor)
    result: dict[str, Any] = data["myAgenda"]
    return result


async def build(world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> Scene:
    w = world
    today = datetime.now(settings.timezone).date()
    people = {
        "teacher2": await factory.user(models.Role.INSTRUCTOR, w.a1),
        "teacher_b": await factory.user(models.Role.INSTRUCTOR, w.b1),
    }
    scene = Scene(w, today, people)
    await _classes(scene, factory, db, settings)
    await _loans(scene, db, settings)
    await _maintenance(scene, db)
    return scene


async def _classes(scene: Scene, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """a1: the instructor's at 08:00 and teacher2's at 10:00 today; a2: the instructor's at 14:00
    tomorrow; b1: teacher_b's today. Checks: a1's today (students recording), teacher2's of a
    week ago (instructor review), a1's of two weeks ago (supervisor review), b1's today."""
    w, p, today = scene.world, scene.people, scene.today
    tomorrow = (today + timedelta(days=1)).isoweekday()
    slots = {
        "a1": await factory.schedule(w.a1, w.instructor),
        "a1_teacher2": await factory.schedule(w.a1, p["teacher2"], start_time=time(10), end_time=time(12)),
        "a2": await factory.schedule(w.a2, w.instructor, weekday=tomorrow, start_time=time(14), end_time=time(16)),
        "b1": await factory.schedule(w.b1, p["teacher_b"]),
    }
    for name, slot in slots.items():
        scene.name("Schedule", slot.id, name)
    walker = Walker(db, settings, w.student, w.instructor, w.supervisor)
    zone = settings.timezone
    ago = {weeks: datetime.combine(today - timedelta(days=7 * weeks), time(9), zone) for weeks in (1, 2)}
    made = {
        "check_today": await walker.check_in(slots["a1"].id, S.STUDENT_PENDING),
        "check_teacher2": await walker.check_in(slots["a1_teacher2"].id, S.INSTRUCTOR_REVIEW, now=ago[1]),
        "check_supervisor": await walker.check_in(slots["a1"].id, S.SUPERVISOR_REVIEW, now=ago[2]),
        "check_b1": await Walker(db, settings, w.student_b, p["teacher_b"], w.supervisor).check_in(
            slots["b1"].id, S.STUDENT_PENDING
        ),
    }
    for name, check_id in made.items():
        scene.name("InventoryCheck", check_id, name)


async def _loans(scene: Scene, db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    w, p = scene.world, scene.people
    item, item_b = w.items["aw"][1], w.items["bw"][1]
    made = {
        "loan_pending": (w.instructor, w.admin, w.aw, item, {"start": 1}),
        "loan_approved": (w.instructor, w.admin, w.aw, item, {"status": L.APPROVED, "start": 2}),
        "loan_delivered": (w.instructor, w.admin, w.aw, item, {"status": L.DELIVERED, "days": 3}),
        "loan_overdue": (w.instructor, w.admin, w.aw, item, {"status": L.OVERDUE, "days_ago": 10}),
        "loan_returned": (w.instructor, w.admin, w.aw, item, {"status": L.RETURNED}),
        "loan_later": (w.instructor, w.admin, w.aw, item, {"status": L.DELIVERED, "days": 21}),
        "loan_b": (p["teacher_b"], w.admin_b, w.bw, item_b, {"start": 1}),
    }
    for name, (requester, decider, warehouse, lent, options) in made.items():
        loan = await make_loan(db, settings, requester, decider, warehouse, item=lent, **options)
        scene.name("Loan", loan.id, name)


async def _maintenance(scene: Scene, db: async_sessionmaker[AsyncSession]) -> None:
    w, today = scene.world, scene.today
    boss, room_item, store_item = w.supervisor, w.items["a1"][1], w.items["aw"][0]
    requests = {
        "req_instructor": (room_item, M.ASSIGNED, w.instructor),
        "req_supervisor": (room_item, M.IN_PROGRESS, w.supervisor),
        "req_pending": (room_item, M.PENDING, None),
        "req_done": (room_item, M.COMPLETED, w.instructor),
        "req_b": (w.items["bw"][1], M.ASSIGNED, w.admin_b),
    }
    for name, (item, status, assignee) in requests.items():
        manager = w.admin_b if item.environment_id == w.bw.id else boss
        request_id = await open_for_item(db, manager, item)
        if status is not M.PENDING:
            await advance(db, manager, request_id, status, assignee=assignee)
        scene.name("MaintenanceRequest", request_id, name)
    plans = {
        "plan_a1": (boss, room_item, maintenance.PlanFields(every_days=30, next_due_date=today + timedelta(days=3))),
        "plan_aw": (w.admin, store_item, maintenance.PlanFields(on_date=today + timedelta(days=5))),
        "plan_a1_far": (boss, w.items["a1"][0], maintenance.PlanFields(on_date=today + timedelta(days=40))),
        "plan_off": (boss, w.items["a2"][0], maintenance.PlanFields(on_date=today + timedelta(days=2), active=False)),
        "plan_b1": (w.admin_general, w.items["b1"][0], maintenance.PlanFields(on_date=today + timedelta(days=4))),
    }
    for name, (manager, item, fields) in plans.items():
        async with db.begin() as session:
            plan = await maintenance.set_plan(session, manager.principal, item_id=item.id, fields=fields, today=today)
        scene.name("MaintenancePlan", plan.id, name)
