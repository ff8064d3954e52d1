"""Alembic, driven from code: `upgrade`, the revision state for /health/ready, drift checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# Any fixed bigint, the same for every host; it only has to differ from the project's other
# advisory locks.
MIGRATION_LOCK_KEY = 0x6D6967726174  # "migrat"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; call from a thread when an event loop is running)."""
    command.upgrade(alembic_config(url), revision)


def lock_migrations(connection: Connection) -> None:
    """Serialise migrations between hosts started at once: wait for the others to commit.

    Held until the migration transaction ends, so the waiter reads the version the other host
    wrote and has nothing left to do, instead of creating the same tables a second time."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


async def current_revision(connection: AsyncConnection) -> str | None:
    def _current(sync_conn: object) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()  # type: ignore[arg-type]

    return await connection.run_sync(_current)


async def is_at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await current_revision(connection) == head_revision()
