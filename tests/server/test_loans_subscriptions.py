"""loanChanged end to end: a real uvicorn, the outbox woken by NOTIFY, the `gql` client over
WebSockets. Each subscriber gets the changes of the loans it may see, loaded in its own
scope at delivery, and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from graphql_api.db import models
from graphql_api.services import loans
from tests.conftest import Actor, gid
from tests.server.conftest import Seeded, ServerProcess, StartServer, post_graphql

pytestmark = pytest.mark.server

CHANGED = """subscription ($warehouseId: ID) { loanChanged(warehouseId: $warehouseId) {
  id status quantity requester { id } warehouse { id } } }"""
CREATE = "mutation ($input: CreateLoanInput!) { createLoan(input: $input) { ... on LoanPayload { loan { id } } } }"
APPROVE = "mutation ($input: LoanIdInput!) { approveLoan(input: $input) { __typename } }"


@dataclass
class Warehouses:
    """Two centers, each with a warehouse and its admin; an instructor of the first."""

    first: models.Environment
    second: models.Environment
    instructor: Actor
    admin: Actor
    other_admin: Actor
    item: models.InventoryItem


@pytest.fixture
async def warehouses(server_db: Seeded) -> Warehouses:
    factory, tag = server_db.factory, uuid.uuid4().hex[:6]
    centers = [await factory.center(code=f"L{tag}{n}") for n in range(2)]
    first = await factory.environment(centers[0], code=f"LW{tag}1", is_warehouse=True)
    second = await factory.environment(centers[1], code=f"LW{tag}2", is_warehouse=True)
    room = await factory.environment(centers[0], code=f"LR{tag}")
    return Warehouses(
        first=first,
        second=second,
        instructor=await factory.user(models.Role.INSTRUCTOR, room, email=f"instructor.{tag}@test.local"),
        admin=await factory.user(models.Role.ADMIN, first, email=f"admin.{tag}@test.local"),
        other_admin=await factory.user(models.Role.ADMIN, second, email=f"admin2.{tag}@test.local"),
        item=await factory.item(first, quantity=5),
    )


@contextlib.asynccontextmanager
async def subscriber(server: ServerProcess, actor: Actor) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(url=server.ws_url, init_payload={"authorization": f"Bearer {actor.token}"})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


async def next_event(stream: Any, timeout: float = 20) -> dict[str, Any]:
    result: dict[str, Any] = await asyncio.wait_for(stream.__anext__(), timeout)
    return result["loanChanged"]


async def request(server: ServerProcess, actor: Actor, warehouse: models.Environment, settings: Any) -> str:
    start = loans.Calendar.of(settings).today
    values = {
        "warehouseId": gid("Environment", warehouse.id),
        "itemDescription": "Router",
        "purpose": "Laboratorio",
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=1)).isoformat(),
    }
    async with httpx.AsyncClient() as http:
        _, answer = await post_graphql(http, server.graphql_url, CREATE, {"input": values}, token=actor.token)
    loan_id: str = answer["data"]["createLoan"]["loan"]["id"]
    return loan_id


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def test_each_subscriber_gets_the_changes_of_the_loans_it_may_see(
    server: ServerProcess, server_db: Seeded, warehouses: Warehouses
) -> None:
    w = warehouses
    async with (
        subscriber(server, w.instructor) as instructor,
        subscriber(server, w.admin) as admin,
        subscriber(server, w.other_admin) as other,
    ):
        own_warehouse = {"warehouseId": gid("Environment", w.first.id)}
        streams = {
            "instructor": instructor.subscribe(GraphQLRequest(CHANGED)),
            "admin": admin.subscribe(GraphQLRequest(CHANGED, variable_values=own_warehouse)),
            "other": other.subscribe(GraphQLRequest(CHANGED)),
        }
        waiting = {name: asyncio.ensure_future(next_event(stream)) for name, stream in streams.items()}
        await asyncio.sleep(1)  # the subscriptions are registered before the first change
        loan_id = await request(server, w.instructor, w.first, server_db.settings)
        for name in ("instructor", "admin"):
            event = await waiting[name]
            assert (event["id"], event["status"]) == (loan_id, "PENDING")
            assert event["requester"] == {"id": w.instructor.gid}
        async with httpx.AsyncClient() as http:
            await post_graphql(http, server.graphql_url, APPROVE, {"input": {"id": loan_id}}, token=w.admin.token)
        for name in ("instructor", "admin"):
            event = await next_event(streams[name])
            assert (event["id"], event["status"]) == (loan_id, "APPROVED")
        # The other warehouse's admin heard nothing of it: their first event is their own loan.
        own = await request(server, w.other_admin, w.second, server_db.settings)
        first_seen = await waiting["other"]
        assert (first_seen["id"], first_seen["status"]) == (own, "PENDING")


async def test_a_warehouse_out_of_scope_looks_missing(server: ServerProcess, warehouses: Warehouses) -> None:
    errors = []
    for warehouse in (warehouses.second.id, uuid.uuid4()):
        async with subscriber(server, warehouses.instructor) as instructor:
            variables = {"warehouseId": gid("Environment", warehouse)}
            with pytest.raises(TransportQueryError) as raised:
                async for _ in instructor.subscribe(GraphQLRequest(CHANGED, variable_values=variables)):
                    pass
        assert raised.value.errors
        errors.append([(e["message"], e["extensions"]["code"]) for e in raised.value.errors])
    assert errors[0] == errors[1]
    assert errors[0][0][1] == "BAD_REQUEST"
