"""Class slots: who manages them, what a slot must be, one class at a time per room (also under
concurrent creations), the scope a slot gives its instructor, and the reads."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import schedules
from graphql_api.settings import Settings
from tests.conftest import Actor, Factory, GraphQLClient, World, error_codes, gid

ERRORS = """
    ... on Error { __typename code message }
    ... on ValidationError { fieldErrors { field code } }
"""
SLOT = "id weekday startTime endTime validFrom validUntil program groupNumber topic studentCount isActive"


def _mutation(name: str, input_type: str) -> str:
    return f"""
    mutation($input: {input_type}!) {{
      {name}(input: $input) {{
        __typename ... on SchedulePayload {{ schedule {{ {SLOT} environment {{ id }} instructor {{ id }} }} }} {ERRORS}
      }}
    }}
    """


CREATE = _mutation("createSchedule", "CreateScheduleInput")
UPDATE = _mutation("updateSchedule", "UpdateScheduleInput")
DEACTIVATE = _mutation("deactivateSchedule", "ScheduleIdInput")
ACTIVATE = _mutation("activateSchedule", "ScheduleIdInput")
SCHEDULES = """
query($where: ScheduleWhere) {
  schedules(where: $where, first: 100) { totalCount edges { node { id weekday startTime environment { id } } } }
}
"""
TODAY = "{ mySchedulesToday(first: 100) { totalCount edges { node { id startTime } } } }"
ITEMS_OF = "query($where: ItemWhere) { items(where: $where, first: 100) { totalCount } }"


def _input(room: models.Environment, **values: Any) -> dict[str, Any]:
    return {
        "environmentId": gid("Environment", room.id),
        "weekday": 1,
        "startTime": "08:00",
        "endTime": "10:00",
        "validFrom": "2027-01-01",
        "validUntil": "2027-06-30",
        "program": "Software development",
        "groupNumber": "2758341",
        "studentCount": 25,
        **values,
    }


async def _create(gql: GraphQLClient, actor: Actor, room: models.Environment, **values: Any) -> dict[str, Any]:
    data = await gql.data(CREATE, {"input": _input(room, **values)}, token=actor)
    result: dict[str, Any] = data["createSchedule"]
    return result


def _field_codes(result: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in result.get("fieldErrors", [])}


async def _count(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Schedule)) or 0)


# ---- who manages what ----------------------------------------------------------------------


async def test_an_instructor_creates_their_own_slot_in_their_room(gql: GraphQLClient, world: World) -> None:
    result = await _create(gql, world.instructor, world.a1, topic="  Databases ")
    assert result["__typename"] == "SchedulePayload", result
    slot = result["schedule"]
    assert slot["instructor"] == {"id": world.instructor.gid}
    assert (slot["weekday"], slot["startTime"], slot["endTime"]) == (1, "08:00:00", "10:00:00")
    assert slot["topic"] == "Databases"
    assert slot["isActive"] is True


async def test_an_instructor_cannot_create_a_slot_for_someone_else(
    gql: GraphQLClient, world: World, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    result = await _create(gql, world.instructor, world.a1, instructorId=colleague.gid)
    assert result["__typename"] == "PermissionDeniedError"
    assert await _count(db) == 0


async def test_a_supervisor_schedules_an_instructor_of_the_center_in_any_room_of_it(
    gql: GraphQLClient, world: World
) -> None:
    result = await _create(gql, world.supervisor, world.a2, instructorId=world.instructor.gid)
    assert result["__typename"] == "SchedulePayload", result
    assert result["schedule"]["environment"] == {"id": gid("Environment", world.a2.id)}


async def test_an_instructor_manages_only_their_own_slots(gql: GraphQLClient, world: World, factory: Factory) -> None:
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    theirs = await factory.schedule(world.a1, colleague)
    update = await gql.data(
        UPDATE, {"input": {"id": gid("Schedule", theirs.id), "topic": "Mine"}}, token=world.instructor
    )
    assert update["updateSchedule"]["__typename"] == "PermissionDeniedError"
    deactivate = await gql.data(DEACTIVATE, {"input": {"id": gid("Schedule", theirs.id)}}, token=world.instructor)
    assert deactivate["deactivateSchedule"]["__typename"] == "PermissionDeniedError"


@pytest.mark.parametrize("role", ["student", "admin"])
async def test_students_and_admins_do_not_manage_slots(gql: GraphQLClient, world: World, role: str) -> None:
    result = await gql.execute(CREATE, {"input": _input(world.a1)}, token=world.role(role))
    assert error_codes(result) == ["FORBIDDEN"]


# ---- what a slot must be --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"endTime": "08:00"}, {("endTime", "END_BEFORE_START")}),
        ({"endTime": "07:59"}, {("endTime", "END_BEFORE_START")}),
        ({"validUntil": "2026-12-31"}, {("validUntil", "END_BEFORE_START")}),
        ({"weekday": 0}, {("weekday", "MIN_VALUE")}),
        ({"weekday": 8}, {("weekday", "MAX_VALUE")}),
        ({"studentCount": -1}, {("studentCount", "MIN_VALUE")}),
        ({"studentCount": 1001}, {("studentCount", "MAX_VALUE")}),
        ({"program": "   "}, {("program", "BLANK")}),
        ({"groupNumber": "x" * 41}, {("groupNumber", "TOO_LONG")}),
        ({"startTime": "08:00:30"}, {("startTime", "TIME_TO_THE_MINUTE")}),
    ],
)
async def test_a_slot_is_checked_before_anything_is_written(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], values: dict[str, Any], expected: Any
) -> None:
    result = await _create(gql, world.supervisor, world.a1, instructorId=world.instructor.gid, **values)
    assert result["__typename"] == "ValidationError", result
    assert _field_codes(result) == expected
    assert await _count(db) == 0


async def test_a_warehouse_holds_no_class_and_the_teacher_is_an_instructor_of_the_center(
    gql: GraphQLClient, world: World, factory: Factory
) -> None:
    in_warehouse = await _create(gql, world.supervisor, world.aw, instructorId=world.instructor.gid)
    assert _field_codes(in_warehouse) == {("environmentId", "NOT_A_ROOM")}
    a_student = await _create(gql, world.supervisor, world.a1, instructorId=world.student.gid)
    assert _field_codes(a_student) == {("instructorId", "NOT_AN_INSTRUCTOR_OF_CENTER")}
    elsewhere = await factory.user(models.Role.INSTRUCTOR, world.b1)
    other_center = await _create(gql, world.admin_general, world.a1, instructorId=elsewhere.gid)
    assert _field_codes(other_center) == {("instructorId", "NOT_AN_INSTRUCTOR_OF_CENTER")}
    # A user the supervisor may not see is not found, whatever it is.
    hidden = await _create(gql, world.supervisor, world.a1, instructorId=elsewhere.gid)
    assert _field_codes(hidden) == {("instructorId", "NOT_FOUND")}


async def test_a_room_out_of_scope_is_not_found(gql: GraphQLClient, world: World) -> None:
    result = await _create(gql, world.supervisor, world.b1, instructorId=world.instructor.gid)
    assert result["__typename"] == "NotFoundError"


# ---- one class at a time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "overlaps"),
    [
        ({"startTime": "09:00", "endTime": "11:00"}, True),
        ({"startTime": "07:00", "endTime": "12:00"}, True),
        ({"validFrom": "2027-06-30", "validUntil": "2027-12-31"}, True),  # one day in common
        ({"startTime": "10:00", "endTime": "12:00"}, False),  # right after
        ({"startTime": "06:00", "endTime": "08:00"}, False),  # right before
        ({"weekday": 2}, False),
        ({"validFrom": "2027-07-01", "validUntil": "2027-12-31"}, False),
    ],
)
async def test_two_active_slots_of_a_room_never_overlap(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], values: dict[str, Any], overlaps: bool
) -> None:
    assert (await _create(gql, world.instructor, world.a1))["__typename"] == "SchedulePayload"
    second = await _create(gql, world.supervisor, world.a1, instructorId=world.instructor.gid, **values)
    assert second["__typename"] == ("ConflictError" if overlaps else "SchedulePayload"), second
    assert await _count(db) == (1 if overlaps else 2)
    # Another room at the same time is always free.
    assert (await _create(gql, world.supervisor, world.a2, instructorId=world.instructor.gid))[
        "__typename"
    ] == "SchedulePayload"


async def test_a_deactivated_slot_frees_its_time_and_cannot_come_back_over_another(
    gql: GraphQLClient, world: World
) -> None:
    first = (await _create(gql, world.instructor, world.a1))["schedule"]["id"]
    deactivated = await gql.data(DEACTIVATE, {"input": {"id": first}}, token=world.instructor)
    assert deactivated["deactivateSchedule"]["schedule"]["isActive"] is False
    again = await gql.data(DEACTIVATE, {"input": {"id": first}}, token=world.instructor)
    assert again["deactivateSchedule"]["__typename"] == "ConflictError"
    assert (await _create(gql, world.instructor, world.a1, startTime="09:00"))["__typename"] == "SchedulePayload"
    back = await gql.data(ACTIVATE, {"input": {"id": first}}, token=world.instructor)
    assert back["activateSchedule"]["__typename"] == "ConflictError"


async def test_an_update_that_would_overlap_is_a_conflict_and_changes_nothing(gql: GraphQLClient, world: World) -> None:
    await _create(gql, world.instructor, world.a1)
    later = (await _create(gql, world.instructor, world.a1, startTime="10:00", endTime="12:00"))["schedule"]
    moved = await gql.data(UPDATE, {"input": {"id": later["id"], "startTime": "09:30"}}, token=world.instructor)
    assert moved["updateSchedule"]["__typename"] == "ConflictError"
    inverted = await gql.data(UPDATE, {"input": {"id": later["id"], "endTime": "09:00"}}, token=world.instructor)
    assert _field_codes(inverted["updateSchedule"]) == {("endTime", "END_BEFORE_START")}
    blank = await gql.data(UPDATE, {"input": {"id": later["id"], "program": "  "}}, token=world.instructor)
    assert _field_codes(blank["updateSchedule"]) == {("program", "BLANK")}
    data = await gql.data(
        "query($id: ID!) { schedule(id: $id) { startTime endTime } }", {"id": later["id"]}, token=world.instructor
    )
    assert data["schedule"] == {"startTime": "10:00:00", "endTime": "12:00:00"}


async def test_twenty_concurrent_overlapping_creations_make_one_slot(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    # Every request overlaps every other (all contain 09:00-09:30), each by a different start.
    inputs = [_input(world.a1, startTime=f"{8 + n % 2:02d}:{(n * 3) % 30:02d}", endTime="10:00") for n in range(20)]
    inputs = [{**i, "instructorId": world.instructor.gid} for i in inputs]
    results = await asyncio.gather(*(gql.data(CREATE, {"input": i}, token=world.supervisor) for i in inputs))
    kinds = sorted(r["createSchedule"]["__typename"] for r in results)
    assert kinds == ["ConflictError"] * 19 + ["SchedulePayload"]
    assert await _count(db) == 1


# ---- the scope a slot gives ----------------------------------------------------------------


async def _items_in(gql: GraphQLClient, actor: Actor, room: models.Environment) -> int:
    data = await gql.data(ITEMS_OF, {"where": {"environmentIds": [gid("Environment", room.id)]}}, token=actor)
    total: int = data["items"]["totalCount"]
    return total


async def test_an_instructor_sees_the_rooms_where_they_teach_while_the_slot_is_active_and_valid(
    gql: GraphQLClient, world: World, factory: Factory
) -> None:
    assert await _items_in(gql, world.instructor, world.a2) == 0
    slot = await factory.schedule(world.a2, world.instructor)
    assert await _items_in(gql, world.instructor, world.a2) == len(world.items["a2"])
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid("Environment", world.a2.id)}, token=world.instructor
    )
    assert node["node"] == {"id": gid("Environment", world.a2.id)}
    await gql.data(DEACTIVATE, {"input": {"id": gid("Schedule", slot.id)}}, token=world.supervisor)
    assert await _items_in(gql, world.instructor, world.a2) == 0


async def test_a_slot_past_its_validity_gives_no_scope(
    gql: GraphQLClient, world: World, factory: Factory, settings: Settings
) -> None:
    today = datetime.now(settings.timezone).date()
    await factory.schedule(
        world.a2, world.instructor, valid_from=today - timedelta(days=60), valid_until=today - timedelta(days=2)
    )
    assert await _items_in(gql, world.instructor, world.a2) == 0


# ---- reads ---------------------------------------------------------------------------------


async def test_todays_classes_are_the_instructors_own_or_the_rooms_in_scope(
    gql: GraphQLClient, world: World, factory: Factory, settings: Settings
) -> None:
    today = datetime.now(settings.timezone).date()
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    mine = await factory.schedule(world.a1, world.instructor, start_time=time(7, 0), end_time=time(9, 0))
    theirs = await factory.schedule(world.a1, colleague, start_time=time(14, 0), end_time=time(16, 0))
    await factory.schedule(world.a1, world.instructor, weekday=today.isoweekday() % 7 + 1)  # tomorrow
    await factory.schedule(
        world.a1, world.instructor, start_time=time(18, 0), end_time=time(20, 0), valid_from=today + timedelta(days=1)
    )

    def ids(data: dict[str, Any]) -> list[str]:
        return [edge["node"]["id"] for edge in data["mySchedulesToday"]["edges"]]

    assert ids(await gql.data(TODAY, token=world.instructor)) == [gid("Schedule", mine.id)]
    expected = [gid("Schedule", mine.id), gid("Schedule", theirs.id)]
    assert ids(await gql.data(TODAY, token=world.student)) == expected
    assert ids(await gql.data(TODAY, token=world.supervisor)) == expected
    assert ids(await gql.data(TODAY, token=world.student_b)) == []


async def test_slots_are_filtered_and_ordered_by_weekday_and_time(
    gql: GraphQLClient, world: World, factory: Factory
) -> None:
    late_monday = await factory.schedule(
        world.a1, world.instructor, weekday=1, start_time=time(14, 0), end_time=time(15, 0)
    )
    early_monday = await factory.schedule(
        world.a1, world.instructor, weekday=1, start_time=time(7, 0), end_time=time(8, 0)
    )
    tuesday = await factory.schedule(world.a2, world.instructor, weekday=2)
    data = await gql.data(SCHEDULES, token=world.supervisor)
    order = [edge["node"]["id"] for edge in data["schedules"]["edges"]]
    assert order == [gid("Schedule", s.id) for s in (early_monday, late_monday, tuesday)]
    data = await gql.data(SCHEDULES, {"where": {"weekdays": [2]}}, token=world.supervisor)
    assert data["schedules"]["totalCount"] == 1
    rooms = {"environmentIds": [gid("Environment", world.a2.id)]}
    data = await gql.data(SCHEDULES, {"where": rooms}, token=world.supervisor)
    assert data["schedules"]["totalCount"] == 1
    data = await gql.data(SCHEDULES, {"where": {"validOn": "2000-01-01"}}, token=world.supervisor)
    assert data["schedules"]["totalCount"] == 0
    nested = await gql.data(
        "query($id: ID!) { environment(id: $id) { schedules(first: 10) { totalCount } } }",
        {"id": gid("Environment", world.a1.id)},
        token=world.student,
    )
    assert nested["environment"]["schedules"]["totalCount"] == 2


SCHEDULES_WITH_ROOM_AND_INSTRUCTOR = (
    "{ schedules(first: 50) { totalCount edges { node { weekday environment { name center { name } } "
    "instructor { email } } } } }"
)
# 1 authentication, 2 the page joined with its rooms and their centers, 3 totalCount,
# 4 USER_BY_ID for the instructors
SCHEDULES_STATEMENTS = 4


async def test_a_page_of_slots_with_room_and_instructor_is_a_fixed_number_of_statements(
    gql: GraphQLClient, world: World, factory: Factory, count_statements: Any
) -> None:
    rooms = [await factory.environment(world.center_a, code=f"S{n}") for n in range(10)]
    teachers = [await factory.user(models.Role.INSTRUCTOR, world.a1) for _ in range(5)]
    counts = []
    for total in (10, 100):
        made = 0 if total == 10 else 10
        for n in range(made, total):
            day = date(2027, 1, 1) + timedelta(days=n)  # one day each: no two overlap
            await factory.schedule(
                rooms[n % 10], teachers[n % 5], weekday=day.isoweekday(), valid_from=day, valid_until=day
            )
        with count_statements() as counted:
            data = await gql.data(SCHEDULES_WITH_ROOM_AND_INSTRUCTOR, token=world.admin_general)
        assert data["schedules"]["totalCount"] == total
        counts.append(counted.value)
    assert counts == [SCHEDULES_STATEMENTS, SCHEDULES_STATEMENTS]


async def test_the_classes_a_person_takes_part_in(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    """An instructor's own slots; a student's home room's; nobody else attends a class."""
    w = world
    other = await factory.user(models.Role.INSTRUCTOR, w.a1)
    own = await factory.schedule(w.a1, w.instructor, start_time=time(8), end_time=time(9))
    others = await factory.schedule(w.a1, other, start_time=time(9), end_time=time(10))
    elsewhere = await factory.schedule(w.a2, w.instructor)
    in_b = await factory.schedule(w.b1, await factory.user(models.Role.INSTRUCTOR, w.b1))

    async def slots(actor: Any) -> set[uuid.UUID]:
        async with db() as session:
            return {slot.id for slot in (await session.scalars(schedules.taken_part_in(actor.principal))).all()}

    assert await slots(w.instructor) == {own.id, elsewhere.id}
    assert await slots(other) == {others.id}
    assert await slots(w.student) == {own.id, others.id}
    assert await slots(w.student_b) == {in_b.id}
    for nobody in (w.supervisor, w.admin, w.admin_general):
        assert await slots(nobody) == set()
