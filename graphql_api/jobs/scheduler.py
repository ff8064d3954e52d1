"""Runs the periodic jobs that are due, each once per period across every process and host.

A job runs inside one transaction that first takes the job's advisory lock (without
waiting: another process is running it) and checks when it last ran, then records its run in
`job_runs`; the job's work and its record commit together. So two processes that wake at the
same minute run a job once, and a job that failed (rolled back) is due again at the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db.engine import is_db_unavailable
from graphql_api.db.models import JobRun
from graphql_api.settings import Settings

log = logging.getLogger(__name__)
TICK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Job:
    """`run(session, now, settings)` does the work and says what it did (for `job_runs`)."""

    name: str
    every: timedelta
    run: Callable[[AsyncSession, datetime, Settings], Awaitable[dict[str, Any]]]


def lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key per job name (the same on every host)."""
    return int.from_bytes(hashlib.sha256(f"graphql-api job {name}".encode()).digest()[:8], "big") >> 1


@dataclass(slots=True)
class Sweep:
    """What one turn did: the jobs that ran (with what each did) and those that failed."""

    ran: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


async def run_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    jobs: Sequence[Job],
    *,
    now: datetime | None = None,
    force: bool = False,
) -> Sweep:
    """Run every job whose period has passed since its last successful run (all with
    `force`)."""
    sweep = Sweep()
    for job in jobs:
        try:
            detail = await _run_one(sessionmaker, settings, job, now, force)
        except Exception as error:
            reason = is_db_unavailable(error)
            if reason is None:
                log.exception("periodic job %s failed", job.name)
            else:
                # An outage is expected now and then; the job runs again at the next tick.
                log.warning("periodic job %s not run: database unavailable (%s)", job.name, reason)
            sweep.failed.append(job.name)
            continue
        if detail is not None:
            sweep.ran[job.name] = detail
    return sweep


async def _run_one(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, job: Job, now: datetime | None, force: bool
) -> dict[str, Any] | None:
    async with sessionmaker.begin() as session:
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(job.name)))):
            return None  # another process is running it right now
        moment = now or await session.scalar(select(func.now()))
        assert moment is not None
        last = await session.scalar(
            select(func.max(JobRun.started_at)).where(JobRun.job == job.name, JobRun.outcome == "OK")
        )
        if not force and last is not None and moment - last < job.every:
            return None
        detail = await job.run(session, moment, settings)
        session.add(
            JobRun(job=job.name, started_at=moment, finished_at=func.clock_timestamp(), outcome="OK", detail=detail)
        )
    log.info("periodic job %s ran: %s", job.name, detail)
    return detail


class Scheduler:
    """A worker's loop: every TICK_SECONDS, the jobs that are due."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, jobs: Sequence[Job]) -> None:
        self._sessionmaker, self._settings, self._jobs = sessionmaker, settings, jobs
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # run_due logs what failed; the loop goes on
                await run_due(self._sessionmaker, self._settings, self._jobs)
            await asyncio.sleep(TICK_SECONDS)
