"""The examples in examples/ run as a reader would run them, against a real uvicorn with data:
examples/curl.sh with sh and curl, examples/client.py with this virtualenv's Python (gql)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from graphql_api.db.embedded import EmbeddedPostgres, free_port
from graphql_api.db.migrate import upgrade
from tests.conftest import PASSWORD
from tests.server.conftest import REPO_ROOT, Seeded, ServerProcess, fetchval, process_env, seed, uvicorn_command

pytestmark = pytest.mark.server

# Only so that a stuck example fails instead of hanging the suite.
HANG = 120


@pytest.fixture(scope="module")
async def examples_db(postgres: EmbeddedPostgres) -> AsyncIterator[Seeded]:
    """A database of its own: the client example changes stock (and puts it back), and other
    modules' tests expect the shared `server_db` items as they seeded them."""
    name = f"examples_{os.getpid()}"
    postgres.create_database(name)
    url = postgres.url(name)
    await asyncio.to_thread(upgrade, url)
    seeded = await seed(url)
    try:
        yield seeded
    finally:
        await seeded.dispose()


@pytest.fixture(scope="module")
def server(examples_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(
        uvicorn_command(port),
        process_env(DATABASE_URL=examples_db.url),
        port,
        tmp_path_factory.mktemp("examples") / "uvicorn.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=HANG, check=False
    )


@pytest.fixture(scope="module")
def curl() -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")


@pytest.mark.usefixtures("curl")
def test_curl_example(server: ServerProcess, examples_db: Seeded) -> None:
    email = examples_db.supervisor.user.email
    done = run(["sh", "examples/curl.sh", server.graphql_url], EMAIL=email, PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    assert data["me"] == {"email": email, "role": "SUPERVISOR"}
    assert data["items"]["totalCount"] >= 1
    assert {"name", "quantity"} == set(data["items"]["edges"][0]["node"])


@pytest.mark.usefixtures("curl")
def test_curl_example_stops_on_a_failed_sign_in(server: ServerProcess) -> None:
    done = run(["sh", "examples/curl.sh", server.graphql_url], EMAIL="nobody@test.local", PASSWORD="wrong-password")
    assert done.returncode == 1
    assert "sign-in failed" in done.stderr
    assert "INVALID_CREDENTIALS" in done.stderr


async def test_client_example(server: ServerProcess, examples_db: Seeded) -> None:
    email = examples_db.supervisor.user.email
    done = run(
        [sys.executable, "examples/client.py", "--url", server.graphql_url, "--email", email, "--password", PASSWORD]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"signed in as {email} (SUPERVISOR)"
    picked = re.fullmatch(r"item (\S+): .*, quantity (\d+)", lines[1])
    assert picked is not None, lines
    item_id, seen = picked.group(1), int(picked.group(2))
    name = picked.group(0).split(": ", 1)[1].split(" in ")[0]
    assert lines[2:] == [
        f"adjustItemStock +1 RESTOCK expecting {seen}: AdjustItemStockPayload, quantity now {seen + 1}",
        lines[3],
        f"adjustItemStock -1 CORRECTION expecting {seen + 1}: AdjustItemStockPayload, quantity now {seen}",
        # The two movements, live over the WebSocket subscription (the conflict moved nothing).
        f"live: {name} RESTOCK +1, quantity {seen + 1}",
        f"live: {name} CORRECTION -1, quantity {seen}",
        f"over the WebSocket: me is {email} (SUPERVISOR)",
    ]
    assert lines[3].startswith(f"adjustItemStock +1 RESTOCK expecting {seen}: ConflictError CONFLICT: ")
    # Both union members were handled, and the item ends as it was, with two ledger rows more.
    row_id = uuid.UUID(base64.b64decode(item_id).decode().split(":", 1)[1])
    assert await fetchval(examples_db.url, "SELECT quantity FROM inventory_items WHERE id = $1", row_id) == seen
    written = await fetchval(
        examples_db.url,
        "SELECT count(*) FROM inventory_movements WHERE item_id = $1 AND note = 'examples/client.py'",
        row_id,
    )
    assert written == 2


def test_client_example_stops_on_a_failed_sign_in(server: ServerProcess) -> None:
    done = run([sys.executable, "examples/client.py", "--url", server.graphql_url, "--email", "nobody@test.local"])
    assert done.returncode == 1
    assert done.stderr.strip().startswith("sign-in failed: INVALID_CREDENTIALS")
