"""Which errors mean "the database is away" (DB_UNAVAILABLE, and a live event waits for the
database instead of being dropped): also those SQLAlchemy's asyncpg dialect turns into its
generic Error, where only the SQLSTATE tells what happened."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

from graphql_api.db.engine import is_db_unavailable


def translated(error: Exception) -> exc.DBAPIError:
    """As the dialect raises it when a new connection is refused."""
    adapted = AsyncAdapt_asyncpg_dbapi.Error(str(error), error)
    wrapped = exc.DBAPIError(None, None, adapted)  # type: ignore[arg-type]
    assert type(wrapped.orig).__name__ == "Error"
    return wrapped


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_refused_connection_translated_by_the_dialect_is_unavailability(error: Exception) -> None:
    assert is_db_unavailable(translated(error)) == "CONNECTION"


def test_a_constraint_violation_is_not_unavailability() -> None:
    error = asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint")
    assert is_db_unavailable(translated(error)) is None
