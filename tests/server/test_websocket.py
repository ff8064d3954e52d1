"""graphql-transport-ws against a real uvicorn: text frames, queries and mutations over the
socket with gql's own WebsocketsTransport, without a traceback in the server's log.

There are no subscriptions in the schema yet; `subscribe` with a query or a mutation document
exercises the same protocol path (one `next`, then `complete`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from graphql_api.db.embedded import free_port
from tests.conftest import gid
from tests.server.conftest import (
    ADJUST,
    Seeded,
    ServerProcess,
    adjust_input,
    process_env,
    uvicorn_command,
)

pytestmark = pytest.mark.server

PROTOCOL = "graphql-transport-ws"
ME = "{ me { id email role } }"
# Only so that a server that never answers fails the test instead of hanging the suite.
HANG = 30


@pytest.fixture(scope="module")
def server(server_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(
        uvicorn_command(port),
        process_env(DATABASE_URL=server_db.url),
        port,
        tmp_path_factory.mktemp("websocket") / "uvicorn.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def no_traceback_in_server_log(server: ServerProcess) -> Iterator[None]:
    """Whatever a test sends, the server logs no exception for it (uvicorn logs an exception
    escaping the app before it drops the connection, so the log is complete by then)."""
    start = len(server.log(limit=10_000_000))
    yield
    new = server.log(limit=10_000_000)[start:]
    assert "Traceback" not in new, new
    assert server.alive()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def socket(server: ServerProcess) -> AsyncIterator[ClientConnection]:
    async with ws_connect(server.ws_url, subprotocols=[PROTOCOL], open_timeout=10) as ws:  # type: ignore[list-item]
        yield ws


async def receive_text(ws: ClientConnection) -> dict[str, Any]:
    """The next message, which must arrive as a text frame holding a JSON object."""
    async with asyncio.timeout(HANG):
        frame = await ws.recv()
    assert isinstance(frame, str), f"binary frame: {frame!r}"
    message: dict[str, Any] = json.loads(frame)
    return message


async def acknowledged(ws: ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token)}))
    assert (await receive_text(ws))["type"] == "connection_ack"


async def closed_with(ws: ClientConnection) -> int | None:
    async with asyncio.timeout(HANG):
        try:
            while True:  # anything the server still sends before closing is not the point here
                await ws.recv()
        except websockets.ConnectionClosed:
            return ws.close_code


# ---- text frames ------------------------------------------------------------------------------


async def test_every_server_message_is_a_text_frame(socket: ClientConnection, server_db: Seeded) -> None:
    await acknowledged(socket, server_db.supervisor.token)
    await socket.send(json.dumps({"type": "ping"}))
    assert await receive_text(socket) == {"type": "pong"}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ME}}))
    result = await receive_text(socket)
    assert result["type"] == "next"
    assert result["payload"]["data"]["me"]["id"] == server_db.supervisor.gid
    assert await receive_text(socket) == {"id": "1", "type": "complete"}
    # An invalid document: the protocol's `error` message, also text.
    await socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": "{ nope }"}}))
    error = await receive_text(socket)
    assert (error["id"], error["type"]) == ("2", "error")
    assert error["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_gql_websockets_transport_runs_a_query_and_a_mutation(server: ServerProcess, server_db: Seeded) -> None:
    transport = WebsocketsTransport(url=server.ws_url, init_payload=bearer(server_db.supervisor.token))
    item = await server_db.new_item(quantity=3)
    async with Client(transport=transport) as session:
        me = await session.execute(GraphQLRequest(ME))
        assert me["me"] == {
            "id": server_db.supervisor.gid,
            "email": server_db.supervisor.user.email,
            "role": "SUPERVISOR",
        }
        adjusted = await session.execute(
            GraphQLRequest(ADJUST, variable_values=adjust_input(gid("InventoryItem", item.id), 3))
        )
        assert adjusted["adjustItemStock"]["__typename"] == "AdjustItemStockPayload"
        assert adjusted["adjustItemStock"]["item"]["quantity"] == 4
        stale = await session.execute(
            GraphQLRequest(ADJUST, variable_values=adjust_input(gid("InventoryItem", item.id), 3))
        )
        assert (stale["adjustItemStock"]["__typename"], stale["adjustItemStock"]["code"]) == (
            "ConflictError",
            "CONFLICT",
        )
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(GraphQLRequest("{ itemz { id } }"))
    assert raised.value.errors
    assert raised.value.errors[0]["extensions"]["code"] == "BAD_REQUEST"


def test_server_log_has_no_tracebacks(server: ServerProcess) -> None:
    # Runs last in this module: no malformed message above may have raised in the server.
    log = server.log(limit=1_000_000)
    assert "Traceback" not in log, log
    assert "Exception in" not in log, log
    assert server.alive()
