"""Fixed-rate login load (open loop) for the `login` workload: runs beside wrk until SIGTERM,
then prints one JSON line with what it achieved.

    python -m bench.login_driver --port P --rate 10 --emails FILE --password PW
"""

from __future__ import annotations

import argparse
import http.client
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

LOGIN = (
    "mutation Login($input: LoginInput!) { login(input: $input) { __typename "
    "... on AuthPayload { accessToken } ... on Error { code message } } }"
)
MAX_OUTSTANDING = 8  # bounded: a saturated server makes the driver skip, not queue


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--emails", type=Path, required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    emails = args.emails.read_text().split()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    local = threading.local()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "failed": 0, "skipped": 0, "outstanding": 0}

    def one(email: str) -> None:
        body = orjson.dumps({"query": LOGIN, "variables": {"input": {"email": email, "password": args.password}}})
        started = time.perf_counter()
        ok = False
        try:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            ok = response.status == 200 and b"accessToken" in data
        except (OSError, http.client.HTTPException):
            local.conn = None
        elapsed = time.perf_counter() - started
        with lock:
            counts["outstanding"] -= 1
            counts["ok" if ok else "failed"] += 1
            latencies.append(elapsed)

    pool = ThreadPoolExecutor(max_workers=MAX_OUTSTANDING)
    interval = 1.0 / args.rate
    started = time.monotonic()
    next_at = started
    i = 0
    while not stop.is_set():
        with lock:
            busy = counts["outstanding"] >= MAX_OUTSTANDING
            if not busy:
                counts["outstanding"] += 1
        if busy:
            counts["skipped"] += 1
        else:
            counts["sent"] += 1
            pool.submit(one, emails[i % len(emails)])
            i += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    wall = time.monotonic() - started
    pool.shutdown(wait=True, cancel_futures=False)
    ordered = sorted(latencies)

    def pct(p: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else None

    summary = {
        **counts,
        "wall_s": round(wall, 2),
        "target_rate": args.rate,
        "achieved_rate": round(counts["ok"] / wall, 2) if wall else 0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }
    sys.stdout.write("LOGIN_JSON " + orjson.dumps(summary).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
