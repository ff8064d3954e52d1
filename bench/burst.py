"""The `burst` workload: `/health/live` and `me` latency while heavy requests pour in.

Three runs per round, interleaved: the probes alone on the project (the baseline), the probes
beside HEAVY_CLIENTS clients sending the heavy query in a loop, and the same burst against
`project-noadmit`, a server whose ADMISSION_RUNNING_COST is so high that every heavy operation
runs at once (the behaviour before the admission queue). The driver (bench/burst_driver.py)
runs pinned to the generator's CPU, like wrk.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import orjson

from bench import procs

if TYPE_CHECKING:
    from bench.__main__ import Context
    from bench.workloads import Workload

HEAVY_CLIENTS = 40
PROBE_RATE = 20.0  # per second, of each probe
RUNS = {
    "quiet": ("project", 0),
    "burst": ("project", HEAVY_CLIENTS),
    "burst, no admission": ("project-noadmit", HEAVY_CLIENTS),
}
NO_ADMISSION = "1000000000"  # ADMISSION_RUNNING_COST of project-noadmit


def drive(ctx: Context, server: str, heavy: int, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.burst_driver", "--port", str(ctx.servers[server].port)]
    cmd += ["--token", ctx.token("admin"), "--seconds", str(seconds), "--heavy", str(heavy)]
    cmd += ["--probe-rate", str(PROBE_RATE)]
    with tempfile.TemporaryFile() as out:
        with procs.Sampler({"server": ctx.servers[server].worker_pids}) as sampler:
            proc = subprocess.run(procs.pinned("1", cmd), stdout=out, stderr=subprocess.STDOUT, check=False)
        out.seek(0)
        text = out.read().decode(errors="replace")
    line = next((line for line in text.splitlines() if line.startswith("BURST_JSON ")), None)
    if line is None:
        raise RuntimeError(f"burst driver failed ({proc.returncode}):\n{text[-3000:]}")
    data: dict[str, Any] = orjson.loads(line.removeprefix("BURST_JSON "))
    data["peak_rss_mb"] = sampler.peak_single_kib["server"] / 1024
    return data


def run_burst(ctx: Context, workload: Workload, log: Any) -> dict[str, Any]:
    args = ctx.args
    started = time.monotonic()
    log(f"\n== {workload.name}: {workload.description}")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in RUNS}
    for round_no in range(1, args.rounds + 1):
        for name, (server, heavy) in RUNS.items():
            if args.warmup > 0:
                drive(ctx, server, heavy, args.warmup)
            data = drive(ctx, server, heavy, max(args.duration, 10.0))
            runs[name].append(data)
            live, me, heavy_stats = data["live"], data["me"], data["heavy"]
            log(
                f"  round {round_no}/{args.rounds} {name:<20} live p99 {live['p99_ms']} ms (max {live['max_ms']})"
                f"  me p99 {me['p99_ms']} ms (max {me['max_ms']})  me {me['outcomes']}"
                f"  heavy {heavy_stats['outcomes']} p50 {heavy_stats['p50_ms']} p99 {heavy_stats['p99_ms']} ms"
            )
    variants = {
        f"{probe}·{name}": _variant(runs[name], probe, server)
        for name, (server, _) in RUNS.items()
        for probe in ("live", "me")
    }
    comparisons = [
        _comparison(runs, probe, name) for probe in ("live", "me") for name in ("burst", "burst, no admission")
    ]
    return {
        "description": workload.description,
        "variants": variants,
        "comparisons": comparisons,
        "heavy": {name: _heavy(runs[name]) for name in RUNS if RUNS[name][1]},
        "same_json": {},
        "seconds": round(time.monotonic() - started, 1),
    }


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(statistics.median(present)) if present else None


def _variant(rounds: list[dict[str, Any]], probe: str, server: str) -> dict[str, Any]:
    samples = [r[probe] for r in rounds]
    failed = sum(count for s in samples for outcome, count in s["outcomes"].items() if outcome != "ok")
    return {
        "server": server,
        "api": "graphql" if probe == "me" else "health",
        "role": "ADMIN_GENERAL",
        # The run without admission shows the failures admission prevents; they are not errors
        # of the product as configured.
        "project": server == "project",
        "rounds": rounds,
        "summary": {
            "rps": _median([s["rate"] for s in samples]),
            "p50_ms": _median([s["p50_ms"] for s in samples]),
            "p99_ms": _median([s["p99_ms"] for s in samples]),
            "max_ms": max((s["max_ms"] for s in samples if s["max_ms"] is not None), default=None),
            "errors": failed if server == "project" else 0,
            "failed_probes": failed,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rounds),
        },
    }


def _comparison(runs: dict[str, list[dict[str, Any]]], probe: str, name: str) -> dict[str, Any]:
    pairs = list(zip(runs[name], runs["quiet"], strict=False))
    p99 = [a[probe]["p99_ms"] / b[probe]["p99_ms"] for a, b in pairs if a[probe]["p99_ms"] and b[probe]["p99_ms"]]
    return {
        "a": f"{probe}·{name}",
        "b": f"{probe}·quiet",
        "baseline": f"{probe} without the burst",
        "rps_ratio": None,
        "p99_ratio": statistics.median(p99) if p99 else None,
        "rps_ratio_per_round": [],
    }


def _heavy(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    for r in rounds:
        for outcome, count in r["heavy"]["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {
        "answered_per_s": _median([r["heavy"]["outcomes"].get("ok", 0) / r["seconds"] for r in rounds]),
        "p50_ms": _median([r["heavy"]["p50_ms"] for r in rounds]),
        "p99_ms": _median([r["heavy"]["p99_ms"] for r in rounds]),
        "outcomes": outcomes,
    }
