"""Maintenance requests over GraphQL: opening, who may do what to which request, the typed
errors of bad input, and reads within scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import items
from tests.api.maintenance.helpers import S, advance, item_row, ledger_adds_up, open_for_item, request_in, snapshot
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

CREATE = """mutation ($input: CreateMaintenanceRequestInput!) { createMaintenanceRequest(input: $input) {
  __typename
  ... on MaintenanceRequestPayload { request { id status units priority item { id } environment { id }
      requester { id } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { field code } }
} }"""
ASSIGN = """mutation ($input: AssignMaintenanceRequestInput!) { assignMaintenanceRequest(input: $input) {
  __typename ... on MaintenanceRequestPayload { request { status assignee { id } } }
  ... on Error { code } ... on ValidationError { fieldErrors { field code } } } }"""
START = """mutation ($input: StartMaintenanceRequestInput!) { startMaintenanceRequest(input: $input) {
  __typename ... on MaintenanceRequestPayload { request { status item { quantityInMaintenance } } }
  ... on Error { code message } } }"""
COMPLETE = """mutation ($input: CompleteMaintenanceRequestInput!) { completeMaintenanceRequest(input: $input) {
  __typename
  ... on CompleteMaintenanceRequestPayload { request { status returnedDamaged record { id } }
      record { cost maintenanceType performedOn nextDate item { lastMaintenanceDate nextMaintenanceDate } } }
  ... on Error { code } ... on ValidationError { fieldErrors { field code } } } }"""
CANCEL = """mutation ($input: CancelMaintenanceRequestInput!) { cancelMaintenanceRequest(input: $input) {
  __typename ... on MaintenanceRequestPayload { request { status cancellationReason } } ... on Error { code } } }"""


async def answer(gql: GraphQLClient, document: str, values: dict[str, Any], actor: Actor) -> dict[str, Any]:
    data = await gql.data(document, {"input": values}, token=actor)
    (result,) = data.values()
    return dict(result)


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


async def test_any_signed_in_user_opens_a_request_in_scope(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][1]
    result = await answer(
        gql, CREATE, {"itemId": gid("InventoryItem", item.id), "units": 2, "title": "Teclas", "description": "x"},
        world.student,
    )  # fmt: skip
    request = result["request"]
    assert (request["status"], request["units"], request["priority"]) == ("PENDING", 2, "MEDIUM")
    assert request["environment"]["id"] == gid("Environment", world.a1.id)
    assert request["requester"]["id"] == world.student.gid
    # An environment request has no units.
    room = await answer(
        gql, CREATE, {"environmentId": gid("Environment", world.a1.id), "title": "Luz", "description": "x"},
        world.student,
    )  # fmt: skip
    assert (room["request"]["units"], room["request"]["item"]) == (None, None)


async def test_out_of_scope_targets_look_missing(gql: GraphQLClient, world: World) -> None:
    b_item = await answer(
        gql, CREATE, {"itemId": gid("InventoryItem", world.items["b1"][0].id), "title": "t", "description": "d"},
        world.supervisor,
    )  # fmt: skip
    a2_room = await answer(
        gql, CREATE, {"environmentId": gid("Environment", world.a2.id), "title": "t", "description": "d"},
        world.student,
    )  # fmt: skip
    assert (b_item["__typename"], a2_room["__typename"]) == ("NotFoundError", "NotFoundError")


async def test_bad_input_is_a_validation_error(gql: GraphQLClient, world: World, factory: Factory) -> None:
    item = world.items["a1"][1]  # 10 units, none damaged
    item_id = gid("InventoryItem", item.id)
    cases = [
        ({"title": "t", "description": "d"}, [("itemId", "MAINTENANCE_TARGET_REQUIRED")]),
        ({"itemId": item_id, "units": 11, "title": "t", "description": "d"}, [("units", "MAX_VALUE")]),
        (
            {"itemId": item_id, "units": 0, "title": " ", "description": "d"},
            [("title", "BLANK"), ("units", "MIN_VALUE")],
        ),
        (
            {"itemId": item_id, "units": 1, "unitsAlreadyDamaged": True, "title": "t", "description": "d"},
            [("units", "MAINTENANCE_MORE_THAN_DAMAGED")],
        ),
        (
            {"itemId": item_id, "environmentId": gid("Environment", world.a2.id), "title": "t", "description": "d"},
            [("environmentId", "MAINTENANCE_NOT_ITEM_ENVIRONMENT")],
        ),
        (
            {"environmentId": gid("Environment", world.a1.id), "units": 2, "title": "t", "description": "d"},
            [("units", "MAINTENANCE_NO_UNITS_FOR_ENVIRONMENT")],
        ),
        ({"itemId": item_id, "title": "t" * 201, "description": "d"}, [("title", "TOO_LONG")]),
    ]
    for values, expected in cases:
        assert field_errors(await answer(gql, CREATE, values, world.supervisor)) == expected, values
    retired = await factory.item(world.a1, quantity=1)
    async with factory.db.begin() as session:
        await items.retire_item(session, world.admin_general.principal, retired.id, note=None)
    gone = await answer(
        gql, CREATE, {"itemId": gid("InventoryItem", retired.id), "title": "t", "description": "d"}, world.supervisor
    )
    assert gone["__typename"] == "ConflictError"


async def test_assign_start_complete_by_the_assignee(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a1"][1]
    request_id = gid("MaintenanceRequest", await open_for_item(db, world.student, item, units=2))
    # Assigning is for managers only (the directive refuses the others).
    refused = await gql.execute(
        ASSIGN, {"input": {"id": request_id, "assigneeId": world.instructor.gid}}, token=world.student
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    result = await answer(gql, ASSIGN, {"id": request_id, "assigneeId": world.instructor.gid}, world.supervisor)
    assert result["request"] == {"status": "ASSIGNED", "assignee": {"id": world.instructor.gid}}
    # Another user of the room (not the assignee, not a manager) may not start it.
    assert (await answer(gql, START, {"id": request_id}, world.student))["__typename"] == "PermissionDeniedError"
    started = await answer(gql, START, {"id": request_id}, world.instructor)
    assert started["request"] == {"status": "IN_PROGRESS", "item": {"quantityInMaintenance": 2}}
    done = await answer(
        gql,
        COMPLETE,
        {"id": request_id, "maintenanceType": "PREVENTIVE", "description": "cleaned", "cost": "10.5",
         "performedOn": "2024-03-01", "nextDate": "2024-09-01", "returnedDamaged": 2},
        world.instructor,
    )  # fmt: skip
    assert done["request"]["status"] == "COMPLETED"
    assert done["request"]["record"]["id"]
    assert done["record"]["cost"] == "10.50"
    assert done["record"]["item"] == {"lastMaintenanceDate": "2024-03-01", "nextMaintenanceDate": "2024-09-01"}
    now = await ledger_adds_up(db, item.id)
    assert (now.quantity_damaged, now.quantity_in_maintenance) == (2, 0)


async def test_bad_assignees_and_completion_input(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    request_id = await open_for_item(db, world.supervisor, world.items["a2"][1], units=2)
    gid_ = gid("MaintenanceRequest", request_id)
    gone = await factory.user(models.Role.INSTRUCTOR, world.a2)
    async with db.begin() as session:
        await session.execute(models.User.__table__.update().where(models.User.id == gone.id).values(is_active=False))
    cases = [
        (world.student_b.gid, "NOT_FOUND"),  # world B: not visible to the caller
        (gid("User", uuid.uuid4()), "NOT_FOUND"),
        (world.student.gid, "MAINTENANCE_ASSIGNEE_OUT_OF_SCOPE"),  # a1's student cannot see a2
        (gone.gid, "MAINTENANCE_USER_INACTIVE"),
    ]
    for assignee, code in cases:
        result = await answer(gql, ASSIGN, {"id": gid_, "assigneeId": assignee}, world.supervisor)
        assert field_errors(result) == [("assigneeId", code)], assignee
    await advance(db, world.supervisor, request_id, S.IN_PROGRESS)
    before = await snapshot(db)
    base = {"id": gid_, "maintenanceType": "CORRECTIVE", "description": "x"}
    bad = [
        ({"returnedDamaged": 3}, [("returnedDamaged", "MAX_VALUE")]),
        ({"returnedDamaged": -1}, [("returnedDamaged", "MIN_VALUE")]),
        ({"cost": "-1"}, [("cost", "MIN_VALUE")]),
        ({"cost": "1.234"}, [("cost", "MAINTENANCE_COST_DECIMALS")]),
        ({"cost": "100000000"}, [("cost", "MAX_VALUE")]),
        ({"performedOn": "2999-01-01"}, [("performedOn", "MAINTENANCE_DATE_IN_FUTURE")]),
        ({"performedOn": "2024-01-02", "nextDate": "2024-01-02"}, [("nextDate", "MAINTENANCE_NEXT_DATE_NOT_AFTER")]),
        ({"description": "  "}, [("description", "BLANK")]),
    ]
    for extra, expected in bad:
        assert field_errors(await answer(gql, COMPLETE, {**base, **extra}, world.supervisor)) == expected, extra
    assert await snapshot(db) == before


async def test_reassigning_tells_the_replaced_assignee(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    other = await factory.user(models.Role.SUPERVISOR, world.a2)
    request_id = await open_for_item(db, world.student, world.items["a1"][1])
    await advance(db, world.supervisor, request_id, S.ASSIGNED, assignee=world.instructor)
    result = await answer(
        gql, ASSIGN, {"id": gid("MaintenanceRequest", request_id), "assigneeId": other.gid}, world.supervisor
    )
    assert result["request"]["assignee"] == {"id": other.gid}
    async with db() as session:
        told = await session.execute(
            select(models.Notification.recipient_id).where(models.Notification.kind == "maintenance.assigned")
        )
        recipients = sorted(str(user) for (user,) in told.all())
    # First assignment: requester and instructor; reassignment: requester, new and old assignee.
    expected = [world.student.id, world.instructor.id, world.student.id, other.id, world.instructor.id]
    assert recipients == sorted(str(user) for user in expected)


async def test_cancel_by_requester_only_while_pending(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    mine = await open_for_item(db, world.student, world.items["a1"][1])
    result = await answer(gql, CANCEL, {"id": gid("MaintenanceRequest", mine), "reason": "mistake"}, world.student)
    assert result["request"] == {"status": "CANCELLED", "cancellationReason": "mistake"}
    assigned = await open_for_item(db, world.student, world.items["a1"][1])
    await advance(db, world.supervisor, assigned, S.ASSIGNED)
    late = await answer(gql, CANCEL, {"id": gid("MaintenanceRequest", assigned)}, world.student)
    assert late["__typename"] == "ConflictError"
    # Someone else's request: not the requester's to cancel.
    theirs = await open_for_item(db, world.supervisor, world.items["a1"][1])
    other = await answer(gql, CANCEL, {"id": gid("MaintenanceRequest", theirs)}, world.student)
    assert other["__typename"] == "PermissionDeniedError"


async def test_cancelling_in_progress_returns_the_units(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    item = await factory.item(world.a1, quantity=5, damaged=2)
    plain = await request_in(db, world.supervisor, item, S.IN_PROGRESS, units=2)
    found = await request_in(db, world.supervisor, item, S.IN_PROGRESS, units=2, damaged=True)
    now = await ledger_adds_up(db, item.id)
    assert (now.quantity_in_maintenance, now.quantity_damaged) == (4, 0)
    for request_id in (plain, found):
        result = await answer(gql, CANCEL, {"id": gid("MaintenanceRequest", request_id)}, world.supervisor)
        assert result["request"]["status"] == "CANCELLED"
    now = await ledger_adds_up(db, item.id)
    # Back where they came from: the damaged ones were not repaired.
    assert (now.quantity_in_maintenance, now.quantity_damaged, now.quantity_available) == (0, 2, 3)


async def test_starting_without_the_units_is_a_conflict(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    item = await factory.item(world.a1, quantity=3)
    first = await request_in(db, world.supervisor, item, S.ASSIGNED, units=2)
    second = await request_in(db, world.supervisor, item, S.ASSIGNED, units=2)
    assert (await answer(gql, START, {"id": gid("MaintenanceRequest", first)}, world.supervisor))["request"]
    before = await snapshot(db)
    late = await answer(gql, START, {"id": gid("MaintenanceRequest", second)}, world.supervisor)
    assert late["__typename"] == "ConflictError"
    assert "2" in late["message"]
    assert await snapshot(db) == before
    assert (await item_row(db, item.id)).quantity_in_maintenance == 2


READ = """query ($id: ID!, $item: ID!) {
  maintenanceRequest(id: $id) { id status }
  item(id: $item) { maintenanceRequests(first: 10) { totalCount edges { node { id } } }
                    maintenanceHistory(first: 10) { totalCount } }
  maintenanceRequests(first: 50, where: {statuses: [PENDING]}) { totalCount }
}"""


async def test_reads_stay_within_scope(gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World) -> None:
    a1 = await open_for_item(db, world.student, world.items["a1"][1])
    b1 = await open_for_item(db, world.admin_general, world.items["b1"][1])
    variables = {"id": gid("MaintenanceRequest", b1), "item": gid("InventoryItem", world.items["a1"][1].id)}
    data = await gql.data(READ, variables, token=world.student)
    assert data["maintenanceRequest"] is None
    assert data["item"]["maintenanceRequests"]["edges"] == [{"node": {"id": gid("MaintenanceRequest", a1)}}]
    assert data["maintenanceRequests"]["totalCount"] == 1
    everything = await gql.data(READ, variables, token=world.admin_general)
    assert everything["maintenanceRequest"]["status"] == "PENDING"
    assert everything["maintenanceRequests"]["totalCount"] == 2
    # Filters narrow, never widen: world B's room gives a student nothing.
    narrowed = await gql.data(
        "query ($w: MaintenanceRequestWhere) { maintenanceRequests(where: $w) { totalCount } }",
        {"w": {"environmentIds": [gid("Environment", world.b1.id)]}},
        token=world.student,
    )
    assert narrowed["maintenanceRequests"]["totalCount"] == 0
