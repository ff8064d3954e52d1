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
