"""maintenanceChanged end to end: a real uvicorn, the outbox woken by NOTIFY, the `gql` client
over a WebSocket. Each event reaches the subscribers whose scope holds the request, as the
request is now; a subscriber of another center gets nothing of it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from graphql_api.db import models
from tests.conftest import gid
from tests.server.conftest import Seeded, ServerProcess, StartServer, post_graphql
from tests.server.test_subscriptions import next_event, request, subscriber

pytestmark = pytest.mark.server

CHANGED = """subscription ($environmentId: ID) { maintenanceChanged(environmentId: $environmentId) {
  id status title environment { id } } }"""
CREATE = """mutation ($input: CreateMaintenanceRequestInput!) { createMaintenanceRequest(input: $input) {
  __typename ... on MaintenanceRequestPayload { request { id } } } }"""
ASSIGN = """mutation ($input: AssignMaintenanceRequestInput!) { assignMaintenanceRequest(input: $input) {
  __typename } }"""


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def mutate(server: ServerProcess, document: str, values: dict[str, Any], token: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        status, answer = await post_graphql(http, server.graphql_url, document, {"input": values}, token=token)
    assert status == 200, answer
    (result,) = answer["data"].values()
    return dict(result)


async def test_changes_reach_the_subscribers_in_scope_only(server: ServerProcess, server_db: Seeded) -> None:
    factory = server_db.factory
    room = gid("Environment", server_db.environment.id)
    item = await server_db.new_item(quantity=3)
    elsewhere = await factory.environment(await factory.center(code="SUBX"), code="SUBX-R")
    other = await factory.user(models.Role.SUPERVISOR, elsewhere, email="subx.supervisor@test.local")
    own = await factory.item(elsewhere, quantity=2)
    async with subscriber(server, server_db.supervisor.token) as mine, subscriber(server, other.token) as theirs:
        with pytest.raises(TransportQueryError):  # another center's room looks missing
            await next_event(theirs.subscribe(request(CHANGED, environmentId=room)))
        stream = mine.subscribe(request(CHANGED, environmentId=room))
        foreign = theirs.subscribe(request(CHANGED))
        waiting = asyncio.ensure_future(next_event(stream))
        waiting_foreign = asyncio.ensure_future(next_event(foreign))
        await asyncio.sleep(0.5)  # both subscriptions are registered before the changes
        values = {"itemId": gid("InventoryItem", item.id), "title": "Ventilador", "description": "ruido"}
        created = await mutate(server, CREATE, values, server_db.supervisor.token)
        request_id = created["request"]["id"]
        opened = await waiting
        assert opened["maintenanceChanged"] == {
            "id": request_id, "status": "PENDING", "title": "Ventilador", "environment": {"id": room},
        }  # fmt: skip
        assigned = asyncio.ensure_future(next_event(stream))
        answer = await mutate(
            server, ASSIGN, {"id": request_id, "assigneeId": server_db.supervisor.gid}, server_db.supervisor.token
        )
        assert answer["__typename"] == "MaintenanceRequestPayload"
        assert (await assigned)["maintenanceChanged"]["status"] == "ASSIGNED"
        # The other center's supervisor heard none of that: its first event is its own room's.
        values = {"itemId": gid("InventoryItem", own.id), "title": "Propio", "description": "x"}
        theirs_created = await mutate(server, CREATE, values, other.token)
        first = await waiting_foreign
    assert first["maintenanceChanged"]["id"] == theirs_created["request"]["id"]
