"""The maintenance domain's cases for the authorization matrix (tests/authz/): requests and
history are seen in scope; plans only by the item's managers; assigning, manual history and
plans are for SUPERVISOR (scope), ADMIN (own warehouse) and ADMIN_GENERAL; starting and
completing also for the assignee, cancelling also for the requester while PENDING (so those
are open to every signed-in user, and each caller's in-scope call acts on a request of its
own making: assigned to it, or opened by it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select

from graphql_api.db import models
from graphql_api.services import maintenance
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
    with_target,
)
from tests.conftest import Actor, gid

MANAGERS = frozenset({"SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
TODAY_FIELDS = {"maintenanceType": "CORRECTIVE", "description": "Fixed"}
# Per room: who opens its request (and is assigned to it: requester = assignee, so the
# requests a filter by a user finds are the same through assigneeIds and requesterIds) and
# which manager assigns it and writes the room's history entry and plan.
ROOMS = {
    "a1": ("student", "supervisor"),
    "a2": ("supervisor", "supervisor"),
    "aw": ("admin", "admin"),
    "b1": ("student_b", "admin_general"),
    "bw": ("admin_b", "admin_b"),
}
R = models.MaintenanceRequest


async def setup(scene: Scene) -> None:
    w = scene.world
    made: dict[str, dict[str, uuid.UUID]] = {"requests": {}, "records": {}, "plans": {}}
    today = datetime.now(scene.factory.settings.timezone).date()
    for room, (opener, manager) in ROOMS.items():
        item = w.items[room][1]
        by, boss = w.role(opener), w.role(manager)
        async with scene.db.begin() as session:
            request = await maintenance.open_request(
                session, by.principal, item_id=item.id, units=1, title=room, description="x",
                priority=models.MaintenancePriority.LOW,
            )  # fmt: skip
            await maintenance.assign_request(session, boss.principal, request.id, assignee_id=by.id)
            record = await maintenance.add_record(
                session, boss.principal, item_id=item.id, today=today,
                fields=maintenance.RecordFields(models.MaintenanceType.PREVENTIVE, "Cleaned"),
            )  # fmt: skip
            plan = await maintenance.set_plan(
                session, boss.principal, item_id=item.id, today=today, fields=maintenance.PlanFields(every_days=90)
            )
            # The scene's inboxes are the notifications domain's (its checks count them).
            await session.execute(delete(models.Notification).where(models.Notification.kind.like("maintenance.%")))
        made["requests"][room], made["records"][room], made["plans"][room] = request.id, record.id, plan.id
    scene.notes["maintenance"] = made


def _made(scene: Scene, kind: str, rooms: Any) -> list[uuid.UUID]:
    made: dict[str, dict[str, uuid.UUID]] = scene.notes["maintenance"]
    return [made[kind][room] for room in sorted(rooms)]


def _managed_rooms(scene: Scene, caller: str) -> set[str]:
    if caller in {"student", "instructor", "anonymous"}:
        return set()
    return {"admin": {"aw"}}.get(caller, scene.rooms_in_scope(caller))


def _room_ids(scene: Scene, rooms: set[str]) -> list[uuid.UUID]:
    return [scene.room_id(room) for room in rooms]


def _by_room(model: Any) -> Any:
    def statement(scene: Scene, caller: str, room: uuid.UUID) -> Select[Any]:
        return select(model.id).where(model.environment_id == room)

    return statement


def _by_item(model: Any, *, managed: bool = False) -> Any:
    def statement(scene: Scene, caller: str, item: uuid.UUID) -> Select[Any]:
        stmt = select(model.id).where(model.item_id == item)
        if managed:
            stmt = stmt.where(model.environment_id.in_(_room_ids(scene, _managed_rooms(scene, caller))))
        return stmt

    return statement


def _requests_of_user(scene: Scene, caller: str, user: uuid.UUID) -> Select[Any]:
    # Requester and assignee are the same person in every request of the scene.
    rooms = _room_ids(scene, scene.rooms_in_scope(caller))
    return select(R.id).where(R.requester_id == user, R.assignee_id == user, R.environment_id.in_(rooms))


WORLD_B = ("b1", "bw")
REQUEST = NodeCases(
    world_b=lambda s: _made(s, "requests", WORLD_B),
    in_scope=lambda s, caller: _made(s, "requests", s.rooms_in_scope(caller)),
    filtered_by={"Environment": _by_room(R), "InventoryItem": _by_item(R), "User": _requests_of_user},
)
RECORD = NodeCases(
    world_b=lambda s: _made(s, "records", WORLD_B),
    in_scope=lambda s, caller: _made(s, "records", s.rooms_in_scope(caller)),
    filtered_by={
        "Environment": _by_room(models.MaintenanceRecord),
        "InventoryItem": _by_item(models.MaintenanceRecord),
    },
)
PLAN = NodeCases(
    world_b=lambda s: _made(s, "plans", WORLD_B),
    in_scope=lambda s, caller: _made(s, "plans", _managed_rooms(s, caller)),
    filtered_by={
        "Environment": _by_room(models.MaintenancePlan),
        "InventoryItem": _by_item(models.MaintenancePlan, managed=True),
    },
)


# ---- requests made for one call ---------------------------------------------------------------


async def _fresh(scene: Scene, caller: str, *, assign_to_caller: bool, started: bool = False) -> str:
    """A new request on the group item of the caller's room, opened by the caller (by
    ADMIN_GENERAL for the anonymous caller), assigned to the caller if asked (and started)."""
    w = scene.world
    boss = w.admin_general
    me: Actor = boss if caller == "anonymous" else w.role(caller)
    item = w.items[scene.room(caller)][1]
    async with scene.db.begin() as session:
        request = await maintenance.open_request(
            session, me.principal, item_id=item.id, units=1, title="t", description="d",
            priority=models.MaintenancePriority.MEDIUM,
        )  # fmt: skip
        if assign_to_caller:
            await maintenance.assign_request(session, boss.principal, request.id, assignee_id=me.id)
        if started:
            await maintenance.start_request(session, boss.principal, request.id)
    return gid("MaintenanceRequest", request.id)


def _assignee_of(scene: Scene, caller: str) -> str:
    return scene.world.admin_general.gid if caller == "anonymous" else scene.world.role(caller).gid


async def _assign_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"id": await _fresh(scene, caller, assign_to_caller=False), "assigneeId": _assignee_of(scene, caller)}


async def _start_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"id": await _fresh(scene, caller, assign_to_caller=True)}


async def _complete_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"id": await _fresh(scene, caller, assign_to_caller=True, started=True), **TODAY_FIELDS}


async def _cancel_input(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"id": await _fresh(scene, caller, assign_to_caller=False)}


def _transition(access: Any, in_scope: Any, success: str = "MaintenanceRequestPayload", **attack: Any) -> MutationCase:
    return MutationCase(
        access=access,
        target="MaintenanceRequest",
        slot="id",
        attack=with_target("id", **attack),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope,
        success=success,
    )


async def _assign_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"id": target, "assigneeId": scene.world.admin_general.gid}


MUTATIONS = {
    "createMaintenanceRequest": MutationCase(
        access=AUTHENTICATED,
        target="InventoryItem",
        slot="itemId",
        extra_slots={"environmentId": "Environment"},
        attack=with_target("itemId", title="Planted", description="x"),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("InventoryItem", "itemId", title="Broken", description="x"),
        success="MaintenanceRequestPayload",
    ),
    "assignMaintenanceRequest": MutationCase(
        access=MANAGERS,
        target="MaintenanceRequest",
        slot="id",
        extra_slots={"assigneeId": "User"},
        attack=_assign_attack,
        out_of_scope=NOT_FOUND,
        in_scope=_assign_input,
        success="MaintenanceRequestPayload",
    ),
    "startMaintenanceRequest": _transition(AUTHENTICATED, _start_input),
    "completeMaintenanceRequest": _transition(
        AUTHENTICATED, _complete_input, "CompleteMaintenanceRequestPayload", **TODAY_FIELDS
    ),
    "cancelMaintenanceRequest": _transition(AUTHENTICATED, _cancel_input),
    "addMaintenanceRecord": MutationCase(
        access=MANAGERS,
        target="InventoryItem",
        slot="itemId",
        attack=with_target("itemId", **TODAY_FIELDS),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("InventoryItem", "itemId", **TODAY_FIELDS),
        success="MaintenanceRecordPayload",
    ),
    "setMaintenancePlan": MutationCase(
        access=MANAGERS,
        target="InventoryItem",
        slot="itemId",
        attack=with_target("itemId", everyDays=1),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("InventoryItem", "itemId", everyDays=30),
        success="MaintenancePlanPayload",
    ),
}

NESTED_QUERY = """
{
  maintenanceRequests(first: 100) { edges { node { id environment { id } item { id environment { id } }
      requester { id environment { id } } assignee { id } record { id }
      plan { id item { id } } } } }
  maintenanceHistory(first: 100) { edges { node { id item { id } request { id } recordedBy { id } } } }
  maintenanceItems: items(first: 100) { edges { node { id
      maintenanceRequests(first: 10) { totalCount edges { node { id assignee { id } } } }
      maintenanceHistory(first: 10) { totalCount edges { node { id } } }
      maintenancePlan { id item { id } } } } }
}
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    caller = reached.caller
    rooms = scene.rooms_in_scope(caller)
    assert reached.of_type("MaintenanceRequest") == set(_made(scene, "requests", rooms))
    assert reached.of_type("MaintenanceRecord") == set(_made(scene, "records", rooms))
    # Plans (item.maintenancePlan) only for the item's managers.
    assert reached.of_type("MaintenancePlan") == set(_made(scene, "plans", _managed_rooms(scene, caller)))
    for edge in reached.data["maintenanceItems"]["edges"]:
        requests = edge["node"]["maintenanceRequests"]
        assert requests["totalCount"] == len(requests["edges"])


CASES = DomainCases(
    nodes={"MaintenanceRequest": REQUEST, "MaintenanceRecord": RECORD, "MaintenancePlan": PLAN},
    id_names={"assigneeIds": "User", "requesterIds": "User"},
    queries={
        "maintenanceRequest": AUTHENTICATED,
        "maintenanceRequests": AUTHENTICATED,
        "maintenanceHistory": AUTHENTICATED,
        "maintenancePlans": MANAGERS,
    },
    mutations=MUTATIONS,
    tables={"maintenance_requests": Table(), "maintenance_records": Table(), "maintenance_plans": Table()},
    setup=setup,
    nested=Nested(NESTED_QUERY, _check_nested),
)
