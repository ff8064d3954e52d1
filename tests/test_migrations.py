"""Alembic on a brand-new database of the session's embedded server: build from empty, no drift
against the models, a clean downgrade and re-upgrade, and the append-only history triggers."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from graphql_api.auth.scope import Principal
from graphql_api.db.engine import async_url
from graphql_api.db.migrate import alembic_config, head_revision
from graphql_api.db.models import AuditOutcome, Base, ItemCategory, ItemType, Role
from graphql_api.services import audit, items, organization, users
from graphql_api.services.audit import RequestMeta
from tests.conftest import make_settings

_counter = itertools.count()
APPEND_ONLY = ("inventory_movements", "audit_logs")


@pytest.fixture
async def fresh_database(postgres: Any) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A new, empty database (its own name per test) and a NullPool engine on it."""
    name = f"migrations_{os.getpid()}_{next(_counter)}"
    await asyncio.to_thread(postgres.create_database, name)
    url = postgres.url(name)
    engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
    try:
        yield url, engine
    finally:
        await engine.dispose()


async def _alembic(action: str, url: str, revision: str) -> None:
    # env.py runs its own event loop (asyncio.run), so Alembic must run off this loop's thread.
    await asyncio.to_thread(getattr(command, action), alembic_config(url), revision)


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return {row[0] for row in rows}


async def _revision(engine: AsyncEngine) -> str | None:
    def current(sync_connection: Connection) -> str | None:
        return MigrationContext.configure(sync_connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(current)


async def _drift(engine: AsyncEngine) -> list[Any]:
    def diff(sync_connection: Connection) -> list[Any]:
        # The same comparison options as migrations/env.py uses for autogenerate.
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(diff)


async def _triggers(engine: AsyncEngine) -> set[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT event_object_table, trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = 'public'"
            )
        )
        return {(row[0], row[1]) for row in rows}


MODEL_TABLES = set(Base.metadata.tables)


async def test_upgrade_head_builds_an_empty_database(fresh_database: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh_database
    assert await _tables(engine) == set()
    assert await _revision(engine) is None

    await _alembic("upgrade", url, "head")

    assert head_revision() is not None
    assert await _revision(engine) == head_revision()
    assert await _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert {table for table, _ in await _triggers(engine)} == set(APPEND_ONLY)


async def test_models_and_migrations_do_not_drift(fresh_database: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh_database
    await _alembic("upgrade", url, "head")
    assert await _drift(engine) == []


async def test_drift_check_detects_a_difference(fresh_database: tuple[str, AsyncEngine]) -> None:
    # The drift check must be able to fail: drop a column the models declare.
    url, engine = fresh_database
    await _alembic("upgrade", url, "head")
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE centers DROP COLUMN description"))
    diff = await _drift(engine)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "centers", "description")]


async def test_downgrade_to_base_then_upgrade_again(fresh_database: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh_database
    await _alembic("upgrade", url, "head")

    await _alembic("downgrade", url, "base")
    assert await _tables(engine) == {"alembic_version"}
    assert await _revision(engine) is None
    assert await _triggers(engine) == set()
    async with engine.connect() as connection:
        functions = await connection.scalar(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'forbid_history_rewrite'")
        )
    assert functions == 0

    await _alembic("upgrade", url, "head")
    assert await _revision(engine) == head_revision()
    assert await _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert await _drift(engine) == []
    assert {table for table, _ in await _triggers(engine)} == set(APPEND_ONLY)


async def _seed_history(engine: AsyncEngine) -> None:
    """One ledger row (an item's INITIAL movement) and one audit row, through the services."""
    settings = make_settings()
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker.begin() as session:
        center = await organization.create_center(session, name="C", code="C1", location="L", description=None)
        environment = await organization.create_environment(
            session,
            center_id=center.id,
            name="E",
            code="E1",
            location="L",
            capacity=10,
            is_warehouse=False,
            description=None,
        )
        actor = await users.create_user(
            session,
            settings,
            email="root@test.local",
            password="Correct-Horse-9",
            role=Role.ADMIN_GENERAL,
            first_name="R",
            last_name="T",
        )
        principal = Principal(actor.id, actor.role, None, None, "es", actor.token_version)
        await items.create_item(
            session,
            principal,
            environment_id=environment.id,
            item_type=ItemType.GROUP,
            category=ItemCategory.OTHER,
            quantity=5,
            name="Chairs",
            internal_code="CH-1",
        )
        await audit.write_entry(
            session,
            operation="seed",
            outcome=AuditOutcome.SUCCESS,
            actor=(actor.id, actor.role),
            meta=RequestMeta(),
            duration_ms=1,
        )


@pytest.mark.parametrize("table", APPEND_ONLY)
async def test_history_tables_are_append_only(fresh_database: tuple[str, AsyncEngine], table: str) -> None:
    url, engine = fresh_database
    await _alembic("upgrade", url, "head")
    await _seed_history(engine)
    async with engine.connect() as connection:
        before = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
    assert before == 1  # inserting is allowed: the triggers guard history, not new rows

    for statement in (
        f"UPDATE {table} SET created_at = created_at",
        f"UPDATE {table} SET id = gen_random_uuid()",
        f"DELETE FROM {table}",
        f"DELETE FROM {table} WHERE created_at < now() + interval '1 day'",
    ):
        with pytest.raises(DBAPIError, match=f"table {table} is append-only") as refused:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        assert refused.value.orig.sqlstate == "23001"  # type: ignore[union-attr]  # restrict_violation

    async with engine.connect() as connection:
        after = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
        enabled_triggers = await connection.scalar(
            text("SELECT count(*) FROM pg_trigger WHERE tgname = :name AND tgenabled = 'O'"),
            {"name": f"{table}_append_only"},
        )
    assert after == 1
    assert enabled_triggers == 1
