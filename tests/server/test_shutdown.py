"""F10: graceful shutdown on SIGTERM (SPEC §9, security-and-faults.md §6).

With a mutation in flight (held on a row lock, released about a second after SIGTERM) and an
open, acknowledged WebSocket: the WebSocket is closed with 1012, a new connection gets no
answer, the in-flight request completes with its success payload, and the process exits 0
within the graceful timeout. The server is started as in production, `graphql-api serve`.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect

from tests.conftest import gid, without_cost
from tests.server.conftest import (
    ADJUST,
    Seeded,
    StartServer,
    adjust_input,
    item_state,
    pending,
    post_graphql,
    row_lock,
    wait_for_lock_waiter,
)

pytestmark = pytest.mark.server

GRACEFUL_SECONDS = 20  # timeout_graceful_shutdown of `graphql-api serve` (graphql_api/cli.py)


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_f10_sigterm_finishes_in_flight_request_and_closes_websockets_1012(
    start_server: StartServer, server_db: Seeded, workers: str
) -> None:
    # The production entry point (the Dockerfile's CMD): uvicorn run by `graphql-api serve`;
    # with 2 workers under uvicorn's supervisor, each on a socket of its own.
    server = start_server(server_db.url, cli=True, WORKERS=workers)
    item = await server_db.new_item(quantity=5)
    item_id = gid("InventoryItem", item.id)

    async with (
        httpx.AsyncClient(timeout=30) as http,
        ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws,  # type: ignore[list-item]
        row_lock(server_db.url, item.id) as lock,
        pending(
            post_graphql(http, server.graphql_url, ADJUST, adjust_input(item_id, 5), token=server_db.supervisor.token)
        ) as in_flight,
    ):
        payload = {"authorization": f"Bearer {server_db.supervisor.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await wait_for_lock_waiter(server_db.url)

        server.signal(signal.SIGTERM)
        signalled = time.monotonic()

        # uvicorn closes the listening socket first, then asks each connection to shut down:
        # the WebSocket's 1012 therefore also tells that no new connection is accepted.
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), GRACEFUL_SECONDS)
        assert ws.close_code == 1012

        # A new connection after SIGTERM is refused or at least never gets a success. Each
        # worker notices the signal at its own next tick (uvicorn checks every 0.1 s), so the
        # other worker of two may still be listening for a moment after this one closed.
        await asyncio.sleep(0.5)
        try:
            async with httpx.AsyncClient(timeout=3) as fresh:
                late = await fresh.post(server.graphql_url, json={"query": "{ __typename }"})
        except httpx.TransportError:
            pass
        else:
            pytest.fail(f"a connection made after SIGTERM was served: {late.status_code} {late.text[:200]}")

        assert not in_flight.done()
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - signalled)))
        await lock.release()
        status, result = await asyncio.wait_for(in_flight, GRACEFUL_SECONDS)

    assert status == 200
    assert without_cost(result) == {
        "data": {
            "adjustItemStock": {
                "__typename": "AdjustItemStockPayload",
                "item": {"id": item_id, "quantity": 6},
                "movement": result["data"]["adjustItemStock"]["movement"],
            }
        }
    }
    assert result["data"]["adjustItemStock"]["movement"]["quantityAfter"] == 6

    exit_code = await asyncio.to_thread(server.wait, GRACEFUL_SECONDS + 5)
    elapsed = time.monotonic() - signalled
    assert exit_code == 0, server.log()
    assert elapsed < GRACEFUL_SECONDS, elapsed
    print(f"F10 exited 0 {elapsed:.2f} s after SIGTERM")
    assert await item_state(server_db.url, item.id) == (6, 2)
    log = server.log()
    assert "Application shutdown complete" in log, log  # lifespan ran: the engine is disposed
    assert "Traceback" not in log, log


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_ctrl_c_stops_serve_cleanly(start_server: StartServer, server_db: Seeded, workers: str) -> None:
    server = start_server(server_db.url, cli=True, WORKERS=workers)
    server.signal(signal.SIGINT)
    exit_code = await asyncio.to_thread(server.wait, GRACEFUL_SECONDS + 5)
    log = server.log()
    assert exit_code == 0, log
    assert "Traceback" not in log, log
