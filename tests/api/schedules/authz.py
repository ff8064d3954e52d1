"""The schedules domain's cases for the authorization matrix (tests/authz/): a slot is seen with
its room; instructors manage their own, supervisors their center's, ADMIN_GENERAL all. The
instructor of world A teaches in a2, so every domain's matrix runs with the scope a schedule
gives (a2 joins the instructor's rooms)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select

from graphql_api.db import models
from graphql_api.services import schedules
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
    in_scope_of,
    on_own_object,
    unique,
    with_target,
)
from tests.conftest import gid

MANAGERS = frozenset({"INSTRUCTOR", "SUPERVISOR", "ADMIN_GENERAL"})


async def setup(scene: Scene) -> None:
    """Slots in a1 and a2 taught by world A's instructor, one in b1 by world B's."""
    w, factory = scene.world, scene.factory
    teacher_b = await factory.user(models.Role.INSTRUCTOR, w.b1)
    scene.notes["schedules"] = {
        "a1": (await factory.schedule(w.a1, w.instructor)).id,
        "a2": (await factory.schedule(w.a2, w.instructor)).id,
        "b1": (await factory.schedule(w.b1, teacher_b)).id,
        "teacher_b": teacher_b.id,
    }


def _slot(scene: Scene, room: str) -> uuid.UUID:
    made: dict[str, uuid.UUID] = scene.notes["schedules"]
    return made[room]


SLOTS_SEEN = {
    "student": ("a1",),
    "instructor": ("a1", "a2"),
    "supervisor": ("a1", "a2"),
    "admin": (),
    "admin_general": ("a1", "a2", "b1"),
}


def _slots_of_room(scene: Scene, caller: str, room: uuid.UUID) -> Select[Any]:
    rooms = [scene.room_id(name) for name in scene.rooms_in_scope(caller)]
    return select(models.Schedule.id).where(
        models.Schedule.environment_id == room, models.Schedule.environment_id.in_(rooms)
    )


def _slots_of_instructor(scene: Scene, caller: str, instructor: uuid.UUID) -> Select[Any]:
    rooms = [scene.room_id(name) for name in scene.rooms_in_scope(caller)]
    return select(models.Schedule.id).where(
        models.Schedule.instructor_id == instructor, models.Schedule.environment_id.in_(rooms)
    )


SCHEDULE = NodeCases(
    world_b=lambda s: [_slot(s, "b1")],
    in_scope=lambda s, caller: [_slot(s, room) for room in SLOTS_SEEN[caller]],
    # The a1 slot: deactivating it leaves the instructor's scope as it is (a1 is its home).
    target=lambda s, caller: _slot(s, "b1" if caller == "admin_general" else "a1"),
    filtered_by={"Environment": _slots_of_room, "User": _slots_of_instructor},
)


def _free_slot() -> dict[str, Any]:
    """A one-day validity far in the future: no two calls overlap."""
    day = date(2200, 1, 1) + timedelta(days=random.randrange(200_000))
    return {
        "weekday": day.isoweekday(),
        "startTime": "06:00",
        "endTime": "07:00",
        "validFrom": day.isoformat(),
        "validUntil": day.isoformat(),
        "program": "Matrix",
        "groupNumber": "1",
    }


async def _create_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    w = scene.world
    room = {"admin_general": w.b1.id, "supervisor": w.a2.id}.get(caller, w.a1.id)
    values = {"environmentId": gid("Environment", room), **_free_slot()}
    if caller == "admin_general":
        values["instructorId"] = gid("User", _slot(scene, "teacher_b"))
    elif caller == "supervisor":
        values["instructorId"] = gid("User", w.instructor.id)
    return values


async def _create_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"environmentId": target, **_free_slot()}


async def _set_active(scene: Scene, slot: uuid.UUID, active: bool) -> None:
    async with scene.db.begin() as session:
        row = await session.get(models.Schedule, slot)
        assert row is not None
        if row.is_active is not active:  # several callers share the object
            await schedules.set_schedule_active(session, (await scene.factory.system()).principal, slot, active=active)


async def _active(scene: Scene, slot: uuid.UUID) -> None:
    await _set_active(scene, slot, True)


async def _inactive(scene: Scene, slot: uuid.UUID) -> None:
    await _set_active(scene, slot, False)


MUTATIONS = {
    "createSchedule": MutationCase(
        access=MANAGERS,
        target="Environment",
        slot="environmentId",
        extra_slots={"instructorId": "User"},
        attack=_create_attack,
        out_of_scope=NOT_FOUND,
        in_scope=_create_input,
        success="SchedulePayload",
    ),
    "updateSchedule": MutationCase(
        access=MANAGERS,
        target="Schedule",
        slot="id",
        extra_slots={"environmentId": "Environment", "instructorId": "User"},
        attack=with_target("id", topic="Hijacked"),
        out_of_scope=NOT_FOUND,
        in_scope=lambda s, c, t: in_scope_of("Schedule", "id", topic=unique("Renamed"))(s, c, t),
        success="SchedulePayload",
    ),
    "deactivateSchedule": on_own_object("Schedule", "SchedulePayload", MANAGERS, prepare=_active),
    "activateSchedule": on_own_object("Schedule", "SchedulePayload", MANAGERS, prepare=_inactive),
}

NESTED_QUERY = """
{
  schedules(first: 100) { edges { node { id environment { id schedules(first: 50) { edges { node { id } } } } } } }
  mySchedulesToday(first: 100) { edges { node { id instructor { id } environment { id } } } }
}
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    if reached.caller == "anonymous":
        return
    assert reached.of_type("Schedule") == {_slot(scene, room) for room in SLOTS_SEEN[reached.caller]}


CASES = DomainCases(
    nodes={"Schedule": SCHEDULE},
    id_names={"instructorId": "User", "instructorIds": "User"},
    queries={"schedule": AUTHENTICATED, "schedules": AUTHENTICATED},
    mutations=MUTATIONS,
    tables={"schedules": Table()},
    setup=setup,
    nested=Nested(query=NESTED_QUERY, check=_check_nested),
)
