"""The mutation stream of the `subscriptions` workload: `adjustItemStock` (RESTOCK +1 with
expectedQuantity) on the items of the watched environment, sent to the writer server over
HTTP, driven by JSON commands on stdin with one answer per command on stdout (SUBS_JSON).

    python -m bench.subs_writer --port P --token T --items items.json

stream {rate, seconds, concurrency}: open loop at `rate` mutations/s (a tick that finds
`concurrency` mutations outstanding is skipped and counted); burst {count, concurrency}: that
many mutations as fast as `concurrency` connections send them. Items are taken round robin, so
the same item is never in two outstanding mutations and its expected quantity is always known.
Each answer lists the movement ids committed, which the subscribers must receive. A command may
carry a fresh `token` for this and the following commands.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from bench.workloads import ADJUST_MUTATION


class Writer:
    def __init__(self, port: int, token: str, items: list[tuple[str, int]]) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.quantities = dict(items)
        self.order = itertools.cycle([item for item, _ in items])
        self.lock = threading.Lock()
        self.local = threading.local()

    def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", "/graphql", body, self.headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            return 0, b""

    def one(self, outcomes: Counter[str], movements: list[str], latencies: list[float]) -> None:
        with self.lock:
            item = next(self.order)
            expected = self.quantities[item]
        variables = {"input": {"itemId": item, "expectedQuantity": expected, "delta": {"quantity": 1}}}
        variables["input"]["reason"] = "RESTOCK"
        body = orjson.dumps({"query": ADJUST_MUTATION, "operationName": "Adjust", "variables": variables})
        started = time.perf_counter()
        status, data = self._post(body)
        elapsed = time.perf_counter() - started
        result = ((orjson.loads(data).get("data") or {}).get("adjustItemStock") or {}) if status == 200 else {}
        with self.lock:
            latencies.append(elapsed)
            kind = result.get("__typename") or f"HTTP {status}"
            outcomes[kind] += 1
            if kind == "AdjustItemStockPayload":
                self.quantities[item] = result["item"]["quantity"]
                movements.append(result["movement"]["id"])

    def run(self, ticks: Any, concurrency: int) -> dict[str, Any]:
        outcomes: Counter[str] = Counter()
        movements: list[str] = []
        latencies: list[float] = []
        outstanding = threading.Semaphore(concurrency)
        skipped = 0
        started = time.monotonic()

        def task() -> None:
            try:
                self.one(outcomes, movements, latencies)
            finally:
                outstanding.release()

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for blocking in ticks:
                if outstanding.acquire(blocking=blocking):
                    pool.submit(task)
                else:
                    skipped += 1
        ms = sorted(value * 1000 for value in latencies)
        return {
            "outcomes": dict(outcomes),
            "movements": movements,
            "skipped": skipped,
            "seconds": time.monotonic() - started,
            "p50_ms": ms[len(ms) // 2] if ms else None,
            "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else None,
        }

    def stream(self, rate: float, seconds: float, concurrency: int = 8) -> dict[str, Any]:
        def ticks() -> Any:
            start = time.monotonic()
            for index in range(int(rate * seconds)):
                delay = start + index / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                yield False  # open loop: a tick with every slot busy is skipped

        return self.run(ticks(), concurrency)

    def burst(self, count: int, concurrency: int = 4) -> dict[str, Any]:
        return self.run(itertools.repeat(True, count), concurrency)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--items", required=True, help="JSON file: [[item global id, quantity], ...]")
    args = parser.parse_args()
    with open(args.items, "rb") as handle:
        items = [(str(item), int(quantity)) for item, quantity in orjson.loads(handle.read())]
    writer = Writer(args.port, args.token, items)
    for line in sys.stdin:
        command = orjson.loads(line)
        name = command.pop("cmd")
        if name == "exit":
            break
        if token := command.pop("token", None):
            writer.headers["Authorization"] = f"Bearer {token}"
        answer = writer.stream(**command) if name == "stream" else writer.burst(**command)
        sys.stdout.write("SUBS_JSON " + orjson.dumps(answer).decode() + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
