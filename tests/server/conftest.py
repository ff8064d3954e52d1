"""Real server processes: uvicorn on a free loopback port, its own log file, always stopped.

`ServerProcess` runs one uvicorn (or any command that serves HTTP) and waits for readiness by
polling; `start_server` starts as many as a test needs and terminates them at teardown.
`server_db` is a database of its own on the session PostgreSQL, seeded once; the fault tests
build a whole PostgreSQL of their own (they stop and kill it). `row_lock` holds
`SELECT ... FOR UPDATE` on an item so a mutation waits on it; `wait_for_lock_waiter` tells when
the server's statement is actually blocked, so no test sleeps and hopes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from graphql_api.db import models
from graphql_api.db.embedded import EmbeddedPostgres, free_port
from graphql_api.db.engine import make_engine, make_sessionmaker
from graphql_api.db.migrate import upgrade
from graphql_api.settings import Settings
from tests.conftest import PASSWORD, TEST_ENV, Actor, Factory, make_settings

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent

# Every variable graphql_api/settings.py reads: a server process gets only what the test says.
SETTING_VARS = frozenset(
    {
        "APP_ENV",
        "HOST",
        "PORT",
        "WORKERS",
        "LOG_LEVEL",
        "DATA_DIR",
        "DATABASE_URL",
        "SEED_DEMO",
        "SECRET_KEY",
        "QR_SECRET_KEY",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "ACCESS_TOKEN_TTL_SECONDS",
        "REFRESH_TOKEN_TTL_SECONDS",
        "BCRYPT_ROUNDS",
        "ALLOW_SELF_REGISTRATION",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "LOGIN_MAX_FAILURES_PER_IP",
        "LOGIN_KNOWN_ADDRESS_DAYS",
        "LOGIN_FAILURE_WINDOW_SECONDS",
        "LOGIN_LOCKOUT_SECONDS",
        "REGISTER_MAX_PER_IP",
        "REGISTER_WINDOW_SECONDS",
        "GRAPHQL_IDE",
        "GRAPHQL_INTROSPECTION",
        "CORS_ORIGINS",
        "TRUSTED_PROXIES",
        "MAX_BODY_BYTES",
        "REQUEST_READ_TIMEOUT_SECONDS",
        "KEEP_ALIVE_TIMEOUT_SECONDS",
        "LIMIT_CONCURRENCY",
        "APP_TIMEZONE",
        "DEFAULT_LANGUAGE",
        "DB_POOL_SIZE",
        "DB_MAX_OVERFLOW",
        "DB_POOL_TIMEOUT_SECONDS",
        "DB_CONNECT_TIMEOUT_SECONDS",
        "DB_STATEMENT_TIMEOUT_MS",
        "COUNT_STATEMENTS",
        "QUERY_COST_LIMIT",
        "ADMISSION_RUNNING_COST",
        "ADMISSION_QUEUE_COST",
        "SUBSCRIPTION_QUEUE_SIZE",
        "WEBSOCKET_MAX_MESSAGE_BYTES",
        "OUTBOX_RETENTION_SECONDS",
        "OUTBOX_POLL_SECONDS",
        "SCHEDULER_ENABLED",
        "ADMIN_PASSWORD",
    }
)


def process_env(*, test_defaults: bool = True, **values: str) -> dict[str, str]:
    """The environment for a child process: ours without any app setting, then TEST_ENV
    (unless `test_defaults` is false), then `values`."""
    env = {key: value for key, value in os.environ.items() if key not in SETTING_VARS}
    env["PYTHONUNBUFFERED"] = "1"
    if test_defaults:
        env.update(TEST_ENV)
    env.update(values)
    return env


def uvicorn_command(port: int, graceful_seconds: int = 10) -> list[str]:
    """Plain uvicorn with the options of `graphql-api serve` (graphql_api/serving.py), on
    `port`; without serve's request read deadline and socket per worker (tests of those start
    `graphql-api serve`)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "graphql_api.app:app_factory",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "websockets-sansio",
        "--ws-max-size",
        "65536",
        "--timeout-graceful-shutdown",
        str(graceful_seconds),
        "--no-server-header",
        "--no-access-log",
    ]


class ServerProcess:
    """One child process serving HTTP on 127.0.0.1:`port`; output goes to `log_path`."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_path: Path, cwd: Path | None = None):
        self.command = command
        self.env = env
        self.port = port
        self.log_path = log_path
        self.cwd = cwd or REPO_ROOT
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, ready_path: str = "/health/live", timeout: float = 30) -> ServerProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self.wait_ready(ready_path, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = httpx.get(self.base_url + path, timeout=2)
                if response.status_code == 200:
                    return
                last = response.status_code
            except httpx.HTTPError as error:
                last = error
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s (last: {last!r}):\n{self.log()}")

    def log(self, limit: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-limit:]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate (then kill) the process if it still runs; never raises."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """`start_server(database_url, **settings)` -> a running uvicorn; all stopped at teardown.
    With `cli=True` it is the production entry point, `graphql-api serve` (migrates first;
    graceful timeout 20 s as set in graphql_api/cli.py)."""
    started: list[ServerProcess] = []

    def start(database_url: str, *, graceful_seconds: int = 10, cli: bool = False, **settings: str) -> ServerProcess:
        port = free_port()
        env = process_env(DATABASE_URL=database_url, **settings)
        if cli:
            command = [str(BIN_DIR / "graphql-api"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        else:
            command = uvicorn_command(port, graceful_seconds)
        server = ServerProcess(command, env, port, tmp_path / f"server-{port}.log")
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


# ---- data ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """A database with one center, one room, a supervisor of that room and one item."""

    url: str
    settings: Settings
    factory: Factory
    environment: models.Environment
    supervisor: Actor
    item: models.InventoryItem
    dispose: Callable[[], Any]

    async def new_item(self, quantity: int = 5) -> models.InventoryItem:
        return await self.factory.item(self.environment, quantity=quantity)


async def seed(url: str) -> Seeded:
    settings = make_settings(DATABASE_URL=url)
    engine = make_engine(settings, url)
    factory = Factory(make_sessionmaker(engine), settings)
    center = await factory.center(code=f"S{uuid.uuid4().hex[:6]}")
    environment = await factory.environment(center, code=f"R{uuid.uuid4().hex[:6]}")
    supervisor = await factory.user(
        models.Role.SUPERVISOR, environment, email=f"supervisor.{uuid.uuid4().hex[:8]}@test.local", password=PASSWORD
    )
    item = await factory.item(environment, quantity=10, damaged=1)
    return Seeded(url, settings, factory, environment, supervisor, item, engine.dispose)


@pytest.fixture(scope="session")
async def server_db(postgres: EmbeddedPostgres) -> AsyncIterator[Seeded]:
    """A database of its own on the session PostgreSQL (other tests TRUNCATE theirs), seeded."""
    name = f"server_{os.getpid()}"
    postgres.create_database(name)
    url = postgres.url(name)
    await asyncio.to_thread(upgrade, url)
    seeded = await seed(url)
    try:
        yield seeded
    finally:
        await seeded.dispose()


# ---- GraphQL over plain HTTP -----------------------------------------------------------------


async def post_graphql(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = await http.post(url, json=body, headers=headers)
    return response.status_code, response.json()


def top_error(result: dict[str, Any]) -> dict[str, Any]:
    """The `extensions` of the only top-level error (asserts there is exactly one)."""
    errors = result.get("errors") or []
    assert len(errors) == 1, result
    extensions: dict[str, Any] = errors[0].get("extensions") or {}
    return extensions


ADJUST = """
mutation Adjust($input: AdjustItemStockInput!) {
  adjustItemStock(input: $input) {
    __typename
    ... on AdjustItemStockPayload { item { id quantity } movement { id reason deltaQuantity quantityAfter } }
    ... on Error { message code }
  }
}
"""


def adjust_input(item_id: str, expected: int, delta: int = 1) -> dict[str, Any]:
    return {
        "input": {
            "itemId": item_id,
            "expectedQuantity": expected,
            "delta": {"quantity": delta},
            "reason": "RESTOCK",
            "note": "server test",
        }
    }


# ---- locks and direct database reads ---------------------------------------------------------


class RowLock:
    """`SELECT ... FOR UPDATE` on one item, held in an open transaction until `release()`."""

    def __init__(self, connection: Any, transaction: Any) -> None:
        self.connection = connection
        self.transaction = transaction
        self.released = False

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self.transaction.rollback()


@contextlib.asynccontextmanager
async def row_lock(url: str, item_id: uuid.UUID) -> AsyncIterator[RowLock]:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SELECT 1 FROM inventory_items WHERE id = $1 FOR UPDATE", item_id)
        lock = RowLock(connection, transaction)
        try:
            yield lock
        finally:
            with contextlib.suppress(Exception):
                await lock.release()
    finally:
        # After PostgreSQL was killed the connection is gone; closing it then may fail.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 2)
        connection.terminate()


async def wait_for_lock_waiter(url: str, count: int = 1, timeout: float = 15) -> None:
    """Until `count` server statements (application_name graphql-api) on this database wait on
    a lock; other tests share the session PostgreSQL, so other databases do not count."""
    connection = await asyncpg.connect(url, timeout=5)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'graphql-api'"
                " AND wait_event_type = 'Lock'"
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no server statement waited on the row lock within {timeout} s")
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def pending(coroutine: Coroutine[Any, Any, T]) -> AsyncIterator[asyncio.Task[T]]:
    """Run `coroutine` as a task for the block; cancelled (and its outcome dropped) if the block
    leaves before awaiting it, so a failing test leaves no orphan task behind."""
    task = asyncio.create_task(coroutine)
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def execute(url: str, sql: str, *args: Any) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


async def fetchval(url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def item_state(url: str, item_id: uuid.UUID) -> tuple[int, int]:
    """(quantity, number of ledger rows) of an item, read straight from PostgreSQL."""
    quantity = await fetchval(url, "SELECT quantity FROM inventory_items WHERE id = $1", item_id)
    movements = await fetchval(url, "SELECT count(*) FROM inventory_movements WHERE item_id = $1", item_id)
    return quantity, movements
