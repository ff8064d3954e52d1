"""The subscribers of the `subscriptions` workload, all in one process (pinned to the generator's
CPU): each is a WebSocket speaking graphql-transport-ws (token in connection_init, then one
subscribe), driven by the harness through JSON commands on stdin, one answer per command on
stdout (a line starting with SUBS_JSON).

    python -m bench.subs_driver --plan plan.json --port P --dsn postgresql://...

Sockets are asyncio protocols around websockets' sans-I/O client: a frame is handled in the
callback that reads it, with no task per socket, so that thousands of sockets cost the
generator less than they cost the server. Each `next` message is stamped with time.time() when
its frame is read; latency is that stamp minus the commit time of the event's transaction
(pg_xact_commit_timestamp of its outbox row; the bench's PostgreSQL tracks commit timestamps),
both on this machine's real-time clock.

Commands: connect {count, concurrency} opens the plan's next `count` subscribers; await
{movements, timeout} waits until every open subscriber has received those events; stats
{movements} measures their deliveries; samples gives each socket's last message; close
closes every socket; exit.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import resource
import statistics
import sys
import time
from collections import Counter
from typing import Any

import asyncpg
import orjson
import uvloop
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

SUBPROTOCOL = Subprotocol("graphql-transport-ws")
CONNECT_TIMEOUT_S = 60.0
COMMITS = """
SELECT data->>'movement' AS movement, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8 AS committed
FROM outbox_events WHERE topic = 'item_stock' AND data->>'movement' = ANY($1::text[])
"""


def movement_uuid(global_id: str) -> str:
    return base64.b64decode(global_id).decode().partition(":")[2]


class Subscriber(asyncio.Protocol):
    def __init__(self, driver: Driver, spec: dict[str, Any]) -> None:
        self.driver, self.spec = driver, spec
        self.ws = ClientProtocol(driver.uri, subprotocols=[SUBPROTOCOL], max_size=2**20)
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.subscribed: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.received = 0
        self.last: bytes = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self._message(event.data)
            elif isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self._fail(f"handshake: {event.status_code}")
                else:
                    auth = {"authorization": f"Bearer {self.spec['token']}"}
                    self._send({"type": "connection_init", "payload": auth})
        self._flush()

    def _message(self, data: bytes) -> None:
        now = time.time()
        message = orjson.loads(data)
        kind = message.get("type")
        if kind == "next":
            payload = message["payload"]
            change = (payload.get("data") or {}).get("itemStockChanged")
            if change is None or payload.get("errors"):
                self.driver.problems["next with errors"] += 1
                return
            self.received += 1
            self.last = data
            self.driver.receipts.setdefault(change["movement"]["id"], []).append(now)
        elif kind == "connection_ack":
            subscribe = {"query": self.spec["query"], "variables": self.spec["variables"]}
            self._send({"id": self.spec["id"], "type": "subscribe", "payload": subscribe})
            if not self.subscribed.done():
                self.subscribed.set_result(None)
        elif kind == "ping":
            self._send({"type": "pong"})
        elif kind in ("error", "complete"):
            self.driver.problems[f"{kind}: {str(message.get('payload'))[:120]}"] += 1

    def _send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(orjson.dumps(message))

    def _flush(self) -> None:
        if self.transport is None:
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def _fail(self, reason: str) -> None:
        self.driver.problems[reason] += 1
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(reason))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.ws.send_close(1000)
            self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.driver.close_codes[str(self.ws.close_code)] += 1
        self._fail("closed before subscribing")
        if not self.closed.done():
            self.closed.set_result(None)


class Driver:
    def __init__(self, plan: dict[str, Any], port: int, dsn: str) -> None:
        self.specs: list[dict[str, Any]] = plan["subscribers"]
        self.uri = parse_uri(f"ws://127.0.0.1:{port}/graphql")
        self.port, self.dsn = port, dsn
        self.next_spec = 0
        self.sockets: list[Subscriber] = []
        self.receipts: dict[str, list[float]] = {}
        self.problems: Counter[str] = Counter()
        self.close_codes: Counter[str] = Counter()

    def open_sockets(self) -> list[Subscriber]:
        return [s for s in self.sockets if not s.closed.done()]

    async def connect(self, count: int, concurrency: int) -> dict[str, Any]:
        started = time.monotonic()
        specs = self.specs[self.next_spec : self.next_spec + count]
        self.next_spec += len(specs)
        gate = asyncio.Semaphore(concurrency)
        loop = asyncio.get_running_loop()

        async def one(spec: dict[str, Any]) -> bool:
            async with gate:
                try:
                    _, socket = await loop.create_connection(lambda: Subscriber(self, spec), "127.0.0.1", self.port)
                    self.sockets.append(socket)
                    await asyncio.wait_for(asyncio.shield(socket.subscribed), CONNECT_TIMEOUT_S)
                    return True
                except (OSError, ConnectionError, TimeoutError) as error:
                    self.problems[f"connect: {error!r}"[:160]] += 1
                    return False

        results = await asyncio.gather(*(one(spec) for spec in specs))
        return {"connected": sum(results), "failed": len(results) - sum(results), "seconds": time.monotonic() - started}

    async def wait_for(self, movements: list[str], timeout: float) -> dict[str, Any]:
        """Until every open subscriber has received each of `movements` (or `timeout`)."""
        started = time.monotonic()
        while True:
            subscribers = len(self.open_sockets())
            missing = sum(max(0, subscribers - len(self.receipts.get(m, ()))) for m in movements)
            elapsed = time.monotonic() - started
            if missing == 0 or elapsed > timeout:
                return {"complete": missing == 0, "missing": missing, "seconds": elapsed}
            await asyncio.sleep(0.01)

    async def stats(self, movements: list[str]) -> dict[str, Any]:
        uuids = [movement_uuid(m) for m in movements]
        connection = await asyncpg.connect(self.dsn)
        try:
            committed = {row["movement"]: row["committed"] for row in await connection.fetch(COMMITS, uuids)}
        finally:
            await connection.close()
        latencies: list[float] = []
        receipts: list[float] = []
        for movement, key in zip(movements, uuids, strict=True):
            times = self.receipts.get(movement, [])
            receipts += times
            if key in committed:
                latencies += [(t - committed[key]) * 1000 for t in times]
        latencies.sort()
        commits = sorted(committed.values())

        def at(q: float) -> float | None:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

        return {
            "events": len(movements),
            "events_committed": len(commits),
            "subscribers": len(self.open_sockets()),
            "deliveries": len(receipts),
            "p50_ms": at(0.5),
            "p90_ms": at(0.9),
            "p99_ms": at(0.99),
            "max_ms": latencies[-1] if latencies else None,
            "mean_ms": statistics.fmean(latencies) if latencies else None,
            "first_commit": commits[0] if commits else None,
            "last_commit": commits[-1] if commits else None,
            "first_receipt": min(receipts, default=None),
            "last_receipt": max(receipts, default=None),
        }

    async def samples(self) -> dict[str, Any]:
        """The last `next` message of each open socket (the JSON check)."""
        return {"messages": [orjson.loads(s.last) if s.last else None for s in self.open_sockets()]}

    async def close(self) -> dict[str, Any]:
        for socket in self.sockets:
            socket.close()
        pending = [s.closed for s in self.sockets if not s.closed.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        for socket in self.sockets:
            if socket.transport is not None and not socket.closed.done():
                socket.transport.abort()
        closed = len(self.sockets)
        self.sockets = []
        return {"closed": closed}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def serve(driver: Driver) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = orjson.loads(line)
        name = command.pop("cmd")
        if name == "exit":
            break
        handler = {
            "connect": driver.connect,
            "await": driver.wait_for,
            "stats": driver.stats,
            "samples": driver.samples,
            "close": driver.close,
        }
        answer = await handler[name](**command)
        answer.update(
            cpu_s=cpu_seconds(),
            problems=dict(driver.problems),
            close_codes=dict(driver.close_codes),
            open=len(driver.open_sockets()),
        )
        sys.stdout.write("SUBS_JSON " + orjson.dumps(answer).decode() + "\n")
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True, help="JSON file: {subscribers: [{token, query, variables, id}]}")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True, help="the bench database (commit timestamps)")
    args = parser.parse_args()
    with open(args.plan, "rb") as handle:
        plan = orjson.loads(handle.read())
    uvloop.run(serve(Driver(plan, args.port, args.dsn)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
