"""Engine and session factory, plus the classification of database failures."""

from __future__ import annotations

import contextvars
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from graphql_api.settings import Settings

# When set (tests, the COUNT_STATEMENTS mode), every statement sent to PostgreSQL adds one to
# item 0 of the list in this variable and every transaction begun adds one to item 1. Request
# tasks inherit the variable, so one request's statements add up.
statement_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("statement_counter", default=None)


def async_url(url: str) -> str:
    """`postgresql://…` as given by users, with the asyncpg driver SQLAlchemy needs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must start with postgresql://")


def make_engine(settings: Settings, url: str, **overrides: Any) -> AsyncEngine:
    options: dict[str, Any] = {
        # Pre-ping without a round trip: see _check_alive.
        "pool_pre_ping": False,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "pool_recycle": 1800,
        "connect_args": {
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "graphql-api",
            },
        },
    }
    options.update(overrides)
    engine = create_async_engine(async_url(url), **options)
    event.listen(engine.sync_engine, "checkout", _check_alive)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    event.listen(engine.sync_engine, "begin", _count_transaction)
    return engine


def _check_alive(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """The pool's pre-ping, as a check of the driver's connection state instead of a query.

    A PostgreSQL restart or a terminated backend closes the socket, which asyncpg notices as
    soon as the event loop sees it; a connection found closed at checkout is discarded and the
    pool hands out (or opens) another one. SQLAlchemy's own pre-ping costs three round trips per
    checkout (BEGIN, ";", ROLLBACK), which was a fifth of a small request's time. A connection
    that dies silently (no FIN, e.g. a network partition) is caught by the statement timeout
    and invalidated on that error, as it would be after a ping.
    """
    driver = record.driver_connection
    if driver is None or driver.is_closed():
        raise exc.DisconnectionError("connection closed by the server")


def _autocommit(connection: Any) -> bool:
    return bool(connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT")


def _count_statement(connection: Any, *_args: Any, **_kwargs: Any) -> None:
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1
        if len(counter) > 1 and _autocommit(connection):
            counter[1] += 1  # autocommit: the statement is its own transaction


def _count_transaction(connection: Any, *_args: Any, **_kwargs: Any) -> None:
    counter = statement_counter.get()
    if counter is not None and len(counter) > 1 and not _autocommit(connection):
        counter[1] += 1


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_db_unavailable(error: BaseException) -> str | None:
    """Why the database could not serve a request ("CONNECTION", "TIMEOUT", "POOL_EXHAUSTED"),
    or None when `error` is not a database-availability problem."""
    if isinstance(error, exc.TimeoutError):
        return "POOL_EXHAUSTED"
    original = getattr(error, "orig", None) or error
    name = type(original).__name__
    # SQLAlchemy 2.1 turns asyncpg's QueryCanceledError into its generic dialect Error; the
    # SQLSTATE survives on `sqlstate` (57014 query_canceled: statement_timeout fired).
    sqlstate = getattr(original, "sqlstate", None)
    if name in {"QueryCanceledError", "QueryCanceled"} or sqlstate == "57014" or isinstance(original, TimeoutError):
        return "TIMEOUT"
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return "CONNECTION"
    # Also translated into the dialect's generic Error: a server shutting down or starting up
    # refusing a new connection (57P03), an administrator's or a crash's shutdown, class 08.
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_STATES):
        return "CONNECTION"
    if isinstance(error, exc.InterfaceError | exc.OperationalError):
        return "CONNECTION"
    if isinstance(original, OSError | ConnectionError):
        return "CONNECTION"
    if name in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
        "InterfaceError",
        "InternalClientError",
    }:
        return "CONNECTION"
    return None
