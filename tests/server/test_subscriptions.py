"""Subscriptions end to end: a real uvicorn, the outbox woken by NOTIFY, the `gql` client over
WebSockets (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import gid
from tests.server.conftest import Seeded, ServerProcess, StartServer, adjust_input, post_graphql

pytestmark = pytest.mark.server

STOCK = """subscription ($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) {
  item { id quantity quantityAvailable } movement { reason deltaQuantity quantityAfter } } }"""


def request(document: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables or None)


ADJUST = """mutation ($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename } }"""


@contextlib.asynccontextmanager
async def subscriber(server: ServerProcess, token: str) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(url=server.ws_url, init_payload={"authorization": f"Bearer {token}"})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


async def next_event(stream: Any, timeout: float = 10) -> dict[str, Any]:
    result: dict[str, Any] = await asyncio.wait_for(stream.__anext__(), timeout)
    return result


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def test_a_stock_movement_reaches_the_subscriber(server: ServerProcess, server_db: Seeded) -> None:
    item = await server_db.new_item(quantity=4)
    async with subscriber(server, server_db.supervisor.token) as session:
        stream = session.subscribe(request(STOCK, environmentId=gid("Environment", server_db.environment.id)))
        waiting = asyncio.ensure_future(next_event(stream))
        await asyncio.sleep(0.5)  # the subscription is registered before the change
        async with httpx.AsyncClient() as http:
            _, answer = await post_graphql(
                http, server.graphql_url, ADJUST, adjust_input(gid("InventoryItem", item.id), 4),
                token=server_db.supervisor.token,
            )  # fmt: skip
        assert answer["data"]["adjustItemStock"]["__typename"] == "AdjustItemStockPayload"
        event = await waiting
    assert event["itemStockChanged"]["item"]["quantity"] == 5
    assert event["itemStockChanged"]["movement"] == {"reason": "RESTOCK", "deltaQuantity": 1, "quantityAfter": 5}


async def test_subscriptions_hold_no_database_connection(server_db: Seeded, start_server: StartServer) -> None:
    """Three times as many subscribers as the worker's pool has connections: a subscription
    gives its connection back once it is set up (the hub renders each event on a connection of
    its own), so every subscriber is served and the mutations still get a connection."""
    server = start_server(server_db.url, DB_POOL_SIZE="2", DB_MAX_OVERFLOW="0")
    item = await server_db.new_item(quantity=4)
    watched = request(STOCK, environmentId=gid("Environment", server_db.environment.id))
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(subscriber(server, server_db.supervisor.token)) for _ in range(6)]
        waiting = [asyncio.ensure_future(next_event(session.subscribe(watched), 60)) for session in sessions]
        quantity = 4
        async with httpx.AsyncClient() as http:
            # A subscription registered after a change gets the next one: change until all have one.
            while not all(future.done() for future in waiting) and quantity < 64:
                await asyncio.sleep(0.5)
                _, answer = await post_graphql(
                    http, server.graphql_url, ADJUST, adjust_input(gid("InventoryItem", item.id), quantity),
                    token=server_db.supervisor.token,
                )  # fmt: skip
                assert answer["data"]["adjustItemStock"]["__typename"] == "AdjustItemStockPayload"
                quantity += 1
        events = await asyncio.gather(*waiting)
    assert {event["itemStockChanged"]["item"]["id"] for event in events} == {gid("InventoryItem", item.id)}
