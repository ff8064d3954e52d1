"""Processes: CPU pinning, servers under test, /proc sampling (RSS, CPU time)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def can_pin() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def pinned(cpus: str | None, cmd: list[str]) -> list[str]:
    """`cmd` under `taskset -c cpus` when pinning is possible (taskset execs: same pid)."""
    if cpus is None or not can_pin():
        return cmd
    return ["taskset", "-c", cpus, *cmd]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name may contain spaces: fields start after the closing parenthesis
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def waited_s(pid: int) -> float:
    """Seconds `pid` has spent runnable but waiting for a CPU (/proc/<pid>/schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_kib(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    env: dict[str, str]
    log_path: Path
    cpus: str | None = None
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None
    _worker_pids: list[int] = field(default_factory=list)

    def start(self, cwd: Path) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            pinned(self.cpus, self.cmd), cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def wait_ready(self, timeout: float = 90) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/live", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name} did not become ready; see {self.log_path}")
        if self.workers > 1:
            # wait until every worker process is up (they serve as soon as each is ready)
            while time.monotonic() < deadline and len(self.worker_pids()) < self.workers:
                time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the uvicorn process itself with one worker)."""
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        kids = [pid for pid in children(self.proc.pid) if rss_kib(pid) > 20_000]  # not the resource tracker
        self._worker_pids = kids
        return kids

    def all_pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid, *children(self.proc.pid)]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class Sampler:
    """Samples the RSS of groups of processes every `interval` s, and their CPU time used
    between enter and exit. A group is a function returning its pids (PostgreSQL backends come
    and go; a process that starts during the window is counted from its start)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]], interval: float = 0.1) -> None:
        self.groups = groups
        self.interval = interval
        self.peak_total_kib = dict.fromkeys(groups, 0)
        self.peak_single_kib = dict.fromkeys(groups, 0)
        self.cpu: dict[str, float] = {}
        self.cpu_by_pid: dict[str, dict[int, float]] = {}
        self._cpu_start: dict[str, dict[int, float]] = {}
        self._pids = {name: pids() for name, pids in groups.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0
        self.wall = 0.0

    def _sample(self) -> None:
        for name, pids in self._pids.items():
            values = [rss_kib(pid) for pid in pids]
            self.peak_total_kib[name] = max(self.peak_total_kib[name], sum(values))
            self.peak_single_kib[name] = max(self.peak_single_kib[name], max(values, default=0))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Sampler:
        self._cpu_start = {name: {pid: cpu_seconds([pid]) for pid in pids} for name, pids in self._pids.items()}
        self._started = time.monotonic()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall = time.monotonic() - self._started
        for name, pids in self.groups.items():
            start = self._cpu_start[name]
            self.cpu_by_pid[name] = {pid: cpu_seconds([pid]) - start.get(pid, 0.0) for pid in pids()}
            self.cpu[name] = sum(self.cpu_by_pid[name].values())


def postgres_pids(data_dir: Path) -> list[int]:
    with contextlib.suppress(OSError, ValueError, IndexError):
        master = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        return [master, *children(master)]
    return []
