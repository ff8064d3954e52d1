"""The command line (`graphql-api ...`, `python -m graphql_api ...`) as real processes, and the
deployment files (Dockerfile, compose.yaml), which cannot be built here (no Docker engine) and
are therefore checked as text."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from graphql_api.db.embedded import POSTGRES_BIN_PATH, EmbeddedPostgres, free_port
from graphql_api.services.demo import DEMO_PASSWORD
from tests.server.conftest import BIN_DIR, REPO_ROOT, ServerProcess, fetchval, process_env

pytestmark = pytest.mark.server

CLI = str(BIN_DIR / "graphql-api")


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def fresh_database(postgres: EmbeddedPostgres) -> str:
    name = f"cli_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return postgres.url(name)


def test_export_schema_check_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphql_api",
            "export-schema",
            "--check",
            "--output",
            str(REPO_ROOT / "schema.graphql"),
        ],
        env=process_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


async def counts(url: str) -> dict[str, int]:
    tables = ("centers", "environments", "users", "inventory_items", "inventory_movements")
    return {table: await fetchval(url, f"SELECT count(*) FROM {table}") for table in tables}


async def test_migrate_then_seed_demo_once(fresh_database: str, tmp_path: Path) -> None:
    env = process_env(DATABASE_URL=fresh_database)

    migrated = run_cli(["migrate"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated to head" in migrated.stdout

    seeded = run_cli(["seed", "--demo"], env, tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert f"password for all: {DEMO_PASSWORD}" in seeded.stdout
    assert "supervisor.cgmlti@demo.local" in seeded.stdout
    first = await counts(fresh_database)
    assert first["centers"] == 2
    assert first["environments"] == 6
    assert first["users"] == 10
    assert 50 <= first["inventory_items"] <= 70, first
    # One INITIAL row each, and per center the demo maintenance's: two starts and one return.
    assert first["inventory_movements"] == first["inventory_items"] + 2 * 3
    damaged = await fetchval(fresh_database, "SELECT count(*) FROM inventory_items WHERE quantity_damaged > 0")
    missing = await fetchval(fresh_database, "SELECT count(*) FROM inventory_items WHERE quantity_missing > 0")
    assert damaged > 0
    assert missing > 0
    roles = await fetchval(fresh_database, "SELECT count(DISTINCT role) FROM users")
    assert roles == 5

    again = run_cli(["seed", "--demo"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already has users" in again.stdout
    assert await counts(fresh_database) == first


def test_seed_without_demo_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["seed"], process_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"), tmp_path)
    assert result.returncode == 2
    assert "--demo" in result.stderr


async def test_create_admin(fresh_database: str, tmp_path: Path) -> None:
    env = process_env(DATABASE_URL=fresh_database, ADMIN_PASSWORD="Admin-Password-42")
    result = run_cli(["create-admin", "--email", "Admin@Example.org"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Created ADMIN_GENERAL" in result.stdout
    role = await fetchval(fresh_database, "SELECT role FROM users WHERE email = 'admin@example.org'")
    assert role == "ADMIN_GENERAL"

    # No top-level domain has one letter: the address is refused with a clear message.
    refused = run_cli(["create-admin", "--email", "x@y.z"], env, tmp_path)
    assert refused.returncode == 2
    assert "email: Invalid e-mail address." in refused.stderr
    assert await fetchval(fresh_database, "SELECT count(*) FROM users") == 1


async def test_create_admin_with_short_password_exits_2(fresh_database: str, tmp_path: Path) -> None:
    result = run_cli(
        ["create-admin", "--email", "short@y.z"],
        process_env(DATABASE_URL=fresh_database, ADMIN_PASSWORD="short"),
        tmp_path,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "password" in result.stderr.lower()
    assert "at least 8" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert await fetchval(fresh_database, "SELECT count(*) FROM users") == 0


def test_production_with_default_secret_key_exits_2(tmp_path: Path) -> None:
    env = process_env(test_defaults=False, APP_ENV="production", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    result = run_cli(["serve"], env, tmp_path, timeout=60)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def postgres_processes(data_dir: Path) -> list[int]:
    """PIDs of processes whose command line names `data_dir` (a running postmaster has `-D`)."""
    found = []
    needle = str(data_dir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def test_serve_with_embedded_postgres(tmp_path: Path) -> None:
    """`graphql-api serve` without DATABASE_URL: embedded PostgreSQL, migrations, demo data,
    the accounts and GraphiQL address printed; SIGTERM stops uvicorn and PostgreSQL."""
    data_dir = tmp_path / "data"
    pg_dir = (data_dir / "postgres").resolve()
    port = free_port()
    env = process_env(
        test_defaults=False, DATA_DIR=str(data_dir), PORT=str(port), BCRYPT_ROUNDS="4", APP_ENV="development"
    )
    server = ServerProcess([CLI, "serve"], env, port, tmp_path / "serve.log", cwd=tmp_path)
    try:
        server.start(ready_path="/health/ready", timeout=120)
        output = server.log(limit=100_000)
        assert "Embedded PostgreSQL on 127.0.0.1:" in output
        assert f"password for all: {DEMO_PASSWORD}" in output
        assert re.search(r"SUPERVISOR\s+supervisor\.cgmlti@demo\.local", output), output
        assert f"http://127.0.0.1:{port}/graphql" in output
        assert "GraphiQL" in output
        assert postgres_processes(pg_dir), "the embedded PostgreSQL should run with that data dir"

        login = httpx.post(
            server.graphql_url,
            json={
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
                "{ __typename ... on AuthPayload { accessToken user { role } } } }",
                "variables": {"e": "supervisor.cgmlti@demo.local", "p": DEMO_PASSWORD},
            },
            timeout=30,
        )
        assert login.status_code == 200
        payload = login.json()["data"]["login"]
        assert payload["__typename"] == "AuthPayload", payload
        assert payload["user"]["role"] == "SUPERVISOR"

        server.signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
        assert exit_code == 0, server.log()
        assert postgres_processes(pg_dir) == [], server.log()
        assert not (pg_dir / "postmaster.pid").exists()
    finally:
        server.stop()
        if (pg_dir / "postmaster.pid").exists():
            EmbeddedPostgres(pg_dir).stop("immediate")  # only if the test failed above


# ---- deployment files ------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    instructions = dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(froms) >= 2
    assert re.match(r"python:3\.11-slim\S*\s+AS\s+builder$", froms[0], re.IGNORECASE), froms
    assert all(args.startswith("python:3.11-slim") for args in froms)

    # Only what follows the last FROM is in the image that runs.
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    runtime = instructions[last_from:]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}

    copies = " ".join(args for keyword, args in runtime if keyword == "COPY")
    assert "--from=builder" in copies
    for needed in ("migrations", "graphql_api", "schema.graphql", "pyproject.toml"):
        assert needed in copies, needed

    builder = instructions[:last_from]
    assert any(keyword == "RUN" and "requirements.lock" in args for keyword, args in builder)

    healthchecks = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "/health/live" in healthchecks[0]
    assert "python" in healthchecks[0]
    assert "curl" not in healthchecks[0]
    assert ("EXPOSE", "8000") in runtime
    env_text = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert "HOST=0.0.0.0" in env_text
    assert "APP_ENV=production" in env_text
    assert "DATABASE_URL" not in env_text  # expected from the environment, never baked in
    assert "SECRET_KEY" not in env_text
    cmd = [args for keyword, args in runtime if keyword == "CMD"]
    assert cmd
    assert "graphql-api" in cmd[-1]
    assert "serve" in cmd[-1]


def embedded_postgres_major() -> int:
    """The major version of the PostgreSQL that development and tests run."""
    binary = Path(POSTGRES_BIN_PATH) / "postgres"
    output = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    assert match, output
    return int(match[1])


def settings_read() -> set[str]:
    """Every environment variable graphql_api/settings.py reads."""
    text = (REPO_ROOT / "graphql_api" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'env(?:\.get\(|, )"([A-Z][A-Z0-9_]*)"', text))


def test_compose_runs_the_server_and_postgres_pinned_to_the_embedded_major() -> None:
    text = (REPO_ROOT / "compose.yaml").read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    services = compose["services"]
    # Only what the server uses: no object storage until a setting reads it.
    assert set(services) == {"app", "postgres"}

    app = services["app"]
    assert app["build"] in (".", {"context": "."})
    environment = app["environment"]
    assert set(environment) <= settings_read(), sorted(set(environment) - settings_read())
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    for secret in ("SECRET_KEY", "QR_SECRET_KEY"):
        # `${VAR:?message}`: compose refuses to start without it; no default is committed.
        assert re.fullmatch(r"\$\{" + secret + r":?\?[^}]*\}", environment[secret]), environment[secret]
    assert set(app["depends_on"]) == {"postgres"}
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"

    postgres = services["postgres"]
    name, _, tag = str(postgres["image"]).partition(":")
    assert name == "postgres"
    # A version, not a moving tag, and the major that development and tests run.
    assert re.fullmatch(r"\d+(\.\d+)?(-[a-z0-9]+)?", tag), tag
    assert int(tag.split(".")[0].split("-")[0]) == embedded_postgres_major()
    assert "pg_isready" in str(postgres["healthcheck"]["test"])
    # The 18+ images keep their data in /var/lib/postgresql/<major>/docker: a volume on the
    # old /var/lib/postgresql/data makes the container refuse to start.
    assert [volume.split(":")[1] for volume in postgres["volumes"]] == ["/var/lib/postgresql"]
    assert set(compose["volumes"]) == {volume.split(":")[0] for volume in postgres["volumes"]}


def test_dockerignore_keeps_local_state_out() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".data", ".git", ".env"):
        assert needed in entries, needed
    assert any("cache" in entry for entry in entries)
