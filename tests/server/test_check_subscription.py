"""inventoryCheckChanged end to end: a real uvicorn, the outbox woken by NOTIFY, the `gql` client
over a WebSocket. A subscriber of the room hears the check start, every record and the
submission; one whose scope does not hold the room is refused at subscribe, as for a missing
room, and subscribed to its own room hears nothing of this one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from graphql_api.db import models
from tests.conftest import Actor, Factory, gid
from tests.server.conftest import Seeded, ServerProcess, StartServer
from tests.server.test_maintenance_subscription import mutate
from tests.server.test_subscriptions import next_event, request, subscriber

pytestmark = pytest.mark.server

CHANGED = """subscription ($environmentId: ID!) { inventoryCheckChanged(environmentId: $environmentId) {
  id status environment { id } totals { items recorded } } }"""
START = """mutation ($input: StartInventoryCheckInput!) { startInventoryCheck(input: $input) {
  __typename ... on StartInventoryCheckPayload { check { id records(first: 10) { edges { node {
    item { id } expected } } } } } } }"""
RECORD = """mutation ($input: RecordCheckItemInput!) { recordCheckItem(input: $input) { __typename } }"""
SUBMIT = """mutation ($input: SubmitStudentCheckInput!) { submitStudentCheck(input: $input) { __typename } }"""


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def room_with_a_class(factory: Factory, code: str) -> tuple[models.Environment, dict[str, Actor], str]:
    """A room of a new center with two items, its supervisor, student and instructor, and a
    class of today."""
    room = await factory.environment(await factory.center(code=code), code=f"{code}-R")
    tag = uuid.uuid4().hex[:8]
    people = {
        role.name.lower(): await factory.user(role, room, email=f"{role.name.lower()}.{tag}@test.local")
        for role in (models.Role.SUPERVISOR, models.Role.STUDENT, models.Role.INSTRUCTOR)
    }
    await factory.item(room, quantity=1)
    await factory.item(room, quantity=6)
    slot = await factory.schedule(room, people["instructor"])
    return room, people, gid("Schedule", slot.id)


async def start(server: ServerProcess, student: Actor, slot: str) -> dict[str, Any]:
    answer = await mutate(server, START, {"scheduleId": slot}, student.token)
    assert answer["__typename"] == "StartInventoryCheckPayload", answer
    check: dict[str, Any] = answer["check"]
    return check


async def test_the_room_hears_its_check_and_no_one_else_does(server: ServerProcess, server_db: Seeded) -> None:
    factory = server_db.factory
    room, people, slot = await room_with_a_class(factory, f"CK{uuid.uuid4().hex[:4]}")
    theirs, others, their_slot = await room_with_a_class(factory, f"CO{uuid.uuid4().hex[:4]}")
    here, there = gid("Environment", room.id), gid("Environment", theirs.id)
    async with (
        subscriber(server, people["supervisor"].token) as mine,
        subscriber(server, others["supervisor"].token) as foreign,
    ):
        with pytest.raises(TransportQueryError) as refused:  # a room out of scope looks missing
            await next_event(foreign.subscribe(request(CHANGED, environmentId=here)))
        with pytest.raises(TransportQueryError) as missing:
            await next_event(foreign.subscribe(request(CHANGED, environmentId=gid("Environment", uuid.uuid4()))))
        assert refused.value.errors == missing.value.errors
        stream = mine.subscribe(request(CHANGED, environmentId=here))
        first_foreign = asyncio.ensure_future(next_event(foreign.subscribe(request(CHANGED, environmentId=there))))
        started = asyncio.ensure_future(next_event(stream))
        await asyncio.sleep(0.5)  # the subscriptions are registered before the changes
        check = await start(server, people["student"], slot)
        assert (await started)["inventoryCheckChanged"] == {
            "id": check["id"], "status": "STUDENT_PENDING", "environment": {"id": here},
            "totals": {"items": 2, "recorded": 0},
        }  # fmt: skip
        # Each event is rendered as the check is when it is delivered: wait for one per change.
        heard = []
        for edge in check["records"]["edges"]:
            values = {"checkId": check["id"], "itemId": edge["node"]["item"]["id"], "found": edge["node"]["expected"]}
            answer = await mutate(server, RECORD, {**values, "damaged": 0, "missing": 0}, people["student"].token)
            assert answer["__typename"] == "RecordCheckItemPayload"
            heard.append((await next_event(stream))["inventoryCheckChanged"])
        submitted = await mutate(server, SUBMIT, {"checkId": check["id"]}, people["student"].token)
        assert submitted["__typename"] == "InventoryCheckPayload"
        heard.append((await next_event(stream))["inventoryCheckChanged"])
        assert [(event["id"], event["status"], event["totals"]["recorded"]) for event in heard] == [
            (check["id"], "STUDENT_PENDING", 1),
            (check["id"], "STUDENT_PENDING", 2),
            (check["id"], "INSTRUCTOR_REVIEW", 2),
        ]
        # The other center's supervisor heard none of that: its first event is its own room's.
        own = await start(server, others["student"], their_slot)
        assert (await first_foreign)["inventoryCheckChanged"]["id"] == own["id"]
