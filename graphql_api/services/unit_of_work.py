"""Hooks a service registers on the mutation's transaction.

* `on_failure`: work that must persist even though the transaction rolls back, because the
  failure itself is the event (a failed login counts against the throttle; a replayed refresh
  token revokes its family). It runs in a fresh transaction after the rollback.
* `after_commit`: work that must only happen once the change is durable (publishing events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Effect = Callable[[AsyncSession], Awaitable[None]]
Callback = Callable[[], Awaitable[Any]]

_FAILURE = "on_failure_effects"
_COMMIT = "after_commit_callbacks"
KEYS = (_FAILURE, _COMMIT)


def on_failure(session: AsyncSession, effect: Effect) -> None:
    session.info.setdefault(_FAILURE, []).append(effect)


def failure_effects(session: AsyncSession) -> list[Effect]:
    return list(session.info.get(_FAILURE, []))


def after_commit(session: AsyncSession, callback: Callback) -> None:
    session.info.setdefault(_COMMIT, []).append(callback)


def commit_callbacks(session: AsyncSession) -> list[Callback]:
    return list(session.info.get(_COMMIT, []))
