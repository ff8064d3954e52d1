"""The benchmark harness: `bench/run` (or `.venv/bin/python -m bench`); see README "Benchmark".

1. Start the bench's own PostgreSQL (bench/.data/postgres, pg_stat_statements preloaded), build the
   data set once into a template database, clone a fresh `bench` database from it.
2. Start the servers: the project (production settings, 1 worker pinned to CPU 0, and 2 workers
   unpinned) and the baselines (bench/baselines: graphql-core + asyncpg, REST + json_agg), all
   serving the same database.
3. Per workload: check each variant's response once and count its SQL statements and
   transactions per request (pg_stat_statements / pg_stat_database deltas around sequential
   requests); then drive the variants with wrk (pinned to CPU 1) interleaved, round by round
   (A B C A B C ...), each run after a warm-up; report medians and same-round ratios.
4. Print one table; write everything as JSON to bench/results/<timestamp>.json and latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import http.client
import importlib.metadata
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench import burst, procs, report, seed, subs
from bench.workloads import (
    LOGIN_MUTATION,
    Fixtures,
    Request,
    Variant,
    Workload,
    all_workloads,
    cas_requests,
    random_requests,
    write_cas_file,
    write_random_file,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RUN_DIR = seed.DATA_DIR / "run"
RESULTS_DIR = BENCH / "results"
LUA = BENCH / "wrk" / "requests.lua"
SERVER_CPUS = "0"
SLOW_CALLBACK_MS_LIMIT = 50
LOOP_CHECK_S = 3.0
LOOP_CHECK_WARMUP_S = 1.0
GENERATOR_CPUS = "1"
TOKEN_MAX_AGE_S = 600  # access tokens live 15 minutes
# "<time> [pid] db=bench vxid=3/45 LOG:  statement: BEGIN" (or "execute <name>: SELECT ...")
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] db=")
LOG_STATEMENT = re.compile(rf"^.* db={seed.DATABASE} vxid=(\S+) LOG:  (?:statement|execute [^:]*): (.*)$")


def log(message: str) -> None:
    print(message, flush=True)


class Monitor:
    """A connection to the `postgres` database reading the bench database's statistics (its own
    queries run in another database, so they never show in the counts).

    Statements per request come from pg_stat_statements (updated as each statement ends).
    Transactions per request come from the statement log: while counting, `log_statement = all`
    with the virtual transaction id in the line prefix, and the distinct ids are counted.
    (pg_stat_database's xact counters cannot be used for short windows: a busy backend publishes
    them at most once a second, and the remainder only after a 10 s idle timer.)"""

    def __init__(self, url: str, log_file: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url))
        self.log_file = log_file

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return self.loop.run_until_complete(self.conn.fetch(sql, *args))

    def reset(self) -> None:
        self.fetch("SELECT pg_stat_statements_reset()")

    def log_statements(self, on: bool) -> None:
        self.fetch("ALTER SYSTEM SET log_statement = 'all'" if on else "ALTER SYSTEM RESET log_statement")
        self.fetch("SELECT pg_reload_conf()")
        time.sleep(0.2)  # backends apply it before their next command

    def log_offset(self) -> int:
        return self.log_file.stat().st_size

    def logged(self, start: int, end: int) -> tuple[int, dict[str, int]]:
        """Transactions, and statements by kind, of the bench database logged between two offsets."""
        with self.log_file.open("rb") as handle:
            handle.seek(start)
            text = handle.read(end - start).decode(errors="replace")
        vxids = set()
        kinds = dict.fromkeys(("sql", "savepoint", "txn_control", "empty"), 0)
        entries: list[tuple[str, list[str]]] = []  # (vxid, statement lines)
        for line in text.splitlines():
            if LOG_PREFIX.match(line):
                match = LOG_STATEMENT.match(line)
                entries.append((match.group(1), [match.group(2)]) if match else ("", []))
            elif entries and entries[-1][0]:
                entries[-1][1].append(line)  # a multi-line statement goes on without the prefix
        for vxid, lines in entries:
            if vxid:
                vxids.add(vxid)
                kinds[statement_kind("\n".join(lines))] += 1
        return len(vxids), kinds

    def statements(self) -> list[asyncpg.Record]:
        return self.fetch(
            "SELECT s.query, s.calls, s.total_exec_time, s.rows FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY s.calls DESC",
            seed.DATABASE,
        )

    def setting(self, name: str) -> str:
        return str(self.fetch(f"SHOW {name}")[0][0])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.log_statements(False)
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


class Client:
    """Sequential keep-alive HTTP client (checks, statement counting, logins)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def send(self, request: Request) -> tuple[int, bytes]:
        method, path, body = request
        self.conn.request(method, path, body.encode() if body else None, self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def login(port: int, email: str) -> str:
    client = Client(port)
    try:
        body = orjson.dumps(
            {"query": LOGIN_MUTATION, "variables": {"input": {"email": email, "password": seed.PASSWORD}}}
        )
        status, data = client.send(("POST", "/graphql", body.decode()))
    finally:
        client.close()
    token = (((orjson.loads(data).get("data") or {}).get("login")) or {}).get("accessToken")
    if status != 200 or not token:
        raise RuntimeError(f"login of {email} failed: {status} {data[:300]!r}")
    return str(token)


def statement_kind(query: str) -> str:
    text = query.strip().lower()
    if text in ("", ";"):
        return "empty"  # e.g. SQLAlchemy's pool pre-ping (";"), if a server enables it
    if text.startswith(("savepoint", "release", "rollback to")):
        return "savepoint"
    if text.startswith(("begin", "start transaction", "commit", "rollback", "end")):
        return "txn_control"
    return "sql"


def response_problem(variant: Variant, status: int, body: bytes) -> str | None:
    """None for a good response; otherwise a short description."""
    if status != 200:
        return f"HTTP {status}: {body[:200].decode(errors='replace')}"
    if b'"errors"' in body:
        with contextlib.suppress(orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            error = orjson.loads(body)["errors"][0]
            return f"{(error.get('extensions') or {}).get('code', 'ERROR')}: {error.get('message')}"
        return "GraphQL errors"
    if b"ConflictError" in body:
        return None
    if variant.expect.encode() not in body:
        return f"unexpected response: {body[:200].decode(errors='replace')}"
    return None


def run_and_reap(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Wait for `proc`; its exit code and the CPU seconds it used (from wait4's rusage)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


@dataclass
class Context:
    args: argparse.Namespace
    servers: dict[str, procs.Server]
    fixtures: Fixtures
    monitor: Monitor
    pg_data: Path
    slice_size: int
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    next_slice: int = 0
    files: int = 0

    def token(self, role: str) -> str:
        cached = self.tokens.get(role)
        if cached is None or time.monotonic() - cached[1] > TOKEN_MAX_AGE_S:
            email = seed.ADMIN_EMAIL if role == "admin" else seed.STUDENT_EMAIL
            cached = self.tokens[role] = (login(self.servers["project"].port, email), time.monotonic())
        return cached[0]

    def stock_slice(self) -> list[tuple[Any, int]]:
        start = self.next_slice * self.slice_size
        self.next_slice += 1
        items = self.fixtures.stock_pool[start : start + self.slice_size]
        if not items:
            raise RuntimeError("the pool of items for the mutation workload is exhausted")
        return items

    def new_file(self, name: str) -> Path:
        self.files += 1
        return RUN_DIR / f"{self.files:03d}-{name}.txt"

    def pg_pids(self) -> list[int]:
        return procs.postgres_pids(self.pg_data)


def count_phase(ctx: Context, variant: Variant, n: int) -> dict[str, Any]:
    """Check the variant's responses, then count statements and transactions per request over
    `n` sequential requests (after a few warm-up requests)."""
    warm = 10
    if variant.cas:
        requests = cas_requests(variant, ctx.stock_slice(), warm + n)
    else:
        pool = random_requests(variant, ctx.fixtures)
        requests = [pool[i % len(pool)] for i in range(warm + n)]
    client = Client(ctx.servers[variant.server].port, ctx.token(variant.role))
    try:
        status, body = client.send(requests[0])
        problem = response_problem(variant, status, body)
        result: dict[str, Any] = {"check": problem or "ok", "sample": body[:300].decode(errors="replace")}
        if problem is not None:
            result["unsupported"] = problem
            return result
        for request in requests[1:warm]:
            client.send(request)
        if not variant.count:
            return result
        ctx.monitor.log_statements(True)
        ctx.monitor.reset()
        log_start = ctx.monitor.log_offset()
        problems = 0
        first_data = None
        started = time.perf_counter()
        for index, request in enumerate(requests[warm:]):
            status, body = client.send(request)
            if index == 0:
                with contextlib.suppress(orjson.JSONDecodeError):
                    first_data = orjson.loads(body).get("data")
            if response_problem(variant, status, body) is not None:
                problems += 1
        elapsed = time.perf_counter() - started
        rows = ctx.monitor.statements()
        time.sleep(0.1)
        log_end = ctx.monitor.log_offset()
        ctx.monitor.log_statements(False)
    finally:
        client.close()
    xacts, kinds = ctx.monitor.logged(log_start, log_end)
    exec_ms = sum(row["total_exec_time"] for row in rows)
    result.update(
        requests=n,
        errors=problems,
        stmts_per_req=(kinds["sql"] + kinds["savepoint"]) / n,
        sql_per_req=kinds["sql"] / n,
        savepoints_per_req=kinds["savepoint"] / n,
        txn_control_per_req=kinds["txn_control"] / n,
        pings_per_req=kinds["empty"] / n,
        all_statements_per_req=sum(kinds.values()) / n,
        xacts_per_req=xacts / n,
        db_exec_ms_per_req=exec_ms / n,
        sequential_latency_ms=elapsed / n * 1000,
        statements=[
            {
                "calls_per_req": round(row["calls"] / n, 3),
                "mean_ms": round(row["total_exec_time"] / max(1, row["calls"]), 3),
                "kind": statement_kind(row["query"]),
                "query": " ".join(row["query"].split())[:400],
            }
            for row in rows[:15]
        ],
    )
    result["_data"] = first_data  # compared across variants, not written out
    return result


def run_wrk(ctx: Context, variant: Variant, workload: Workload, path: Path, duration: float) -> dict[str, Any]:
    server = ctx.servers[variant.server]
    cmd = procs.pinned(
        GENERATOR_CPUS,
        [
            "wrk",
            "-t1",
            f"-c{ctx.args.concurrency}",
            f"-d{duration:g}s",
            "--timeout",
            f"{workload.timeout_s}s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{server.port}",
            "--",
            str(path),
            ctx.token(variant.role),
            variant.expect,
        ],
    )
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        code, cpu = run_and_reap(proc)
        wall = time.monotonic() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    line = next((line for line in text.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({code}):\n{text[-3000:]}")
    data: dict[str, Any] = orjson.loads(line.removeprefix("BENCH_JSON "))
    data.update(gen_cpu_s=cpu, gen_wall_s=wall)
    return data


def start_login_driver(ctx: Context, server: str = "project") -> tuple[subprocess.Popen[bytes], Any]:
    emails = RUN_DIR / "login-emails.txt"
    emails.write_text("\n".join(ctx.fixtures.login_emails) + "\n")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_login_driver
    cmd = [
        sys.executable,
        "-m",
        "bench.login_driver",
        "--port",
        str(ctx.servers[server].port),
        "--rate",
        str(ctx.args.login_rate),
        "--emails",
        str(emails),
        "--password",
        seed.PASSWORD,
    ]
    proc = subprocess.Popen(procs.pinned(GENERATOR_CPUS, cmd), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return proc, out


def stop_login_driver(proc: subprocess.Popen[bytes], out: Any) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    _, cpu = run_and_reap(proc)
    out.seek(0)
    text = out.read().decode(errors="replace")
    out.close()
    line = next((line for line in text.splitlines() if line.startswith("LOGIN_JSON ")), None)
    if line is None:
        return {"error": text[-1000:]}
    data: dict[str, Any] = orjson.loads(line.removeprefix("LOGIN_JSON "))
    data["driver_cpu_s"] = round(cpu, 2)
    return data


def request_file(ctx: Context, workload: Workload, variant: Variant, files: dict[str, Path]) -> Path:
    if variant.cas:
        path = ctx.new_file(f"{workload.name}-cas")
        write_cas_file(path, variant, ctx.stock_slice())
        return path
    return files[variant.label]


def measure(ctx: Context, workload: Workload, variant: Variant, files: dict[str, Path]) -> dict[str, Any]:
    args = ctx.args
    server = ctx.servers[variant.server]
    driver = start_login_driver(ctx) if variant.side_login else None
    login_stats = None
    try:
        if driver is not None:
            time.sleep(1.0)  # let the login rate settle
        if args.warmup > 0:
            run_wrk(ctx, variant, workload, request_file(ctx, workload, variant, files), args.warmup)
            time.sleep(workload.drain_s)
        path = request_file(ctx, workload, variant, files)
        duration = max(args.duration, workload.min_duration_s)
        with procs.Sampler({"server": server.worker_pids, "postgres": ctx.pg_pids}) as sampler:
            result = run_wrk(ctx, variant, workload, path, duration)
    finally:
        if driver is not None:
            login_stats = stop_login_driver(*driver)
    requests = max(1, result["requests"])
    seconds = result["duration_us"] / 1e6
    socket_errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    errors = socket_errors + result["non2xx"] + result["gql_errors"] + result["unexpected"]
    completed = result["requests"] > 0  # latencies of a run without one response are meaningless
    metrics = {
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000 if completed else None,
        "p90_ms": result["p90_us"] / 1000 if completed else None,
        "p99_ms": result["p99_us"] / 1000 if completed else None,
        "max_ms": result["max_us"] / 1000 if completed else None,
        "mean_ms": result["mean_us"] / 1000 if completed else None,
        "requests": result["requests"],
        "errors": errors,
        "error_detail": {
            "socket": socket_errors,
            "non2xx": result["non2xx"],
            "graphql_errors": result["gql_errors"],
            "unexpected_body": result["unexpected"],
            "bad_request": result["bad_request"],
        },
        "conflicts": result["conflicts"],
        "bytes_per_req": result["bytes"] / requests,
        "gen_cpu_pct": 100 * result["gen_cpu_s"] / result["gen_wall_s"],
        "server_cpu_pct": 100 * sampler.cpu["server"] / sampler.wall,
        "server_cpu_ms_per_req": 1000 * sampler.cpu["server"] / requests,
        "pg_cpu_ms_per_req": 1000 * sampler.cpu["postgres"] / requests,
        # How the load split between workers: CPU seconds of each worker process in this run
        # (wrk opens its connections at once when it starts, and keeps them).
        "worker_cpu_s": sorted((round(v, 2) for v in sampler.cpu_by_pid["server"].values()), reverse=True),
        "busiest_worker_cpu_share": max(sampler.cpu_by_pid["server"].values(), default=0.0)
        / max(sampler.cpu["server"], 1e-9),
        "peak_rss_mb": sampler.peak_single_kib["server"] / 1024,
        "peak_rss_total_mb": sampler.peak_total_kib["server"] / 1024,
    }
    if login_stats is not None:
        metrics["login"] = login_stats
    return metrics


SLOW_CALLBACK = re.compile(r"Executing (.*) took (\d+(?:\.\d+)?) seconds")


def loop_check_file(ctx: Context, workload: Workload, variant: Variant) -> Path:
    path = ctx.new_file(f"{workload.name}-loop")
    if variant.cas:
        write_cas_file(path, variant, ctx.stock_slice())  # fresh items: no stale expected quantities
    else:
        write_random_file(path, random_requests(variant, ctx.fixtures))
    return path


def event_loop_check(ctx: Context, workloads: list[Workload]) -> dict[str, Any]:
    """Each project variant once more against `project-debug`, a server in asyncio debug mode
    that logs every callback holding the event loop longer than SLOW_CALLBACK_MS_LIMIT; count
    those log lines per workload. Debug mode slows everything down, so this pass measures
    nothing else (and errs on the side of reporting)."""
    server = ctx.servers["project-debug"]
    out: dict[str, Any] = {
        "threshold_ms": SLOW_CALLBACK_MS_LIMIT,
        "seconds": LOOP_CHECK_S,
        "warmup_seconds": LOOP_CHECK_WARMUP_S,
        "runs": {},
    }
    log(
        f"\n== event-loop check: callbacks over {SLOW_CALLBACK_MS_LIMIT} ms"
        f" (asyncio debug mode, {LOOP_CHECK_S:g} s each after {LOOP_CHECK_WARMUP_S:g} s of warm-up)"
    )
    seen: set[tuple[str, str, int, bool]] = set()
    for workload in workloads:
        for variant in workload.variants:
            shape = (variant.kind, variant.role, variant.first, variant.side_login)
            if not variant.project or variant.server != "project" or shape in seen:
                continue  # e.g. `workers` on 1 worker is `page` again
            seen.add(shape)
            debug = dataclasses.replace(variant, server="project-debug")
            driver = start_login_driver(ctx, "project-debug") if debug.side_login else None
            try:
                # Warm-up first, as for the measured runs: the first requests of a shape compile
                # statements and validate documents once per process.
                run_wrk(ctx, debug, workload, loop_check_file(ctx, workload, debug), LOOP_CHECK_WARMUP_S)
                time.sleep(workload.drain_s)
                offset = server.log_path.stat().st_size if server.log_path.exists() else 0
                result = run_wrk(ctx, debug, workload, loop_check_file(ctx, workload, debug), LOOP_CHECK_S)
            finally:
                if driver is not None:
                    stop_login_driver(*driver)
            time.sleep(workload.drain_s + 0.2)  # requests still in flight finish inside this run
            with server.log_path.open("rb") as handle:
                handle.seek(offset)
                lines = handle.read().decode(errors="replace").splitlines()
            slow = [(float(m.group(2)) * 1000, m.group(1)[:160]) for m in map(SLOW_CALLBACK.search, lines) if m]
            key = f"{workload.name}/{variant.label}"
            out["runs"][key] = {
                "requests": result["requests"],
                "slow_callbacks": len(slow),
                "max_ms": round(max((ms for ms, _ in slow), default=0.0), 1),
                "examples": [f"{ms:.0f} ms: {what}" for ms, what in sorted(slow, reverse=True)[:3]],
            }
            log(
                f"  {key:<34} {result['requests']:>6} requests  {len(slow)} slow callbacks"
                + (f" (max {out['runs'][key]['max_ms']} ms)" if slow else "")
            )
    return out


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in rounds if r[key] is not None]
        return float(statistics.median(values)) if values else None

    requests = sum(r["requests"] for r in rounds)
    summary = {
        key: med(key)
        for key in (
            "rps",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "mean_ms",
            "gen_cpu_pct",
            "server_cpu_pct",
            "server_cpu_ms_per_req",
            "pg_cpu_ms_per_req",
            "bytes_per_req",
            "busiest_worker_cpu_share",
        )
    }
    summary.update(
        requests=requests,
        errors=sum(r["errors"] for r in rounds),
        conflicts=sum(r["conflicts"] for r in rounds),
        conflict_rate=sum(r["conflicts"] for r in rounds) / max(1, requests),
        peak_rss_mb=max(r["peak_rss_mb"] for r in rounds),
        peak_rss_total_mb=max(r["peak_rss_total_mb"] for r in rounds),
        max_ms=max((r["max_ms"] for r in rounds if r["max_ms"] is not None), default=None),
    )
    logins = [r["login"] for r in rounds if "login" in r]
    if logins:
        summary["login"] = {
            "target_rate": logins[0].get("target_rate"),
            "achieved_rate": statistics.median(x.get("achieved_rate", 0) for x in logins),
            "p50_ms": statistics.median(x.get("p50_ms") or 0 for x in logins),
            "p99_ms": statistics.median(x.get("p99_ms") or 0 for x in logins),
            "failed": sum(x.get("failed", 0) for x in logins),
            "skipped": sum(x.get("skipped", 0) for x in logins),
        }
    return summary


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return f"{value:7.1f}" if value is not None else "      -"


def run_workload(ctx: Context, workload: Workload) -> dict[str, Any]:
    args = ctx.args
    started = time.monotonic()
    log(f"\n== {workload.name}: {workload.description}")
    out: dict[str, Any] = {"description": workload.description, "variants": {}, "comparisons": []}
    files: dict[str, Path] = {}
    for variant in workload.variants:
        if not variant.cas:
            files[variant.label] = ctx.new_file(f"{workload.name}-{variant.server}")
            write_random_file(files[variant.label], random_requests(variant, ctx.fixtures))
    counts: dict[str, dict[str, Any]] = {}
    for variant in workload.variants:
        counts[variant.label] = count_phase(ctx, variant, args.count_requests or workload.count_requests)
        info = counts[variant.label]
        if "unsupported" in info:
            log(f"  {variant.label}: NOT SUPPORTED ({info['unsupported'][:160]})")
        elif "stmts_per_req" in info:
            log(
                f"  {variant.label}: {info['stmts_per_req']:.2f} statements, {info['xacts_per_req']:.2f} transactions"
                f" per request; sequential {info['sequential_latency_ms']:.1f} ms"
            )
    same_json = {}
    for comparison in workload.comparisons:
        a, b = counts[comparison.a].get("_data"), counts[comparison.b].get("_data")
        va = next(v for v in workload.variants if v.label == comparison.a)
        vb = next(v for v in workload.variants if v.label == comparison.b)
        if a is not None and b is not None and va.role == vb.role and va.kind != "mutation":
            same_json[f"{comparison.a} = {comparison.b}"] = a == b
    rounds: dict[str, list[dict[str, Any]]] = {v.label: [] for v in workload.variants}
    runnable = [v for v in workload.variants if "unsupported" not in counts[v.label]]
    for round_no in range(1, args.rounds + 1):
        for variant in runnable:
            metrics = measure(ctx, workload, variant, files)
            metrics["round"] = round_no
            rounds[variant.label].append(metrics)
            extra = ""
            if len(metrics["worker_cpu_s"]) > 1:
                extra = f"  worker CPU s {metrics['worker_cpu_s']}"
            if "login" in metrics:
                extra = f"  logins {metrics['login'].get('achieved_rate')}/s p99 {metrics['login'].get('p99_ms')} ms"
            log(
                f"  round {round_no}/{args.rounds} {variant.label:<24} {_fmt(metrics['rps']):>7} req/s"
                f"  p50 {_ms(metrics['p50_ms'])}  p99 {_ms(metrics['p99_ms'])} ms  errors {metrics['errors']}"
                f"  conflicts {metrics['conflicts']}  srv {metrics['server_cpu_pct']:.0f}% CPU"
                f"  gen {metrics['gen_cpu_pct']:.0f}%{extra}"
            )
    for variant in workload.variants:
        count = {k: v for k, v in counts[variant.label].items() if k != "_data"}
        entry: dict[str, Any] = {
            "server": variant.server,
            "api": variant.api,
            "role": "STUDENT" if variant.role == "student" else "ADMIN_GENERAL",
            "project": variant.project,
            "count": count,
            "rounds": rounds[variant.label],
        }
        if "unsupported" in count:
            entry["unsupported"] = count["unsupported"]
        if rounds[variant.label]:
            entry["summary"] = summarize(rounds[variant.label])
        out["variants"][variant.label] = entry
    for comparison in workload.comparisons:
        ra, rb = rounds[comparison.a], rounds[comparison.b]
        pairs = [(x, y) for x, y in zip(ra, rb, strict=False) if y["requests"]]
        rps = [x["rps"] / y["rps"] for x, y in pairs]
        p99 = [x["p99_ms"] / y["p99_ms"] for x, y in pairs if x["requests"] and y["p99_ms"]]
        out["comparisons"].append(
            {
                "a": comparison.a,
                "b": comparison.b,
                "baseline": comparison.baseline,
                "rps_ratio": statistics.median(rps) if rps else None,
                "p99_ratio": statistics.median(p99) if p99 else None,
                "rps_ratio_per_round": [round(value, 3) for value in rps],
            }
        )
    out["same_json"] = same_json
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


def load_fixtures(url: str) -> Fixtures:
    async def load() -> Fixtures:
        conn = await asyncpg.connect(url)
        try:
            node_ids = [
                r["id"] for r in await conn.fetch("SELECT id FROM inventory_items ORDER BY md5(id::text) LIMIT 5000")
            ]
            pool = [
                (r["id"], r["quantity"])
                for r in await conn.fetch(
                    "SELECT id, quantity FROM inventory_items WHERE item_type = 'GROUP' AND status = 'ACTIVE' "
                    "ORDER BY md5(id::text || 'stock')"
                )
            ]
            emails = [
                r["email"]
                for r in await conn.fetch(
                    "SELECT email FROM users WHERE role = 'STUDENT' AND email <> $1 ORDER BY email LIMIT 200",
                    seed.STUDENT_EMAIL,
                )
            ]
        finally:
            await conn.close()
        return Fixtures(node_ids, pool, emails)

    return asyncio.run(load())


def start_servers(url: str, needed: set[str]) -> dict[str, procs.Server]:
    env = dict(os.environ)
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        QR_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=url,
        BENCH_DATABASE_URL=url,
        LOG_LEVEL="warning",
        DATA_DIR=str(seed.DATA_DIR / "app"),
        SEED_DEMO="false",
        # list1000 asks for 1 000 items in one page; the product's default cap is 100.
        MAX_PAGE_SIZE="1000",
    )
    uvicorn = [sys.executable, "-m", "uvicorn"]
    flags = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    flags += ["--host", "127.0.0.1"]
    # The project runs as in production, `graphql-api serve` (uvicorn's options, a socket per
    # worker); the baselines under plain uvicorn.
    serve = [sys.executable, "-m", "graphql_api", "serve", "--host", "127.0.0.1"]
    specs = {
        "project": ([*serve, "--workers", "1"], SERVER_CPUS, 1),
        "project-2w": ([*serve, "--workers", "2"], None, 2),
        "project-debug": ([*serve, "--workers", "1"], SERVER_CPUS, 1),
        "project-noadmit": ([*serve, "--workers", "1"], SERVER_CPUS, 1),
        "graphql-core": ([*uvicorn, "bench.baselines.graphql_core_app:app", "--workers", "1", *flags], SERVER_CPUS, 1),
        "rest": ([*uvicorn, "bench.baselines.rest_app:app", "--workers", "1", *flags], SERVER_CPUS, 1),
    }
    servers = {}
    for name, (command, cpus, workers) in specs.items():
        if name not in needed:
            continue
        port = procs_free_port()
        servers[name] = procs.Server(
            name=name,
            cmd=[*command, "--port", str(port)],
            port=port,
            env={**env, **SERVER_ENV.get(name, {})},
            log_path=seed.DATA_DIR / "logs" / f"{name}.log",
            cpus=cpus,
            workers=workers,
        )
        servers[name].start(ROOT)
    for server in servers.values():
        server.wait_ready()
    return servers


SERVER_ENV = {
    "project-debug": {"SLOW_CALLBACK_MS": str(SLOW_CALLBACK_MS_LIMIT)},
    "project-noadmit": {"ADMISSION_RUNNING_COST": burst.NO_ADMISSION},
}


def procs_free_port() -> int:
    from graphql_api.db.embedded import free_port

    return free_port()


def calibrate() -> float:
    """Seconds for 10 M integer additions in a Python loop (measured on 2 M)."""
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return round((time.perf_counter() - started) * 5, 2)


def metadata(monitor: Monitor) -> dict[str, Any]:
    packages = ["strawberry-graphql", "graphql-core", "starlette", "uvicorn", "uvloop", "httptools"]
    packages += ["sqlalchemy", "asyncpg", "orjson", "bcrypt", "pyjwt"]
    versions = {}
    for name in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    versions["wrk"] = (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?"
    versions["python"] = platform.python_version()
    versions["postgres"] = monitor.setting("server_version")
    cpu_model = ""
    with contextlib.suppress(OSError):
        cpu_model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            "",
        )
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
    return {
        "versions": versions,
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "pinning": procs.can_pin(),
        "python_10M_additions_s": calibrate(),
        "git": git.stdout.strip() + (" (dirty)" if dirty.stdout.strip() else ""),
        "postgres_settings": {
            name: monitor.setting(name)
            for name in ("shared_buffers", "synchronous_commit", "fsync", "max_connections", "shared_preload_libraries")
        },
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s after 1 s warm-up (development)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per run (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each run (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--login-rate", type=float, default=10.0, help="logins/s beside node (default 10)")
    parser.add_argument(
        "--count-requests", type=int, default=0, help="sequential requests counted (default: per workload)"
    )
    parser.add_argument(
        "--subs-rate", type=float, default=10.0, help="subscriptions: events/s of the steady stream (default 10)"
    )
    parser.add_argument("--only", default="", help="comma-separated workloads (default: all)")
    parser.add_argument("--reseed", action="store_true", help="rebuild the data set's template database")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3.0, 1.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    if shutil.which("wrk") is None:
        log("wrk is not installed: run bench/run (it installs the Debian package) or `apt-get install wrk`.")
        return 2
    workloads = all_workloads()
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        workloads = [w for w in workloads if w.name in wanted]
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    load_start = os.getloadavg()
    log("== database (bench/.data/postgres)")
    cluster = seed.start_cluster()
    servers: dict[str, procs.Server] = {}
    monitor: Monitor | None = None
    try:
        db_info = seed.prepare_database(cluster, reseed=args.reseed, log=log)
        url = cluster.url(seed.DATABASE)
        fixtures = load_fixtures(url)
        monitor = Monitor(cluster.url("postgres"), cluster.log_file)
        needed = {"project", "project-debug"} | {v.server for w in workloads for v in w.variants}
        needed |= {server for w in workloads if w.name == "burst" for server, _ in burst.RUNS.values()}
        log(f"== servers: {', '.join(sorted(needed))} (pinning {'on' if procs.can_pin() else 'off'})")
        servers = start_servers(url, needed)
        cas_runs = sum(v.cas for w in workloads for v in w.variants)
        # warm-up + measured run per round, the counting phase, and the event-loop check (2)
        per_variant = args.rounds * (2 if args.warmup > 0 else 1) + 3
        slice_size = len(fixtures.stock_pool) // max(1, cas_runs * per_variant)
        ctx = Context(args, servers, fixtures, monitor, seed.PG_DIR, slice_size)
        meta = metadata(monitor)
        special = {"burst": burst.run_burst, "subscriptions": subs.run_subscriptions}
        results = {
            w.name: special[w.name](ctx, w, log) if w.name in special else run_workload(ctx, w) for w in workloads
        }
        loop_check = event_loop_check(ctx, workloads)
        meta.update(
            started_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            load_average_start=load_start,
            load_average_end=os.getloadavg(),
            database=db_info,
            elapsed_s=round(time.monotonic() - started, 1),
        )
        settings = {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "login_rate": args.login_rate,
            "server_cpus": SERVER_CPUS if procs.can_pin() else None,
            "generator_cpus": GENERATOR_CPUS if procs.can_pin() else None,
            "stock_slice_size": slice_size,
        }
        document = report.build(meta, settings, results, loop_check)
        log("")
        log(report.render(document))
        path = report.write(document, RESULTS_DIR)
        log(f"\nResults: {path.relative_to(ROOT)} (and {(RESULTS_DIR / 'latest.json').relative_to(ROOT)})")
        log(f"Elapsed: {time.monotonic() - started:.0f} s")
    finally:
        for server in servers.values():
            server.stop()
        if monitor is not None:
            monitor.close()
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
