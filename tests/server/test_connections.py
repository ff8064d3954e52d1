"""Connections as `graphql-api serve` handles them (S43 and the workers issue): clients that hang
up or stall in the middle of a request, the concurrency limit, and how several workers share
new connections. All against real server processes over real sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Seeded, ServerProcess, StartServer

pytestmark = pytest.mark.server

CONNECTIONS = 16
HALF_BODY = (
    b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"query": "{ __typ'
)


def log_lines(server: ServerProcess) -> list[str]:
    return server.log(limit=1_000_000).splitlines()


def closed_by_server(sock: socket.socket, limit: float) -> bool:
    """Whether the server closes `sock` (EOF or reset) within `limit` seconds; only the answer
    counts, not how long it took."""
    sock.settimeout(limit)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


async def test_client_hanging_up_in_the_middle_of_a_body_logs_one_line_at_most(
    start_server: StartServer, server_db: Seeded
) -> None:
    server = start_server(server_db.url, cli=True, LOG_LEVEL="info")
    before = len(log_lines(server))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(HALF_BODY)
        await asyncio.sleep(0.3)  # the request is in the app, waiting for the rest of its body
    for _ in range(100):
        if any("disconnected" in line or "Exception" in line for line in log_lines(server)[before:]):
            break
        await asyncio.sleep(0.1)
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.post(server.graphql_url, json={"query": "{ __typename }"})).status_code == 200

    # The periodic jobs' first runs may log while this happens; they are not about the client.
    added = [line for line in log_lines(server)[before:] if "graphql_api.jobs.scheduler" not in line]
    assert len(added) <= 1, "\n".join(added)
    assert "disconnected before its POST /graphql request arrived" in added[0]


def test_requests_that_never_arrive_whole_are_closed_after_the_read_timeout(
    start_server: StartServer, server_db: Seeded
) -> None:
    server = start_server(server_db.url, cli=True, REQUEST_READ_TIMEOUT_SECONDS="1")
    stalled = {
        "silent": b"",
        "half headers": b"POST /graphql HTTP/1.1\r\nHost: te",
        "half body": HALF_BODY,
    }
    sockets = {name: socket.create_connection(("127.0.0.1", server.port), timeout=10) for name in stalled}
    try:
        for name, data in stalled.items():
            sockets[name].sendall(data)
        closed = {name: closed_by_server(sock, 15) for name, sock in sockets.items()}
    finally:
        for sock in sockets.values():
            sock.close()
    assert closed == dict.fromkeys(stalled, True)
    assert "Traceback" not in server.log(limit=1_000_000)
    # A request that arrives whole in time is served as always.
    assert httpx.post(server.graphql_url, json={"query": "{ __typename }"}, timeout=10).status_code == 200


def test_concurrency_limit_answers_503_beyond_it(start_server: StartServer, server_db: Seeded) -> None:
    server = start_server(server_db.url, cli=True, LIMIT_CONCURRENCY="3")
    # Three open connections (idle keep-alive ones count: they hold a slot of the server).
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.3)  # let the server accept them
        response = httpx.get(server.base_url + "/health/live", timeout=10)
    finally:
        for sock in held:
            sock.close()
    assert response.status_code == 503


# ---- several workers ---------------------------------------------------------------------------


def worker_pids(supervisor: int) -> set[int]:
    """The worker processes uvicorn's supervisor started (not multiprocessing's tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == supervisor and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


async def workers_serving(url: str, connections: int = CONNECTIONS) -> list[int]:
    """Opens `connections` keep-alive connections at once (one client each) and returns, per
    connection, the pid of the worker that answered on it."""
    clients = [httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) for _ in range(connections)]
    try:
        responses = await asyncio.gather(*(client.get(url) for client in clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    assert all(response.status_code == 200 for response in responses)
    return [response.json()["worker"] for response in responses]


async def wait_for_workers(supervisor: int, count: int, without: int) -> set[int]:
    for _ in range(300):
        pids = worker_pids(supervisor)
        if len(pids) == count and without not in pids:
            return pids
        await asyncio.sleep(0.1)
    raise AssertionError(f"the supervisor did not get back to {count} workers")


async def test_two_workers_share_connections_opened_at_once(start_server: StartServer, server_db: Seeded) -> None:
    server = start_server(server_db.url, cli=True, WORKERS="2")
    live = server.base_url + "/health/live"
    workers = await wait_for_workers(server.pid, 2, without=0)
    for _ in range(50):  # both answer once both have started
        if set(await workers_serving(live, 4)) == workers:
            break
        await asyncio.sleep(0.2)

    # One worker is busy for a moment (SIGSTOP stands in for a long request or a collection)
    # while a client opens its connections. On one shared socket the other worker accepted
    # them all; with a socket per worker those the kernel gave the busy one wait for it.
    busy = min(workers)
    os.kill(busy, signal.SIGSTOP)
    try:
        opened = asyncio.ensure_future(workers_serving(live))
        await asyncio.sleep(1)
    finally:
        os.kill(busy, signal.SIGCONT)
    served = await opened
    assert set(served) == workers, served

    # A worker that dies is replaced; its socket goes with it, so no connection waits for it
    # (each round below would time out), and the new worker takes its share once started.
    os.kill(busy, signal.SIGKILL)
    replaced = await wait_for_workers(server.pid, 2, without=busy)
    for _ in range(50):
        served = await workers_serving(live)
        if set(served) == replaced:
            break
        await asyncio.sleep(0.2)
    assert set(served) == replaced, served
    assert server.alive()
