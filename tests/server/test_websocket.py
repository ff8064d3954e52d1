"""graphql-transport-ws against a real uvicorn: text frames, queries and mutations over the
socket with gql's own WebsocketsTransport, and the protocol's close codes for every malformed
message (4400, or 4401/4409/4429 where the protocol names one), without a traceback in the
server's log.

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
    pending,
    process_env,
    row_lock,
    uvicorn_command,
    wait_for_lock_waiter,
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


async def test_connection_init_payload_may_be_null(socket: ClientConnection) -> None:
    # The protocol allows `payload: null`; without a token the connection is then refused.
    await socket.send(json.dumps({"type": "connection_init", "payload": None}))
    assert await closed_with(socket) == 4403


# ---- malformed messages -----------------------------------------------------------------------

SUBSCRIBE_ME: dict[str, Any] = {"id": "1", "type": "subscribe", "payload": {"query": ME}}


def subscribe(payload: object, **extra: object) -> str:
    return json.dumps({"id": "1", "type": "subscribe", "payload": payload, **extra})


BEFORE_INIT: dict[str, str | bytes] = {
    "invalid JSON": '{"type": "connection_init"',
    "JSON array": '[{"type": "connection_init"}]',
    "empty array": "[]",
    "number": "1",
    "string": '"connection_init"',
    "null": "null",
    "object without type": "{}",
    "type is a number": '{"type": 1}',
    "type is an array": '{"type": ["connection_init"]}',
    "type is an object": '{"type": {"connection_init": true}}',
    "type is null": '{"type": null}',
    "unknown type": '{"type": "start"}',
    "long unknown type": json.dumps({"type": "x" * 5000}),
    "server-only type": '{"type": "connection_ack"}',
    "init payload is a string": '{"type": "connection_init", "payload": "token"}',
    "init payload is an array": '{"type": "connection_init", "payload": []}',
    "ping payload is a number": '{"type": "ping", "payload": 1}',
    "NUL in a string": '{"type": "connection_init", "payload": {"authorization": "\\u0000"}}',
    "binary frame": b'{"type": "connection_init"}',
}

AFTER_INIT: dict[str, str] = {
    "subscribe without id": json.dumps({"type": "subscribe", "payload": {"query": ME}}),
    "subscribe with a numeric id": json.dumps({"id": 1, "type": "subscribe", "payload": {"query": ME}}),
    "subscribe with an array id": json.dumps({"id": [1], "type": "subscribe", "payload": {"query": ME}}),
    "subscribe with an object id": json.dumps({"id": {}, "type": "subscribe", "payload": {"query": ME}}),
    "subscribe with an empty id": json.dumps({"id": "", "type": "subscribe", "payload": {"query": ME}}),
    "subscribe without payload": json.dumps({"id": "1", "type": "subscribe"}),
    "payload is null": subscribe(None),
    "payload is a string": subscribe(ME),
    "payload is an array": subscribe([ME]),
    "query missing": subscribe({}),
    "query is a number": subscribe({"query": 1}),
    "query is null": subscribe({"query": None}),
    "query is an object": subscribe({"query": {"kind": "Document"}}),
    "variables is an array": subscribe({"query": ME, "variables": [1]}),
    "variables is a string": subscribe({"query": ME, "variables": "{}"}),
    "operationName is a number": subscribe({"query": ME, "operationName": 1}),
    "extensions is a string": subscribe({"query": ME, "extensions": "x"}),
    "complete without id": '{"type": "complete"}',
    "complete with an array id": '{"id": ["1"], "type": "complete"}',
    "client sends next": json.dumps({"id": "1", "type": "next", "payload": {"data": {}}}),
}


@pytest.mark.parametrize("case", list(BEFORE_INIT))
async def test_malformed_message_before_init_is_closed_4400(socket: ClientConnection, case: str) -> None:
    await socket.send(BEFORE_INIT[case])
    assert await closed_with(socket) == 4400


@pytest.mark.parametrize("case", list(AFTER_INIT))
async def test_malformed_message_after_init_is_closed_4400(
    socket: ClientConnection, server_db: Seeded, case: str
) -> None:
    await acknowledged(socket, server_db.supervisor.token)
    await socket.send(AFTER_INIT[case])
    assert await closed_with(socket) == 4400


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "{ me { id "},
        {"query": ""},
        {"query": ME, "operationName": "Other"},
        {"query": "query A { me { id } } query B { me { email } }"},
    ],
    ids=["syntax error", "empty document", "unknown operation", "operation not chosen"],
)
async def test_a_document_that_cannot_run_is_an_error_message(
    socket: ClientConnection, server_db: Seeded, payload: dict[str, Any]
) -> None:
    # A well-formed message whose document fails: the protocol's `error` message for that
    # operation, with a code; the connection stays usable.
    await acknowledged(socket, server_db.supervisor.token)
    await socket.send(json.dumps({"id": "bad", "type": "subscribe", "payload": payload}))
    error = await receive_text(socket)
    assert (error["id"], error["type"]) == ("bad", "error"), error
    assert [e["extensions"]["code"] for e in error["payload"]] == ["BAD_REQUEST"]
    await socket.send(json.dumps(SUBSCRIBE_ME))
    assert (await receive_text(socket))["type"] == "next"


async def test_subscribe_before_init_is_closed_4401(socket: ClientConnection) -> None:
    await socket.send(json.dumps(SUBSCRIBE_ME))
    assert await closed_with(socket) == 4401


async def test_ping_before_init_is_answered(socket: ClientConnection) -> None:
    # "The Ping message can be sent at any time within the established socket."
    await socket.send(json.dumps({"type": "ping"}))
    assert await receive_text(socket) == {"type": "pong"}


async def test_second_connection_init_is_closed_4429(socket: ClientConnection, server_db: Seeded) -> None:
    await acknowledged(socket, server_db.supervisor.token)
    await socket.send(json.dumps({"type": "connection_init", "payload": bearer(server_db.supervisor.token)}))
    assert await closed_with(socket) == 4429


async def test_duplicate_operation_id_is_closed_4409(socket: ClientConnection, server_db: Seeded) -> None:
    item = await server_db.new_item()
    mutation = {"query": ADJUST, "variables": adjust_input(gid("InventoryItem", item.id), 5)}
    await acknowledged(socket, server_db.supervisor.token)
    async with row_lock(server_db.url, item.id):
        # The first operation is still running (it waits on the row lock) when its id comes again.
        await socket.send(json.dumps({"id": "same", "type": "subscribe", "payload": mutation}))
        await wait_for_lock_waiter(server_db.url)
        await socket.send(json.dumps({"id": "same", "type": "subscribe", "payload": {"query": ME}}))
        async with pending(closed_with(socket)) as closing:
            assert await closing == 4409


async def test_an_id_may_be_reused_once_completed(socket: ClientConnection, server_db: Seeded) -> None:
    await acknowledged(socket, server_db.supervisor.token)
    for _ in range(2):
        await socket.send(json.dumps(SUBSCRIBE_ME))
        assert (await receive_text(socket))["type"] == "next"
        assert await receive_text(socket) == {"id": "1", "type": "complete"}


def test_server_log_has_no_tracebacks(server: ServerProcess) -> None:
    # Runs last in this module: no malformed message above may have raised in the server.
    log = server.log(limit=1_000_000)
    assert "Traceback" not in log, log
    assert "Exception in" not in log, log
    assert server.alive()
