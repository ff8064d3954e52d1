"""graphql-transport-ws messages are text frames (SPEC §3). A browser's graphql-ws client
(GraphiQL's) cannot parse binary ones: it failed on the very first message, connection_ack,
with "Message is missing the 'type' property"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect as ws_connect

from graphql_api.db.embedded import free_port
from tests.server.conftest import Seeded, ServerProcess, process_env, uvicorn_command

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(server_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    log = tmp_path_factory.mktemp("frames") / "uvicorn.log"
    process = ServerProcess(uvicorn_command(port), process_env(DATABASE_URL=server_db.url), port, log)
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def test_every_server_message_is_a_text_frame(server: ServerProcess, server_db: Seeded) -> None:
    async with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {server_db.supervisor.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = await ws.recv()
        await ws.send(json.dumps({"type": "ping"}))
        pong = await ws.recv()
        # No Subscription type yet: the server's answer is an error message, still a text frame.
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "subscription { x }"}}))
        answer = await ws.recv()
    # The client hands text frames over as str and binary frames as bytes.
    assert [type(frame) for frame in (ack, pong, answer)] == [str, str, str]
    assert json.loads(ack)["type"] == "connection_ack"
    assert json.loads(pong)["type"] == "pong"
    assert json.loads(answer)["type"] == "error"
