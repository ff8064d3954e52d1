"""Reading checks over HTTP: inventoryChecks' filters and orderings (filters narrow the scope,
never widen it), myPendingChecks per role, classChecks of a room and day, and what differs
from the room's previous approved check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import checks
from graphql_api.settings import Settings
from tests.api.checks.helpers import S, Walker, expected_of
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

LIST = """query ($where: InventoryCheckWhere, $orderBy: InventoryCheckOrder) {
  inventoryChecks(where: $where, orderBy: $orderBy, first: 100) { totalCount edges { node { id } } } }"""
PENDING = "{ myPendingChecks(first: 100) { totalCount edges { node { id status } } } }"
CLASSES = """query ($room: ID!, $day: Date) { classChecks(environmentId: $room, day: $day) {
  schedule { id } status check { id } } }"""
CHANGES = """query ($id: ID!) { inventoryCheck(id: $id) { changesSincePreviousApproved {
  item { id } previous { found damaged missing } current { found damaged missing } } } }"""


@dataclass
class Scene:
    """Checks of a1 (c1 approved 3 weeks ago, c3 last week in instructor review, c2 two weeks
    ago in supervisor review with 2 damaged chairs, c4 today, the students'), of a2 (c5 last
    week, the instructor's checklist failed) and of b1 (c6 last week, c7 today)."""

    world: World
    today: date
    slots: dict[str, models.Schedule]
    people: dict[str, Actor]
    projector: models.InventoryItem  # came to a1 after c1
    checks: dict[str, uuid.UUID] = field(default_factory=dict)

    def day(self, weeks_ago: int) -> date:
        return self.today - timedelta(days=7 * weeks_ago)

    def name_of(self, global_id: str) -> str:
        names = {gid("InventoryCheck", value): name for name, value in self.checks.items()}
        return names[global_id]


@pytest.fixture
async def scene(world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> Scene:
    w = world
    people = {
        "student_a2": await factory.user(models.Role.STUDENT, w.a2),
        "instructor_b": await factory.user(models.Role.INSTRUCTOR, w.b1),
        "supervisor_b": await factory.user(models.Role.SUPERVISOR, w.b1),
    }
    slots = {
        "a1": await factory.schedule(w.a1, w.instructor),
        "a1_afternoon": await factory.schedule(w.a1, w.instructor, start_time=time(14), end_time=time(16)),
        "a2": await factory.schedule(w.a2, w.instructor),
        "b1": await factory.schedule(w.b1, people["instructor_b"]),
    }
    now = datetime.now(settings.timezone)

    def ago(weeks: int) -> datetime:
        return now - timedelta(days=7 * weeks)

    a1 = Walker(db, settings, w.student, w.instructor, w.supervisor)
    made: dict[str, uuid.UUID] = {"c1": await a1.check_in(slots["a1"].id, S.APPROVED, now=ago(3))}
    projector = await factory.item(w.a1, quantity=4, name="Proyector")
    made["c3"] = await a1.check_in(slots["a1"].id, S.INSTRUCTOR_REVIEW, now=ago(1))
    made["c2"] = (await a1.start(slots["a1"].id, now=ago(2))).id
    await a1.record_all(made["c2"], {w.items["a1"][1].id: (8, 2, 0)})
    await a1.advance(made["c2"], S.SUPERVISOR_REVIEW)
    made["c4"] = (await a1.start(slots["a1"].id, now=now)).id
    a2 = Walker(db, settings, people["student_a2"], w.instructor, w.supervisor)
    made["c5"] = await a2.check_in(slots["a2"].id, S.INSTRUCTOR_REVIEW, now=ago(1))
    async with db.begin() as session:
        await checks.submit_instructor_review(session, w.instructor.principal, made["c5"], is_clean=False,
                                              is_organized=True, inventory_complete=True, comments="Sucio")  # fmt: skip
    b1 = Walker(db, settings, w.student_b, people["instructor_b"], people["supervisor_b"])
    made["c6"] = await b1.check_in(slots["b1"].id, S.SUPERVISOR_REVIEW, now=ago(1))
    made["c7"] = (await b1.start(slots["b1"].id, now=now)).id
    return Scene(w, now.date(), slots, people, projector, made)


async def listed(gql: GraphQLClient, scene: Scene, actor: Actor, **variables: Any) -> list[str]:
    data = await gql.data(LIST, variables, token=actor)
    connection = data["inventoryChecks"]
    names = [scene.name_of(edge["node"]["id"]) for edge in connection["edges"]]
    assert connection["totalCount"] == len(names)
    return names


async def test_every_filter_narrows_the_list(gql: GraphQLClient, scene: Scene) -> None:
    room, slot = scene.world.a1.id, scene.slots["a2"].id
    cases: dict[str, tuple[dict[str, Any], set[str]]] = {
        "none": ({}, {"c1", "c2", "c3", "c4", "c5"}),
        "room a1": ({"environmentIds": [gid("Environment", room)]}, {"c1", "c2", "c3", "c4"}),
        "class of a2": ({"scheduleIds": [gid("Schedule", slot)]}, {"c5"}),
        "supervisor review": ({"statuses": ["SUPERVISOR_REVIEW"]}, {"c2", "c5"}),
        "approved or pending": ({"statuses": ["APPROVED", "STUDENT_PENDING"]}, {"c1", "c4"}),
        "from 2 weeks ago": ({"dateFrom": scene.day(2).isoformat()}, {"c2", "c3", "c4", "c5"}),
        "before last week": ({"dateBefore": scene.day(1).isoformat()}, {"c1", "c2"}),
        "2 weeks ago only": ({"dateFrom": scene.day(2).isoformat(), "dateBefore": scene.day(1).isoformat()}, {"c2"}),
        "with issues": ({"hasIssues": True}, {"c2", "c5"}),
        "without issues": ({"hasIssues": False}, {"c1", "c3", "c4"}),
        "issues in a1": ({"hasIssues": True, "environmentIds": [gid("Environment", room)]}, {"c2"}),
        # A room out of scope narrows to nothing; it never widens the scope.
        "room b1": ({"environmentIds": [gid("Environment", scene.world.b1.id)]}, set()),
    }
    supervisor = scene.world.supervisor
    got = {name: set(await listed(gql, scene, supervisor, where=where)) for name, (where, _) in cases.items()}
    assert got == {name: expected for name, (_, expected) in cases.items()}
    everything = await listed(gql, scene, scene.world.admin_general)
    assert set(everything) == {"c1", "c2", "c3", "c4", "c5", "c6", "c7"}


async def test_the_orderings(gql: GraphQLClient, scene: Scene) -> None:
    a1 = {"environmentIds": [gid("Environment", scene.world.a1.id)]}
    supervisor = scene.world.supervisor

    async def order(**order_by: str) -> list[str]:
        return await listed(gql, scene, supervisor, where=a1, orderBy=order_by or None)

    assert await order() == ["c4", "c3", "c2", "c1"]  # newest date first
    assert await order(field="CHECK_DATE", direction="ASC") == ["c1", "c2", "c3", "c4"]
    assert await order(field="CREATED_AT", direction="ASC") == ["c1", "c3", "c2", "c4"]
    assert await order(field="CREATED_AT") == ["c4", "c2", "c3", "c1"]


async def test_my_pending_checks_are_those_of_my_stage(gql: GraphQLClient, scene: Scene) -> None:
    w, people = scene.world, scene.people
    callers = {
        "student": (w.student, {"c4"}),
        "student of a2": (people["student_a2"], set()),
        "student of b1": (w.student_b, {"c7"}),
        "instructor": (w.instructor, {"c3"}),
        "instructor of b1": (people["instructor_b"], set()),
        "supervisor": (w.supervisor, {"c2", "c5"}),
        "supervisor of b1": (people["supervisor_b"], {"c6"}),
        "admin": (w.admin, set()),
        "admin_general": (w.admin_general, set()),
    }
    got = {}
    for name, (actor, _) in callers.items():
        data = await gql.data(PENDING, token=actor)
        got[name] = {scene.name_of(edge["node"]["id"]) for edge in data["myPendingChecks"]["edges"]}
    assert got == {name: expected for name, (_, expected) in callers.items()}


async def class_checks(gql: GraphQLClient, actor: Actor, room: uuid.UUID, day: date | None = None) -> list[Any]:
    variables = {"room": gid("Environment", room), "day": day.isoformat() if day else None}
    data = await gql.data(CLASSES, variables, token=actor)
    return [(c["schedule"]["id"], c["status"], c["check"]["id"] if c["check"] else None) for c in data["classChecks"]]


async def test_class_checks_of_a_room_and_day(gql: GraphQLClient, scene: Scene) -> None:
    w, slots, made = scene.world, scene.slots, scene.checks
    morning, afternoon = gid("Schedule", slots["a1"].id), gid("Schedule", slots["a1_afternoon"].id)
    # Today by default: the morning class has its check, the afternoon one none.
    assert await class_checks(gql, w.student, w.a1.id) == [
        (morning, "STUDENT_PENDING", gid("InventoryCheck", made["c4"])),
        (afternoon, "NOT_STARTED", None),
    ]
    assert await class_checks(gql, w.supervisor, w.a1.id, scene.day(2)) == [
        (morning, "SUPERVISOR_REVIEW", gid("InventoryCheck", made["c2"])),
        (afternoon, "NOT_STARTED", None),
    ]
    assert await class_checks(gql, w.supervisor, w.a1.id, scene.today + timedelta(days=1)) == []  # no class
    # Rooms out of scope show nothing.
    assert await class_checks(gql, w.supervisor, w.b1.id) == []
    assert await class_checks(gql, w.student_b, w.a1.id) == []
    assert await class_checks(gql, w.student, w.a2.id) == []
    assert await class_checks(gql, w.student, uuid.uuid4()) == []
    b1 = await class_checks(gql, w.admin_general, w.b1.id)
    assert b1 == [(gid("Schedule", slots["b1"].id), "STUDENT_PENDING", gid("InventoryCheck", made["c7"]))]


async def changes(gql: GraphQLClient, scene: Scene, name: str) -> list[Any]:
    data = await gql.data(CHANGES, {"id": gid("InventoryCheck", scene.checks[name])}, token=scene.world.supervisor)
    return [
        (
            c["item"]["id"],
            c["previous"] and tuple(c["previous"].values()),
            c["current"] and tuple(c["current"].values()),
        )
        for c in data["inventoryCheck"]["changesSincePreviousApproved"]
    ]


async def test_changes_since_the_previous_approved_check(gql: GraphQLClient, scene: Scene) -> None:
    chairs, projector = scene.world.items["a1"][1], scene.projector
    assert await changes(gql, scene, "c1") == []  # no approved check before it
    assert await changes(gql, scene, "c5") == []  # a2 has none either
    # Against c1 (c2 is not approved): the damaged chairs and the projector that came since,
    # in the check's order (by name); the laptop, unchanged, is not listed.
    assert await changes(gql, scene, "c2") == [
        (gid("InventoryItem", chairs.id), (10, 0, 0), (8, 2, 0)),
        (gid("InventoryItem", projector.id), None, (4, 0, 0)),
    ]
    # Items not recorded yet have no counts: they differ from any recorded ones.
    laptop, unknown = scene.world.items["a1"][0], (None, None, None)
    assert await changes(gql, scene, "c4") == [
        (gid("InventoryItem", laptop.id), (1, 0, 0), unknown),
        (gid("InventoryItem", chairs.id), (10, 0, 0), unknown),
        (gid("InventoryItem", projector.id), None, unknown),
    ]


# ---- statements: a fixed number, whatever the number of rows ----------------------------------

CHECKS_PAGE = """{ inventoryChecks(first: 50) { edges { node {
  environment { name } schedule { program } totals { good damaged missing } hasIssues } } } }"""
# 1 authentication
# 2 the page of checks (scoped, ordered, LIMIT 51) joined with each check's room and class,
#   which prime their by-id loaders (no statement for them)
# 3 the totals of every check of the page, in one grouped statement (hasIssues reads them too)
CHECKS_PAGE_STATEMENTS = 3

ONE_CHECK = """query ($id: ID!) { inventoryCheck(id: $id) {
  records(first: 100) { edges { node { item { name } found } } } } }"""
# 1 authentication, 2 the check, 3 its page of records (their number is kept on the check),
# 4 the records' items
ONE_CHECK_STATEMENTS = 4


async def _statements(gql: GraphQLClient, count_statements: Any, query: str, actor: Actor, **variables: Any) -> Any:
    with count_statements() as counted:
        data = await gql.data(query, variables, token=actor)
    return counted.value, data


async def test_statements_of_a_page_of_checks(
    gql: GraphQLClient, count_statements: Any, world: World, factory: Factory,
    db: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:  # fmt: skip
    """Checks of a1 and a2 on past days (a class of each room every weekday), one in three
    with a damaged unit; b1's, out of the supervisor's scope, are never read."""
    w, today = world, datetime.now(settings.timezone).date()
    student_a2 = await factory.user(models.Role.STUDENT, w.a2)
    walkers, slots = [], []
    for room, student in ((w.a1, w.student), (w.a2, student_a2)):
        walkers.append(Walker(db, settings, student, w.instructor, w.supervisor))
        slots.append({
            day: await factory.schedule(room, w.instructor, weekday=day, valid_from=today - timedelta(days=70))
            for day in range(1, 8)
        })  # fmt: skip
    made = 0

    async def grow(total: int) -> None:
        nonlocal made
        for n in range(made, total):
            walker, day = walkers[n % 2], datetime.now(settings.timezone) - timedelta(days=n // 2)
            check = await walker.start(slots[n % 2][day.isoweekday()].id, now=day)
            if n % 3 == 0:
                await walker.record_all(check.id, {w.items[("a1", "a2")[n % 2]][1].id: (9, 1, 0)})
        made = total

    await grow(10)
    small, data = await _statements(gql, count_statements, CHECKS_PAGE, w.supervisor)
    assert len(data["inventoryChecks"]["edges"]) == 10
    await grow(100)
    large, data = await _statements(gql, count_statements, CHECKS_PAGE, w.supervisor)
    nodes = [edge["node"] for edge in data["inventoryChecks"]["edges"]]
    assert len(nodes) == 50
    assert {node["environment"]["name"] for node in nodes} == {w.a1.name, w.a2.name}
    assert sum(node["hasIssues"] for node in nodes) == sum(node["totals"]["damaged"] for node in nodes) == 17
    assert (small, large) == (CHECKS_PAGE_STATEMENTS, CHECKS_PAGE_STATEMENTS)


async def test_statements_of_one_check_with_its_records(
    gql: GraphQLClient, count_statements: Any, world: World, factory: Factory,
    db: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:  # fmt: skip
    """A check of 10 items today and one of 100 items a week ago, same class (items were added
    between the two starts), each recorded but for its first item."""
    w, now = world, datetime.now(settings.timezone)
    slot = await factory.schedule(w.a1, w.instructor)
    walker = Walker(db, settings, w.student, w.instructor, w.supervisor)
    sizes, have = {}, len(w.items["a1"])
    for when, total in ((now, 10), (now - timedelta(days=7), 100)):
        for n in range(have, total):
            await factory.item(w.a1, quantity=3, name=f"Silla {n:03d}")
        have = total
        check = await walker.start(slot.id, now=when)
        first = min(await expected_of(db, check.id))  # any one item stays unrecorded
        await walker.record_all(check.id)
        async with db.begin() as session:
            await session.execute(
                update(models.CheckItem)
                .where(models.CheckItem.check_id == check.id, models.CheckItem.item_id == first)
                .values(found=None, damaged=None, missing=None, recorded_at=None)
            )
        sizes[check.id] = total
    counts = []
    for check_id, total in sizes.items():
        check_gid = gid("InventoryCheck", check_id)
        value, data = await _statements(gql, count_statements, ONE_CHECK, w.supervisor, id=check_gid)
        records = [edge["node"] for edge in data["inventoryCheck"]["records"]["edges"]]
        assert len(records) == total
        assert sum(record["found"] is None for record in records) == 1
        assert all(record["item"]["name"] for record in records)
        counts.append(value)
    assert counts == [ONE_CHECK_STATEMENTS, ONE_CHECK_STATEMENTS]
