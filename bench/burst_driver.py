"""Probes, and optionally a burst of heavy requests, for the `burst` workload: runs for a fixed
time, then prints one JSON line with what it saw.

    python -m bench.burst_driver --port P --token T --seconds 10 [--heavy 40]

Probes: `GET /health/live` and `me` at a fixed rate each (open loop, a bounded number
outstanding; a probe that cannot be sent because too many are outstanding counts as skipped).
Heavy: that many clients, each sending the heavy query in a loop; a client told RATE_LIMITED
waits the Retry-After it was given, as a well-behaved client does.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

# A page of 100 items, each with a page of 100 movements: cost 100 + 100 x 100 = 10 100.
HEAVY_QUERY = (
    "query Heavy { items(first: 100) { edges { node { id name quantityAvailable environment { name } "
    "movements(first: 100) { edges { node { id reason quantityAfter createdAt item { name } } } } } } } }"
)
ME_QUERY = "query Me { me { id } }"
PROBE_OUTSTANDING = 8


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()

    def add(self, seconds: float | None, outcome: str) -> None:
        with self.lock:
            if seconds is not None:
                self.latencies.append(seconds)
            self.outcomes[outcome] += 1

    def summary(self, wall: float) -> dict[str, Any]:
        ms = sorted(value * 1000 for value in self.latencies)

        def at(q: float) -> float | None:
            return round(ms[min(len(ms) - 1, int(q * len(ms)))], 1) if ms else None

        return {
            "count": len(ms),
            "rate": round(len(ms) / wall, 2),
            "p50_ms": at(0.5),
            "p99_ms": at(0.99),
            "max_ms": round(ms[-1], 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "outcomes": dict(self.outcomes),
        }


def outcome_of(status: int, body: bytes) -> str:
    if status != 200:
        return f"HTTP {status}"
    if b'"errors"' not in body:
        return "ok"
    try:
        error = orjson.loads(body)["errors"][0]
        return str((error.get("extensions") or {}).get("code", "ERROR"))
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return "ERROR"


class Connection:
    """One keep-alive connection per thread."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.local = threading.local()

    def send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes, str | None]:
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            fresh = conn is None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request(method, path, body, self.headers)
                response = conn.getresponse()
                return response.status, response.read(), response.getheader("retry-after")
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if fresh or attempt:
                    break  # a kept-alive connection the server closed while idle gets one retry
        return 0, b"", None


def heavy_client(connection: Connection, stop: threading.Event, recorder: Recorder) -> None:
    body = orjson.dumps({"query": HEAVY_QUERY, "operationName": "Heavy"})
    while not stop.is_set():
        started = time.perf_counter()
        status, data, retry_after = connection.send("POST", "/graphql", body)
        outcome = outcome_of(status, data) if status else "socket"
        # Latencies of answered requests only: a shed one comes back at once.
        recorder.add(time.perf_counter() - started if outcome == "ok" else None, outcome)
        if outcome == "RATE_LIMITED":
            stop.wait(float(retry_after or 1))


def probe_loop(connection: Connection, stop: threading.Event, rate: float, probes: dict[str, Recorder]) -> int:
    requests = {
        "live": ("GET", "/health/live", None),
        "me": ("POST", "/graphql", orjson.dumps({"query": ME_QUERY, "operationName": "Me"})),
    }
    outstanding = Counter[str]()
    lock = threading.Lock()
    skipped = 0

    def one(name: str) -> None:
        method, path, body = requests[name]
        started = time.perf_counter()
        status, data, _ = connection.send(method, path, body)
        outcome = ("ok" if status == 200 else f"HTTP {status}") if name == "live" else outcome_of(status, data)
        probes[name].add(time.perf_counter() - started, outcome if status else "socket")
        with lock:
            outstanding[name] -= 1

    pool = ThreadPoolExecutor(max_workers=2 * PROBE_OUTSTANDING)
    next_at = time.monotonic()
    while not stop.is_set():
        for name in requests:
            with lock:
                busy = outstanding[name] >= PROBE_OUTSTANDING
                if not busy:
                    outstanding[name] += 1
            if busy:
                skipped += 1
            else:
                pool.submit(one, name)
        next_at += 1.0 / rate
        stop.wait(max(0.0, next_at - time.monotonic()))
    pool.shutdown(wait=True)
    return skipped


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--heavy", type=int, default=0, help="heavy clients (0: probes only)")
    parser.add_argument("--probe-rate", type=float, default=20.0, help="probes/s of each kind")
    args = parser.parse_args()
    connection = Connection(args.port, args.token)
    stop = threading.Event()
    heavy = Recorder()
    probes = {"live": Recorder(), "me": Recorder()}
    threads = [
        threading.Thread(target=heavy_client, args=(connection, stop, heavy), daemon=True) for _ in range(args.heavy)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    timer = threading.Timer(args.seconds, stop.set)
    timer.start()
    skipped = probe_loop(connection, stop, args.probe_rate, probes)
    for thread in threads:
        thread.join(timeout=120)
    wall = time.monotonic() - started
    result = {name: recorder.summary(wall) for name, recorder in probes.items()}
    result.update(heavy=heavy.summary(wall), heavy_clients=args.heavy, probe_skipped=skipped, seconds=round(wall, 2))
    print("BURST_JSON " + orjson.dumps(result).decode(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
