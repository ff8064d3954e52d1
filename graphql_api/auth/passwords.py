"""bcrypt hashing, always off the event loop (a cost-12 hash is a long stretch of CPU).

Hashing runs on one dedicated thread per process, not the default executor: a flood of
logins then takes one core at most and the event loop keeps serving everything else. At most
`MAX_WAITING_HASHES` wait for that thread; further attempts are refused at once with
RATE_LIMITED instead of queueing without bound (catalogue F19).

The hashing thread runs at a lower scheduling priority (`HASH_THREAD_NICE`, Linux per-thread
nice): when a core is shared, the event loop gets the CPU first and logins take what is left, so
a burst of logins slows logins, not every other request. On an idle core nothing changes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

from graphql_api.errors import FieldErrors, RateLimited

HASH_THREADS = 1
MAX_WAITING_HASHES = 16
_executor = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="bcrypt")
_waiting = 0
_nice = 0
_thread = threading.local()
T = TypeVar("T")
log = logging.getLogger(__name__)


def set_thread_nice(nice: int) -> None:
    """Scheduling priority of the hashing thread (0 = same as the event loop, 19 = lowest);
    applied by the thread before its next hash."""
    global _nice
    _nice = nice


def _at_priority(fn: Callable[..., T], *args: object) -> T:
    wanted = _nice
    if getattr(_thread, "nice", 0) != wanted and hasattr(os, "setpriority"):
        try:
            # On Linux PRIO_PROCESS with a thread id sets the priority of that thread only.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), wanted)
        except OSError as error:  # lowering a nice value needs privileges: keep the current one
            log.warning("could not set the hashing thread's nice value to %s: %s", wanted, error)
        _thread.nice = wanted
    return fn(*args)


async def _off_loop(fn: Callable[..., T], *args: object) -> T:
    global _waiting
    if _waiting >= MAX_WAITING_HASHES:
        raise RateLimited(1)
    _waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_executor, _at_priority, fn, *args)
    finally:
        _waiting -= 1


MIN_PASSWORD_BYTES = 8
# bcrypt only reads 72 bytes, and bcrypt >= 5 raises on longer input instead of truncating.
MAX_PASSWORD_BYTES = 72


def check_password_rules(password: str, errors: FieldErrors, field: str = "password") -> None:
    size = len(password.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES:
        errors.add(field, "field.password_too_short", min=MIN_PASSWORD_BYTES)
    elif size > MAX_PASSWORD_BYTES:
        errors.add(field, "field.password_too_long", max=MAX_PASSWORD_BYTES)


def hash_password_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


async def hash_password(password: str, rounds: int) -> str:
    return await _off_loop(hash_password_sync, password, rounds)


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy-password-for-timing", bcrypt.gensalt(rounds))


def _verify(password: str, stored: str | None, rounds: int) -> bool:
    encoded = password.encode("utf-8")
    too_long = len(encoded) > MAX_PASSWORD_BYTES
    if stored is None or too_long:
        # Do the same work as a real check so that timing does not reveal whether the account
        # exists or why the attempt failed.
        bcrypt.checkpw(encoded[:MAX_PASSWORD_BYTES], _dummy_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(encoded, stored.encode("ascii"))
    except ValueError:
        return False


async def verify_password(password: str, stored: str | None, rounds: int) -> bool:
    """True when `password` matches `stored`; with `stored=None` it burns the same time."""
    return await _off_loop(_verify, password, stored, rounds)


def needs_rehash(stored: str, rounds: int) -> bool:
    try:
        return int(stored.split("$")[2]) < rounds
    except (IndexError, ValueError):
        return True
