"""Failed-login throttling per account and per client IP, shared by all workers via PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import LoginThrottle
from graphql_api.errors import RateLimited
from graphql_api.settings import Settings


def throttle_keys(email: str, client_ip: str | None) -> dict[str, str]:
    keys = {"account": f"account:{email[:255]}"}
    if client_ip:
        keys["ip"] = f"ip:{client_ip}"
    return keys


async def ensure_not_locked(session: AsyncSession, keys: dict[str, str], now: datetime) -> None:
    rows = await session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(list(keys.values())), LoginThrottle.locked_until > now
        )
    )
    until = max((value for value in rows if value is not None), default=None)
    if until is not None:
        raise RateLimited(max(1, int((until - now).total_seconds()) + 1))


async def register_failure(session: AsyncSession, keys: dict[str, str], settings: Settings, now: datetime) -> None:
    """Count one failure per key; lock a key once it reaches its limit within the window."""
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    lock_until = now + timedelta(seconds=settings.login_lockout_seconds)
    limits = {
        "account": settings.login_max_failures_per_account,
        "ip": settings.login_max_failures_per_ip,
    }
    for kind, key in keys.items():
        stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now)
        # A failure after the window restarts the count; otherwise it adds one.
        expired = LoginThrottle.window_started_at < window_start
        failures = case((expired, 1), else_=LoginThrottle.failures + 1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": failures,
                "window_started_at": case((expired, now), else_=LoginThrottle.window_started_at),
                "locked_until": case((failures >= limits[kind], lock_until), else_=None),
            },
        )
        await session.execute(stmt)


async def clear_account(session: AsyncSession, keys: dict[str, str]) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys["account"]))
