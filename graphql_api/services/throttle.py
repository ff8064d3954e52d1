"""Login and registration throttling, shared by all workers via PostgreSQL (`login_throttle`).

A lockout must not become a weapon against the account's owner (OWASP Authentication cheat
sheet, "Account lockout"), so each failure counts against three keys with their own limits:

* `pair:<address>|<email>`: a few failures lock that address out of that account only. An
  attacker's guesses lock the attacker, never the owner signing in from elsewhere.
* `ip:<address>`: many failures across accounts lock the address (password spraying).
* `account:<email>`: failures from all addresses together, against guessing spread over many
  addresses. Past its limit the account stays open only to addresses it signed in from
  recently (`last_success_at` of the pair): guessing is capped, the owner still gets in.

Keys never depend on whether the account exists: an unknown e-mail is counted and locked like
a real one, so a lockout reveals nothing. Only a pair that once signed in is "known", and that
needs the password.

Registration counts `register:<address>`: REGISTER_MAX_PER_IP registrations per window, then
the address waits for the window to end. Both outcomes that answer an enumeration probe count,
a new account and EMAIL_TAKEN; input errors do not (they reveal nothing and cost no hash).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import LoginThrottle
from graphql_api.errors import RateLimited
from graphql_api.settings import Settings


def throttle_keys(email: str, client_ip: str | None) -> dict[str, str]:
    keys = {"account": f"account:{email[:255]}"}
    if client_ip:
        keys["pair"] = f"pair:{client_ip}|{email[:255]}"
        keys["ip"] = f"ip:{client_ip}"
    return keys


async def ensure_not_locked(session: AsyncSession, keys: dict[str, str], settings: Settings, now: datetime) -> None:
    rows = await session.execute(
        select(LoginThrottle.key, LoginThrottle.locked_until, LoginThrottle.last_success_at).where(
            LoginThrottle.key.in_(list(keys.values()))
        )
    )
    by_key = {row.key: row for row in rows}
    pair = by_key.get(keys.get("pair", ""))
    known_since = now - timedelta(days=settings.login_known_address_days)
    known = pair is not None and pair.last_success_at is not None and pair.last_success_at > known_since
    locks = [
        row.locked_until
        for kind, key in keys.items()
        if (row := by_key.get(key)) is not None and row.locked_until is not None and row.locked_until > now
        if not (kind == "account" and known)
    ]
    if locks:
        raise RateLimited(retry_after(max(locks), now))


def retry_after(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds()) + 1)


async def count_attempt(
    session: AsyncSession, key: str, *, limit: int, window_seconds: int, lock_until: datetime | None, now: datetime
) -> None:
    """Count one attempt against `key` in its window; at `limit`, lock the key until
    `lock_until` (or, when None, until the window ends)."""
    window_start = now - timedelta(seconds=window_seconds)
    # The insert branch is the first attempt: with a limit of 1 it must lock already.
    first_until = lock_until or now + timedelta(seconds=window_seconds)
    stmt = insert(LoginThrottle).values(
        key=key, failures=1, window_started_at=now, locked_until=first_until if limit <= 1 else None
    )
    # An attempt after the window restarts the count; otherwise it adds one.
    expired = LoginThrottle.window_started_at < window_start
    failures = case((expired, 1), else_=LoginThrottle.failures + 1)
    started = case((expired, now), else_=LoginThrottle.window_started_at)
    until = lock_until if lock_until is not None else started + timedelta(seconds=window_seconds)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": failures,
            "window_started_at": started,
            "locked_until": case((failures >= limit, until), else_=None),
        },
    )
    await session.execute(stmt)


async def register_failure(session: AsyncSession, keys: dict[str, str], settings: Settings, now: datetime) -> None:
    """Count one failed login per key; lock a key once it reaches its limit within the window."""
    limits = {
        "pair": settings.login_max_failures_per_account_and_ip,
        "ip": settings.login_max_failures_per_ip,
        "account": settings.login_max_failures_per_account,
    }
    lock_until = now + timedelta(seconds=settings.login_lockout_seconds)
    for kind, key in keys.items():
        await count_attempt(
            session,
            key,
            limit=limits[kind],
            window_seconds=settings.login_failure_window_seconds,
            lock_until=lock_until,
            now=now,
        )


async def record_success(session: AsyncSession, keys: dict[str, str], now: datetime) -> None:
    """Forgive this address's failures on the account and remember it as known to the account.

    The account and IP counters are left alone: the owner signing in does not stop an attack
    spread over other addresses, and resetting them would hand the attacker a fresh allowance.
    """
    if "pair" not in keys:
        return
    values = {"failures": 0, "window_started_at": now, "locked_until": None, "last_success_at": now}
    stmt = insert(LoginThrottle).values(key=keys["pair"], **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[LoginThrottle.key], set_=values))


def registration_keys(client_ip: str | None) -> dict[str, str]:
    return {"register": f"register:{client_ip}"} if client_ip else {}


async def count_registration(session: AsyncSession, keys: dict[str, str], settings: Settings, now: datetime) -> None:
    for key in keys.values():
        await count_attempt(
            session,
            key,
            limit=settings.register_max_per_ip,
            window_seconds=settings.register_window_seconds,
            lock_until=None,
            now=now,
        )
