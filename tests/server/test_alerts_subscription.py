"""alertRaised end to end: a real uvicorn, alerts raised in committed transactions, the `gql`
client over WebSockets; each subscriber gets the alerts of its scope from its minimum
severity, and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from graphql_api.db import models
from graphql_api.services import alerts
from tests.conftest import gid
from tests.server.conftest import Seeded, ServerProcess, StartServer

pytestmark = pytest.mark.server

RAISED = """subscription ($min: AlertSeverity!) { alertRaised(minSeverity: $min) {
  id type severity message environment { id } subject { id } } }"""


@contextlib.asynccontextmanager
async def listening(server: ServerProcess, token: str, minimum: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """A socket of its own subscribed to alertRaised; what it receives lands in the queue."""
    transport = WebsocketsTransport(url=server.ws_url, init_payload={"authorization": f"Bearer {token}"})
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:

        async def consume() -> None:
            try:
                async for result in session.subscribe(GraphQLRequest(RAISED, variable_values={"min": minimum})):
                    await received.put(result["alertRaised"])
            except Exception as error:  # an error payload ends the stream: the test reports it
                await received.put({"id": None, "error": repr(error)})

        task = asyncio.ensure_future(consume())
        try:
            yield received
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def test_alert_raised_reaches_the_subscribers_in_scope_only(server_db: Seeded, start_server: StartServer) -> None:
    factory, db = server_db.factory, server_db.factory.db
    center, other = await factory.center(), await factory.center()
    room, warehouse = await factory.environment(center), await factory.environment(center, is_warehouse=True)
    elsewhere = await factory.environment(other)
    supervisor = await factory.user(models.Role.SUPERVISOR, room)
    admin = await factory.user(models.Role.ADMIN, warehouse)
    server = start_server(server_db.url, SCHEDULER_ENABLED="false")

    async def raise_in(environment: models.Environment, severity: models.AlertSeverity) -> str:
        async with db.begin() as session:
            alert_id = await alerts.raise_alert(
                session,
                models.AlertType.EQUIPMENT_MISSING,
                severity,
                subject_type="InventoryItem",
                subject_id=uuid.uuid4(),
                environment_id=environment.id,
                params={"item": "Proyector", "code": "P-1", "environment": environment.name, "missing": 1},
            )
        assert alert_id is not None
        return gid("SystemAlert", alert_id)

    async with (
        listening(server, supervisor.token, "LOW") as of_supervisor,
        listening(server, admin.token, "LOW") as of_admin,
        listening(server, supervisor.token, "HIGH") as of_supervisor_high,
    ):
        queues = (of_supervisor, of_admin, of_supervisor_high)
        # Until every subscription is registered: critical alerts in the warehouse, which all
        # three see, raised until each has received one.
        probes: set[str] = set()
        for _ in range(60):
            probes.add(await raise_in(warehouse, models.AlertSeverity.CRITICAL))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_all_received(queues), 1)
                break
        assert all(not queue.empty() for queue in queues), "a subscription never received the probes"

        # In this commit order: another center's, the room's (MEDIUM), the warehouse's (HIGH).
        out_of_scope = await raise_in(elsewhere, models.AlertSeverity.CRITICAL)
        in_room = await raise_in(room, models.AlertSeverity.MEDIUM)
        in_warehouse = await raise_in(warehouse, models.AlertSeverity.HIGH)

        # Each group renders its events in commit order: what comes first after the probes is
        # the first alert the subscriber may see, so the earlier ones were not delivered.
        first = await _next_real(of_supervisor, probes)
        assert first["id"] == in_room
        assert first["type"] == "EQUIPMENT_MISSING"
        assert first["severity"] == "MEDIUM"
        assert first["environment"] == {"id": gid("Environment", room.id)}
        assert first["message"] == f"Faltan 1 unidades de «Proyector» (P-1) en {room.name}."
        assert first["subject"] is None  # no such item
        assert (await _next_real(of_supervisor, probes))["id"] == in_warehouse
        assert (await _next_real(of_admin, probes))["id"] == in_warehouse
        assert (await _next_real(of_supervisor_high, probes))["id"] == in_warehouse
        assert out_of_scope not in probes


async def _all_received(queues: tuple[asyncio.Queue[dict[str, Any]], ...]) -> None:
    while any(queue.empty() for queue in queues):
        await asyncio.sleep(0.05)


async def _next_real(queue: asyncio.Queue[dict[str, Any]], probes: set[str]) -> dict[str, Any]:
    while True:
        event = await asyncio.wait_for(queue.get(), 20)
        assert "error" not in event, event
        if event["id"] not in probes:
            return event


async def test_students_and_instructors_may_not_subscribe(server_db: Seeded, start_server: StartServer) -> None:
    factory = server_db.factory
    room = await factory.environment(await factory.center())
    server = start_server(server_db.url, SCHEDULER_ENABLED="false")
    for role in (models.Role.STUDENT, models.Role.INSTRUCTOR):
        actor = await factory.user(role, room)
        async with listening(server, actor.token, "LOW") as received:
            event = await asyncio.wait_for(received.get(), 20)
        assert event["id"] is None
        assert "FORBIDDEN" in event["error"], event
