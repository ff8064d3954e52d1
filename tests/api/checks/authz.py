"""The checks domain's cases for the authorization matrix (tests/authz/): a check, its records
and its reviews are seen with the check's room; per SPEC.md §4 the student stage (start, record,
submit) is for STUDENTs of the room, the instructor stage (review, record corrections) for
INSTRUCTORs with the room in scope, approve / reject for SUPERVISORs of the center; nobody else,
ADMIN_GENERAL included. Each successful call of the matrix acts on a check made for it (a class
of its own in the caller's room, walked to the state the call needs)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Select, delete, select

from graphql_api.api.core.relay import parse_id
from graphql_api.db import models
from tests.api.checks.helpers import S, Walker
from tests.authz import (
    AUTHENTICATED,
    NOT_FOUND,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Reached,
    Scene,
    Table,
)
from tests.conftest import Actor, gid

STUDENTS = frozenset({"STUDENT"})
RECORDERS = frozenset({"STUDENT", "INSTRUCTOR"})
INSTRUCTORS = frozenset({"INSTRUCTOR"})
SUPERVISORS = frozenset({"SUPERVISOR"})
ROOMS = ("a1", "a2", "b1")
C = models.InventoryCheck


def _walker(scene: Scene, room: str) -> Walker:
    people: dict[str, Actor] = scene.notes["checks"]["people"]
    w = scene.world
    student, instructor, boss = {
        "a1": (w.student, w.instructor, w.supervisor),
        "a2": (people["student_a2"], w.instructor, w.supervisor),
        "b1": (w.student_b, people["instructor_b"], people["supervisor_b"]),
    }[room]
    return Walker(scene.db, scene.factory.settings, student, instructor, boss)


async def setup(scene: Scene) -> None:
    """On the schedules domain's classes of today: a1's check rejected once (back in instructor
    review), a2's approved, b1's rejected once; each with its records and a review row."""
    w, factory = scene.world, scene.factory
    scene.notes["checks"] = {
        "people": {
            "student_a2": await factory.user(models.Role.STUDENT, w.a2),
            "instructor_b": await factory.user(models.Role.INSTRUCTOR, w.b1),
            "supervisor_b": await factory.user(models.Role.SUPERVISOR, w.b1),
        },
        "fresh": 0,
    }
    made = {}
    for room in ROOMS:
        walker = _walker(scene, room)
        made[room] = await walker.check_in(scene.notes["schedules"][room], S.SUPERVISOR_REVIEW)
        if room == "a2":
            await walker.advance(made[room], S.APPROVED)
        else:
            await walker.reject(made[room])
    scene.notes["checks"]["made"] = made
    # The scene's inboxes are the notifications domain's (its checks count them).
    async with scene.db.begin() as session:
        await session.execute(delete(models.Notification).where(models.Notification.kind.like("check.%")))


def _checks(scene: Scene, rooms: Any) -> list[uuid.UUID]:
    made: dict[str, uuid.UUID] = scene.notes["checks"]["made"]
    return [made[room] for room in ROOMS if room in rooms]


def _checks_by(column: Any) -> Any:
    def statement(scene: Scene, caller: str, value: uuid.UUID) -> Select[Any]:
        rooms = [scene.room_id(name) for name in scene.rooms_in_scope(caller)]
        return select(C.id).where(column == value, C.environment_id.in_(rooms))

    return statement


CHECK = NodeCases(
    world_b=lambda s: _checks(s, {"b1"}),
    in_scope=lambda s, caller: _checks(s, s.rooms_in_scope(caller)),
    filtered_by={"Environment": _checks_by(C.environment_id), "Schedule": _checks_by(C.schedule_id)},
)


def _rows_of(model: Any) -> NodeCases:
    """Records and reviews: those of the checks of the rooms given (read when asked, as they
    are made by the setup)."""

    def of_rooms(scene: Scene, rooms: Any) -> list[uuid.UUID]:
        return scene.notes["checks"][model.__tablename__][frozenset(_checks(scene, rooms))]

    return NodeCases(
        world_b=lambda s: of_rooms(s, {"b1"}),
        in_scope=lambda s, caller: of_rooms(s, s.rooms_in_scope(caller)),
    )


async def _note_rows(scene: Scene) -> None:
    """Every subset of the made checks -> the ids of their records and of their reviews."""
    made = scene.notes["checks"]["made"]
    async with scene.db() as session:
        for model in (models.CheckItem, models.CheckReview):
            rows = (await session.execute(select(model.check_id, model.id).order_by(model.id))).all()
            by_subset: dict[frozenset[uuid.UUID], list[uuid.UUID]] = {}
            for size in range(1 << len(ROOMS)):
                subset = frozenset(made[room] for n, room in enumerate(ROOMS) if size >> n & 1)
                by_subset[subset] = [row_id for check_id, row_id in rows if check_id in subset]
            scene.notes["checks"][model.__tablename__] = by_subset


async def _setup(scene: Scene) -> None:
    await setup(scene)
    await _note_rows(scene)


# ---- checks made for one call ---------------------------------------------------------------


async def _fresh(scene: Scene, room: str, state: models.CheckStatus, *, recorded: bool = False) -> uuid.UUID:
    """A check of a new class of `room` meeting today (a 1-minute slot of its own), walked to
    `state`; its items are recorded (all found) from INSTRUCTOR_REVIEW on, or if `recorded`."""
    notes = scene.notes["checks"]
    notes["fresh"] += 1
    minute = 11 * 60 + 2 * notes["fresh"]
    walker = _walker(scene, room)
    slot = await scene.factory.schedule(
        getattr(scene.world, room), walker.instructor,
        start_time=time(minute // 60, minute % 60), end_time=time((minute + 1) // 60, (minute + 1) % 60),
    )  # fmt: skip
    check = await walker.start(slot.id, now=datetime.now(scene.factory.settings.timezone))
    await walker.advance(check.id, state)
    if recorded:
        await walker.record_all(check.id, keep=True)
    return check.id


# Where each allowed caller acts: the student in its room, the instructor in a2 (where it
# teaches), the supervisor in a2 (another room of its center).
ROOM_OF = {"student": "a1", "instructor": "a2", "supervisor": "a2"}


def _on_fresh(state: models.CheckStatus, allowed: frozenset[str], *, recorded: bool = False, **values: Any) -> Any:
    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        if caller.upper() in allowed:
            check = await _fresh(scene, ROOM_OF[caller], state, recorded=recorded)
        else:  # refused by role before anything is read: any check will do
            check = _checks(scene, {"a1"})[0]
        return {"checkId": gid("InventoryCheck", check), **values}

    return build


async def _record_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    state = S.INSTRUCTOR_REVIEW if caller == "instructor" else S.STUDENT_PENDING
    values = await _on_fresh(state, RECORDERS)(scene, caller, target)
    room = ROOM_OF.get(caller, "a1")
    item = scene.world.items[room][1]
    async with scene.db() as session:
        expected = await session.scalar(
            select(models.CheckItem.expected).where(
                models.CheckItem.check_id == _decode(values["checkId"]),
                models.CheckItem.item_id == item.id,
            )
        )
    expected = expected if expected is not None else item.quantity
    return {**values, "itemId": gid("InventoryItem", item.id), "found": expected - 1, "damaged": 1, "missing": 0}


def _decode(global_id: str) -> uuid.UUID:
    parsed = parse_id(global_id)
    assert parsed is not None
    return parsed[1]


async def _record_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    item = scene.world.items["a1"][1]
    return {"checkId": target, "itemId": gid("InventoryItem", item.id), "found": 10, "damaged": 0, "missing": 0}


async def _start_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    notes = scene.notes["checks"]
    notes["fresh"] += 1
    minute = 16 * 60 + 2 * notes["fresh"]
    slot = await scene.factory.schedule(
        scene.world.a1, scene.world.instructor,
        start_time=time(minute // 60, minute % 60), end_time=time((minute + 1) // 60, (minute + 1) % 60),
    )  # fmt: skip
    return {"scheduleId": gid("Schedule", slot.id)}


async def _start_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"scheduleId": target}


def _move(access: frozenset[str], state: models.CheckStatus, *, recorded: bool = False, **values: Any) -> MutationCase:
    async def attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        return {"checkId": target, **values}

    return MutationCase(
        access=access,
        target="InventoryCheck",
        slot="checkId",
        attack=attack,
        out_of_scope=NOT_FOUND,
        in_scope=_on_fresh(state, access, recorded=recorded, **values),
        success="InventoryCheckPayload",
        names_target=True,
    )


CHECKLIST = {"isClean": True, "isOrganized": False, "inventoryComplete": True}
MUTATIONS = {
    "startInventoryCheck": MutationCase(
        access=STUDENTS,
        target="Schedule",
        slot="scheduleId",
        attack=_start_attack,
        out_of_scope=NOT_FOUND,
        in_scope=_start_input,
        success="StartInventoryCheckPayload",
    ),
    "recordCheckItem": MutationCase(
        access=RECORDERS,
        target="InventoryCheck",
        slot="checkId",
        extra_slots={"itemId": "InventoryItem"},
        attack=_record_attack,
        out_of_scope=NOT_FOUND,
        in_scope=_record_input,
        success="RecordCheckItemPayload",
    ),
    "submitStudentCheck": _move(STUDENTS, S.STUDENT_PENDING, recorded=True),
    "submitInstructorReview": _move(INSTRUCTORS, S.INSTRUCTOR_REVIEW, **CHECKLIST),
    "approveInventoryCheck": _move(SUPERVISORS, S.SUPERVISOR_REVIEW, comments="Bien"),
    "rejectInventoryCheck": _move(SUPERVISORS, S.SUPERVISOR_REVIEW, reason="Contar de nuevo"),
}

NESTED_QUERY = """
{
  inventoryChecks(first: 100) { edges { node { id environment { id } schedule { id environment { id } }
      records(first: 100) { edges { node { id item { id environment { id } } } } }
      reviews(first: 10) { edges { node { id } } }
      changesSincePreviousApproved { item { id } } } } }
  myPendingChecks(first: 100) { edges { node { id environment { id } } } }
}
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    rooms = scene.rooms_in_scope(reached.caller)
    assert reached.of_type("InventoryCheck") == set(_checks(scene, rooms))
    assert reached.of_type("CheckItemRecord") == set(RECORD.in_scope(scene, reached.caller))
    assert reached.of_type("CheckReview") == set(REVIEW.in_scope(scene, reached.caller))


RECORD = _rows_of(models.CheckItem)
REVIEW = _rows_of(models.CheckReview)

CASES = DomainCases(
    nodes={"InventoryCheck": CHECK, "CheckItemRecord": RECORD, "CheckReview": REVIEW},
    id_names={"scheduleIds": "Schedule"},
    queries={"inventoryCheck": AUTHENTICATED, "inventoryChecks": AUTHENTICATED, "classChecks": AUTHENTICATED},
    mutations=MUTATIONS,
    tables={
        "inventory_checks": Table(),
        "inventory_check_items": Table(),
        "inventory_check_reviews": Table(),
        "inventory_check_reminders": Table(key="schedule_id::text || ' ' || t.check_date"),
    },
    setup=_setup,
    nested=Nested(NESTED_QUERY, _check_nested),
)
