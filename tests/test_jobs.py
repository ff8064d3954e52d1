"""Periodic jobs: once per period across every process (advisory lock + `job_runs`), a failed
job is due again, `graphql-api sweep` for cron, and the jobs' own work (outbox trimming)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.db.embedded import EmbeddedPostgres
from graphql_api.db.migrate import upgrade
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import Job, lock_key, run_due
from graphql_api.services import events
from graphql_api.settings import Settings
from tests.server.conftest import BIN_DIR, execute, fetchval, process_env

JOB_NAMES = sorted(job.name for job in JOBS)


async def runs(db: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with db() as session:
        rows = (await session.execute(select(models.JobRun.job, func.count()).group_by(models.JobRun.job))).all()
    return Counter({str(job): int(count) for job, count in rows})


async def test_each_job_runs_once_per_period(db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    start = datetime.now(UTC)
    assert sorted((await run_due(db, settings, JOBS, now=start)).ran) == JOB_NAMES
    for job in JOBS:  # each on its own period (one minute to ten)
        assert (await run_due(db, settings, (job,), now=start + job.every - timedelta(seconds=1))).ran == {}
        assert list((await run_due(db, settings, (job,), now=start + job.every)).ran) == [job.name]
    assert await runs(db) == Counter(dict.fromkeys(JOB_NAMES, 2))
    forced = await run_due(db, settings, JOBS, now=start + timedelta(minutes=11), force=True)
    assert sorted(forced.ran) == JOB_NAMES


async def test_concurrent_turns_run_each_job_once(db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    # Eight turns at once (separate connections): the lock or the last run stops all but one.
    sweeps = await asyncio.gather(*(run_due(db, settings, JOBS) for _ in range(8)))
    ran = Counter(name for sweep in sweeps for name in sweep.ran)
    assert ran == Counter(dict.fromkeys(JOB_NAMES, 1))
    assert await runs(db) == Counter(dict.fromkeys(JOB_NAMES, 1))


async def test_a_job_held_by_another_process_is_skipped(
    db: async_sessionmaker[AsyncSession], settings: Settings, database_url: str
) -> None:
    import asyncpg

    job = JOBS[0]
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", lock_key(job.name))
        sweep = await run_due(db, settings, JOBS)
    finally:
        await holder.close()
    assert job.name not in sweep.ran
    assert sweep.failed == []
    assert job.name in (await run_due(db, settings, JOBS)).ran


async def test_a_failed_job_leaves_nothing_and_is_due_again(
    db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    attempts = []

    async def flaky(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
        attempts.append(now)
        await session.execute(text("DELETE FROM outbox_events"))
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return {"attempt": len(attempts)}

    async with db.begin() as session:
        events.publish(session, "test_topic")
    jobs = (Job("flaky", timedelta(hours=1), flaky),)
    first = await run_due(db, settings, jobs)
    assert (first.ran, first.failed) == ({}, ["flaky"])
    async with db() as session:
        # Rolled back with the job: the outbox row is still there and no run is recorded.
        assert await session.scalar(select(func.count()).select_from(models.OutboxEvent)) == 1
        assert await session.scalar(select(func.count()).select_from(models.JobRun)) == 0
    second = await run_due(db, settings, jobs)
    assert (second.ran, second.failed) == ({"flaky": {"attempt": 2}}, [])


async def test_trim_outbox_deletes_only_old_events(db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with db.begin() as session:
        for topic in ("old", "new"):
            events.publish(session, topic)
    async with db.begin() as session:
        await session.execute(
            text("UPDATE outbox_events SET created_at = now() - interval '2 days' WHERE topic = 'old'")
        )
    sweep = await run_due(db, settings, JOBS, force=True)
    assert sweep.ran["trim_outbox"] == {"deleted": 1}
    async with db() as session:
        assert (await session.scalars(select(models.OutboxEvent.topic))).all() == ["new"]


# ---- graphql-api sweep, as processes ---------------------------------------------------------


def sweep_process(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN_DIR / "graphql-api"), "sweep", *args],
        env=process_env(DATABASE_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def ran_jobs(output: str) -> list[str]:
    return sorted(line.split()[1].rstrip(":") for line in output.splitlines() if line.startswith("ran "))


@pytest.fixture
async def sweep_db(postgres: EmbeddedPostgres) -> str:
    name = f"sweep_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    url = postgres.url(name)
    await asyncio.to_thread(upgrade, url)
    return url


async def job_runs(url: str) -> Counter[str]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT job, count(*) AS n FROM job_runs GROUP BY job")
    finally:
        await connection.close()
    return Counter({row["job"]: row["n"] for row in rows})


@pytest.mark.server
async def test_two_sweep_processes_run_each_job_once_per_period(sweep_db: str) -> None:
    for period in (1, 2):
        processes = [sweep_process(sweep_db), sweep_process(sweep_db)]
        results = [await asyncio.to_thread(finish, process) for process in processes]
        assert [code for code, _, _ in results] == [0, 0], results
        together = sorted(name for _, out, _ in results for name in ran_jobs(out))
        assert together == JOB_NAMES, results
        assert await job_runs(sweep_db) == Counter(dict.fromkeys(JOB_NAMES, period))
        # The next period: the last runs are made a period older.
        await execute(sweep_db, "UPDATE job_runs SET started_at = started_at - interval '10 minutes'")
    code, out, _ = await asyncio.to_thread(finish, sweep_process(sweep_db))
    assert code == 0
    assert ran_jobs(out) == JOB_NAMES
    code, out, _ = await asyncio.to_thread(finish, sweep_process(sweep_db))
    assert (code, out.strip()) == (0, "no job was due")


@pytest.mark.server
async def test_sweep_force_runs_every_job_and_prints_what_it_did(sweep_db: str) -> None:
    for _ in range(2):
        code, out, err = await asyncio.to_thread(finish, sweep_process(sweep_db, "--force"))
        assert code == 0, err
        assert ran_jobs(out) == JOB_NAMES
    assert 'ran trim_outbox: {"deleted": 0}' in out
    assert await fetchval(sweep_db, "SELECT count(*) FROM job_runs") == 2 * len(JOB_NAMES)


@pytest.mark.server
def test_sweep_refuses_a_database_behind_head(postgres: EmbeddedPostgres, tmp_path: Path) -> None:
    name = f"sweep_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    code, out, err = finish(sweep_process(postgres.url(name)))
    assert code == 2, (out, err)
    assert "graphql-api migrate" in err
