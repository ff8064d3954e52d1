"""The `subscriptions` workload: `itemStockChanged` subscribers of one room on one worker, over
real WebSockets, beside a plain Starlette broadcast of the same JSON (bench/baselines/
broadcast_app.py) woken by the same NOTIFY.

Per mix of subscribers (bench/subs_setup.py) and round, the project and the baseline run in
turn, each on a fresh server process pinned to the server CPU (so that its RSS starts from the
same state). The subscribers (bench/subs_driver.py) and the mutation stream (bench/subs_writer.py
against `project-writer`, a project worker of its own) run pinned to the generator's CPU; both
servers under test only read the outbox and fan out. One run:

1. warm-up: a few subscribers see two events and leave (the first render of a document
   compiles its statements);
2. RSS with no subscriber, then with the mix connected and idle: KB per idle subscriber;
3. sync: one event every subscriber receives (each subscription is registered);
4. steady: after a warm-up, the stream at `rate` events/s for `duration` s: commit-to-receipt
   latency of every delivery, server CPU, and SQL statements per event on the server under
   test (pg_stat_statements, less what the writer runs);
5. backlog: the server under test is stopped (SIGSTOP) while the writer commits BURST events
   (fewer than a subscriber's queue holds), then resumed: deliveries/s from the resumption to the
   last receipt, the fan-out capacity, which the writer's own pace (a project worker sharing the
   generator CPU, ~16 mutations/s) does not limit.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bench import procs, subs_setup
from bench.subs_setup import MIXES, Mix, Setup, Tokens

if TYPE_CHECKING:
    from bench.__main__ import Context
    from bench.workloads import Workload

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPUS, GENERATOR_CPUS = "0", "1"
IDLE_SETTLE_S = 1.5
BURST = 80  # below SUBSCRIPTION_QUEUE_SIZE (100): a burst never drops a subscriber
CONNECT_CONCURRENCY = 50
DRAIN_TIMEOUT_S = 60.0
# uvicorn answers 503 once a worker holds LIMIT_CONCURRENCY connections and tasks; each socket
# is both. The product's default (1 000) refuses the 1 000th subscriber of one worker.
LIMIT_CONCURRENCY = "5000"
KINDS = {"project": "project", "baseline": "broadcast"}


class Pipe:
    """A generator process answering JSON commands (SUBS_JSON lines)."""

    def __init__(self, cmd: list[str], log_path: Path) -> None:
        self.log = log_path.open("ab")
        self.proc = subprocess.Popen(
            procs.pinned(GENERATOR_CPUS, cmd), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log
        )

    def ask(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(orjson.dumps({"cmd": cmd, **args}) + b"\n")
        self.proc.stdin.flush()
        while line := self.proc.stdout.readline():
            if line.startswith(b"SUBS_JSON "):
                answer: dict[str, Any] = orjson.loads(line[len(b"SUBS_JSON ") :])
                return answer
        raise RuntimeError(f"{self.proc.args} exited ({self.proc.wait()}); see {self.log.name}")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b'{"cmd":"exit"}\n')
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def server_command(kind: str, port: int) -> list[str]:
    if kind == "project":
        serve = [sys.executable, "-m", "graphql_api", "serve", "--host", "127.0.0.1", "--workers", "1"]
        return [*serve, "--port", str(port)]
    flags = ["--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio", "--ws-max-size", "65536"]
    flags += ["--limit-concurrency", LIMIT_CONCURRENCY, "--no-access-log", "--log-level", "warning"]
    app = "bench.baselines.broadcast_app:app"
    return [sys.executable, "-m", "uvicorn", app, *flags, "--host", "127.0.0.1", "--port", str(port)]


def start_server(ctx: Context, kind: str, name: str, cpus: str) -> procs.Server:
    from bench.__main__ import procs_free_port

    port = procs_free_port()
    env = {**ctx.servers["project"].env, "LIMIT_CONCURRENCY": LIMIT_CONCURRENCY}
    log_path = ctx.servers["project"].log_path.parent / f"{name}.log"
    server = procs.Server(name, server_command(kind, port), port, env, log_path, cpus=cpus)
    server.start(ROOT)
    server.wait_ready()
    return server


@dataclass
class Rig:
    """What every run shares: the setup, the writer server and its stream, the database URL."""

    ctx: Context
    setup: Setup
    tokens: Tokens
    writer: Pipe
    writer_server: procs.Server
    url: str
    known_statements: set[int]

    def write(self, cmd: str, **args: Any) -> dict[str, Any]:
        """A writer command with a fresh token: the run outlasts an access token (15 minutes)."""
        return self.writer.ask(cmd, token=self.tokens.token(self.setup.writer_id, "ADMIN_GENERAL"), **args)

    def events(self, count: int) -> list[str]:
        return self.write("burst", count=count, concurrency=1)["movements"]  # type: ignore[no-any-return]


def start_rig(ctx: Context, log: Any) -> Rig:
    url = ctx.servers["project"].env["DATABASE_URL"]
    setup = subs_setup.prepare(url, MIXES)
    log(f"  room {setup.environment_id}: {len(setup.items)} items in the stream; {len(setup.users)} users added")
    tokens = Tokens(ctx.servers["project"].env)
    server = start_server(ctx, "project", "project-writer", GENERATOR_CPUS)
    items = ctx.new_file("subs-items")
    items.write_bytes(orjson.dumps(setup.items))
    cmd = [sys.executable, "-m", "bench.subs_writer", "--port", str(server.port), "--items", str(items)]
    cmd += ["--token", tokens.token(setup.writer_id, "ADMIN_GENERAL")]
    writer = Pipe(cmd, server.log_path.with_name("subs-writer.log"))
    rig = Rig(ctx, setup, tokens, writer, server, url, set())
    rig.events(5)  # the writer's statements are compiled before they are told apart
    time.sleep(0.5)
    ctx.monitor.reset()
    rig.events(5)
    time.sleep(0.5)
    rig.known_statements = {row["queryid"] for row in statement_calls(ctx)}
    return rig


def statement_calls(ctx: Context) -> list[Any]:
    return ctx.monitor.fetch(
        "SELECT s.queryid, s.calls, s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE d.datname = 'bench'"
    )


def rss_mb(pid: int) -> float:
    return procs.rss_kib(pid) / 1024


def run_once(rig: Rig, mix: Mix, kind: str, log: Any) -> dict[str, Any]:
    ctx = rig.ctx
    server = start_server(ctx, kind, f"subs-{KINDS[kind]}", SERVER_CPUS)
    driver: Pipe | None = None
    try:
        specs = subs_setup.subscribers(mix)
        plan = ctx.new_file(f"subs-plan-{kind}")
        subs_setup.write_plan(plan, rig.setup, rig.tokens, subs_setup.warm_up() + specs)
        cmd = [sys.executable, "-m", "bench.subs_driver", "--plan", str(plan), "--port", str(server.port)]
        driver = Pipe([*cmd, "--dsn", rig.url], server.log_path.with_name("subs-driver.log"))
        return measure(rig, mix, server, driver, log)
    finally:
        started = time.monotonic()
        if driver is not None:
            driver.close()
        closed = time.monotonic()
        server.stop()
        stopped = time.monotonic() - closed
        if closed - started + stopped > 5:
            log(f"  (closing the subscribers took {closed - started:.1f} s, stopping the server {stopped:.1f} s)")


def measure(rig: Rig, mix: Mix, server: procs.Server, driver: Pipe, log: Any) -> dict[str, Any]:
    args = rig.ctx.args
    pid = server.proc.pid  # type: ignore[union-attr]
    driver.ask("connect", count=len(subs_setup.warm_up()), concurrency=CONNECT_CONCURRENCY)
    driver.ask("await", movements=rig.events(2), timeout=DRAIN_TIMEOUT_S)
    driver.ask("close")
    time.sleep(IDLE_SETTLE_S)
    rss_none = rss_mb(pid)
    connected = driver.ask("connect", count=mix.subscribers, concurrency=CONNECT_CONCURRENCY)
    time.sleep(IDLE_SETTLE_S)
    rss_idle = rss_mb(pid)
    sync = driver.ask("await", movements=rig.events(1), timeout=DRAIN_TIMEOUT_S)
    if args.warmup > 0:
        warm = rig.write("stream", rate=args.subs_rate, seconds=args.warmup)
        driver.ask("await", movements=warm["movements"], timeout=DRAIN_TIMEOUT_S)
    rig.ctx.monitor.reset()
    cpu_before = driver.ask("await", movements=[], timeout=0)["cpu_s"]
    with procs.Sampler({"server": lambda: [pid]}) as sampler:
        stream = rig.write("stream", rate=args.subs_rate, seconds=max(args.duration, 5.0))
        drained = driver.ask("await", movements=stream["movements"], timeout=DRAIN_TIMEOUT_S)
    statements = sum(row["calls"] for row in statement_calls(rig.ctx) if row["queryid"] not in rig.known_statements)
    steady = driver.ask("stats", movements=stream["movements"])
    burst, burst_drained, burst_sampler, waited, resumed = held_burst(rig, driver, pid)
    burst_stats = driver.ask("stats", movements=burst["movements"])
    events = max(1, len(stream["movements"]))
    deliveries = steady["deliveries"]
    expected = (len(stream["movements"]) + len(burst["movements"])) * mix.subscribers
    return {
        "subscribers": connected["connected"],
        "connect_failed": connected["failed"],
        "connect_s": connected["seconds"],
        "sync_complete": sync["complete"],
        "rss_none_mb": rss_none,
        "rss_idle_mb": rss_idle,
        "kb_per_idle_subscriber": (rss_idle - rss_none) * 1024 / max(1, connected["connected"]),
        "events": len(stream["movements"]),
        "event_rate": len(stream["movements"]) / stream["seconds"],
        "writer": {k: stream[k] for k in ("outcomes", "skipped", "p50_ms", "p99_ms")},
        "deliveries": deliveries,
        "deliveries_per_s": deliveries / stream["seconds"],
        "p50_ms": steady["p50_ms"],
        "p99_ms": steady["p99_ms"],
        "max_ms": steady["max_ms"],
        "statements_per_event": statements / events,
        "server_cpu_pct": 100 * sampler.cpu["server"] / sampler.wall,
        "server_cpu_us_per_delivery": 1e6 * sampler.cpu["server"] / max(1, deliveries),
        "gen_cpu_pct": 100 * (drained["cpu_s"] - cpu_before) / sampler.wall,
        "peak_rss_mb": sampler.peak_single_kib["server"] / 1024,
        "burst": _burst(burst, burst_stats, burst_sampler, waited, resumed),
        "load_average": os.getloadavg(),
        "missing": drained["missing"] + burst_drained["missing"],
        "writer_failed": sum(_failed(w["outcomes"]) for w in (stream, burst)),
        "lost_subscribers": mix.subscribers - burst_drained["open"],
        "expected": expected,
        "problems": burst_drained["problems"],
        "close_codes": burst_drained["close_codes"],
    }


def _failed(outcomes: dict[str, int]) -> int:
    """Mutations of the stream that committed no movement (each would be an event missing)."""
    return sum(n for kind, n in outcomes.items() if kind != "AdjustItemStockPayload")


def held_burst(rig: Rig, driver: Pipe, pid: int) -> tuple[Any, ...]:
    """BURST events committed while the server is stopped, so that it finds them all waiting."""
    os.kill(pid, signal.SIGSTOP)
    try:
        burst = rig.write("burst", count=BURST, concurrency=4)
    finally:
        waited = procs.waited_s(pid)
        resumed = time.time()  # the driver stamps receipts with time.time() too
        os.kill(pid, signal.SIGCONT)
    with procs.Sampler({"server": lambda: [pid]}) as sampler:
        drained = driver.ask("await", movements=burst["movements"], timeout=DRAIN_TIMEOUT_S)
    return burst, drained, sampler, procs.waited_s(pid) - waited, resumed


def _burst(
    writer: dict[str, Any], stats: dict[str, Any], sampler: procs.Sampler, waited: float, resumed: float
) -> dict[str, Any]:
    span = (stats["last_receipt"] or 0) - resumed
    cpu = sampler.cpu["server"]
    return {
        "server_cpu_pct": 100 * cpu / sampler.wall,
        # Runnable but not running: another process had the server's CPU.
        "server_waited_pct": 100 * waited / sampler.wall,
        "server_cpu_us_per_delivery": 1e6 * cpu / max(1, stats["deliveries"]),
        "events": stats["events"],
        "deliveries": stats["deliveries"],
        "seconds": span,
        "deliveries_per_s": stats["deliveries"] / span if span > 0 else None,
        "writer_seconds": writer["seconds"],
    }


def check_same_json(rig: Rig) -> dict[str, bool]:
    """One event to a STUDENT (the app's document) and a SUPERVISOR (the dashboard's) on both
    servers at once: the baseline must send the project's JSON."""
    specs = [(("STUDENT", "ES", 0), subs_setup.STOCK_APP), (("SUPERVISOR", "ES", 0), subs_setup.STOCK_BOARD)]
    servers, drivers = [], []
    try:
        for kind in KINDS:
            server = start_server(rig.ctx, kind, f"subs-check-{KINDS[kind]}", SERVER_CPUS)
            servers.append(server)
            plan = rig.ctx.new_file(f"subs-check-{kind}")
            subs_setup.write_plan(plan, rig.setup, rig.tokens, specs)
            cmd = [sys.executable, "-m", "bench.subs_driver", "--plan", str(plan), "--port", str(server.port)]
            drivers.append(Pipe([*cmd, "--dsn", rig.url], server.log_path.with_name("subs-driver.log")))
            drivers[-1].ask("connect", count=len(specs), concurrency=len(specs))
        movements = rig.events(1)
        samples = []
        for driver in drivers:
            driver.ask("await", movements=movements, timeout=DRAIN_TIMEOUT_S)
            samples.append(driver.ask("samples")["messages"])
    finally:
        for driver in drivers:
            driver.close()
        for server in servers:
            server.stop()
    project, baseline = samples
    return {
        "project = baseline (app document)": project[0] is not None and project[0] == baseline[0],
        "project = baseline (dashboard document)": project[1] is not None and project[1] == baseline[1],
    }


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(statistics.median(present)) if present else None


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("deliveries_per_s", "p50_ms", "p99_ms", "kb_per_idle_subscriber", "statements_per_event")
    keys += ("server_cpu_pct", "server_cpu_us_per_delivery", "gen_cpu_pct", "event_rate", "connect_s")
    summary: dict[str, Any] = {key: _median([r[key] for r in rounds]) for key in keys}
    summary.update(
        burst_deliveries_per_s=_median([r["burst"]["deliveries_per_s"] for r in rounds]),
        burst_seconds=_median([r["burst"]["seconds"] for r in rounds]),
        burst_server_cpu_pct=_median([r["burst"]["server_cpu_pct"] for r in rounds]),
        burst_cpu_us_per_delivery=_median([r["burst"]["server_cpu_us_per_delivery"] for r in rounds]),
        burst_server_waited_pct=_median([r["burst"].get("server_waited_pct") for r in rounds]),
        max_ms=max((r["max_ms"] for r in rounds if r["max_ms"] is not None), default=None),
        peak_rss_mb=max(r["peak_rss_mb"] for r in rounds),
        errors=sum(r["connect_failed"] + r["missing"] + r["lost_subscribers"] + r["writer_failed"] for r in rounds),
        rps=_median([r["burst"]["deliveries_per_s"] for r in rounds]),
    )
    return summary


def _ratios(a: list[dict[str, Any]], b: list[dict[str, Any]], get: Any) -> list[float]:
    return [get(x) / get(y) for x, y in zip(a, b, strict=False) if get(x) and get(y)]


def run_subscriptions(ctx: Context, workload: Workload, log: Any) -> dict[str, Any]:
    args = ctx.args
    started = time.monotonic()
    log(f"\n== {workload.name}: {workload.description}")
    rig = start_rig(ctx, log)
    try:
        same_json = check_same_json(rig)
        log(f"  same JSON: {same_json}")
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {(m.label, k): [] for m in MIXES for k in KINDS}
        for round_no in range(1, args.rounds + 1):
            for mix in MIXES:
                for kind in KINDS:
                    result = run_once(rig, mix, kind, log)
                    runs[(mix.label, kind)].append(result)
                    _log_run(log, round_no, args.rounds, mix, kind, result)
    finally:
        rig.writer.close()
        rig.writer_server.stop()
    return _results(workload, rig, runs, same_json, time.monotonic() - started)


def _log_run(log: Any, round_no: int, rounds: int, mix: Mix, kind: str, r: dict[str, Any]) -> None:
    burst = r["burst"]["deliveries_per_s"]
    log(
        f"  round {round_no}/{rounds} {mix.label:<12} {kind:<8} {r['subscribers']:>5} subs"
        f"  {r['kb_per_idle_subscriber']:6.1f} KB/idle sub  steady {r['event_rate']:.1f} ev/s"
        f" p50 {r['p50_ms'] or 0:6.1f} p99 {r['p99_ms'] or 0:6.1f} ms  srv {r['server_cpu_pct']:3.0f}%"
        f" ({r['server_cpu_us_per_delivery']:.0f} us/delivery)  {r['statements_per_event']:.1f} stmts/event"
        f"  burst {burst or 0:7.0f} deliveries/s (srv {r['burst']['server_cpu_pct']:.0f}%"
        f", waited {r['burst']['server_waited_pct']:.0f}%)"
        f"  gen {r['gen_cpu_pct']:.0f}%  missing {r['missing']} lost {r['lost_subscribers']}"
        f" writer failed {r['writer_failed']}"
        f"  load {r['load_average'][0]:.1f}"
    )


Runs = dict[tuple[str, str], list[dict[str, Any]]]


def _results(workload: Workload, rig: Rig, runs: Runs, same_json: dict[str, bool], seconds: float) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    mixes: dict[str, Any] = {}
    for mix in MIXES:
        project, baseline = runs[(mix.label, "project")], runs[(mix.label, "baseline")]
        for kind, rounds in (("project", project), ("baseline", baseline)):
            variants[f"{mix.label}·{kind}"] = {
                "server": f"subs-{KINDS[kind]}",
                "api": "graphql" if kind == "project" else "websocket",
                "project": kind == "project",
                "rounds": rounds,
                "summary": summarize(rounds),
            }
        users = len({key for key, _ in subs_setup.subscribers(mix)})
        mixes[mix.label] = {
            "description": mix.description,
            "subscribers": mix.subscribers,
            "users": users,
            "groups": subs_setup.groups(mix, rig.setup.center_id, rig.setup.environment_id),
            "documents": len({document for _, document in subs_setup.subscribers(mix)}),
            "burst_ratio": _median(_ratios(project, baseline, lambda r: r["burst"]["deliveries_per_s"])),
            "p99_ratio": _median(_ratios(project, baseline, lambda r: r["p99_ms"])),
            "kb_ratio": _median(_ratios(project, baseline, lambda r: r["kb_per_idle_subscriber"])),
        }
    return {
        "description": workload.description,
        "variants": variants,
        "comparisons": [],
        "mixes": mixes,
        "settings": {"rate": rig.ctx.args.subs_rate, "burst": BURST, "limit_concurrency": LIMIT_CONCURRENCY},
        "same_json": same_json,
        "seconds": round(seconds, 1),
    }
