"""The scheduler's account of a failed job: a database outage is a warning without a traceback
(it runs every minute, and the server recovers by itself); anything else is logged in full."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.jobs.scheduler import Job, run_due
from graphql_api.settings import Settings

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _failing(error: Exception) -> Job:
    async def run(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
        raise error

    return Job("failing", timedelta(minutes=1), run)


async def test_a_database_outage_is_a_warning_without_traceback(
    db: async_sessionmaker[AsyncSession], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    outage = exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    with caplog.at_level(logging.WARNING, logger="graphql_api.jobs.scheduler"):
        assert (await run_due(db, settings, [_failing(outage)], now=NOW)).failed == ["failing"]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == "periodic job failing not run: database unavailable (CONNECTION)"


async def test_any_other_failure_is_logged_with_its_traceback(
    db: async_sessionmaker[AsyncSession], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="graphql_api.jobs.scheduler"):
        assert (await run_due(db, settings, [_failing(ValueError("bug"))], now=NOW)).failed == ["failing"]
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
