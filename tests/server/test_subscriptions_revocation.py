"""An open subscription ends when its user's access ends: deactivation, a role change and a
password change close the user's sockets with 4403 ("session revoked") as soon as the worker
reads the committed event (SESSIONS_REVOKED, through the outbox: any worker's sockets); an
access token that expires on an open socket closes it with 4403 ("token expired") at its
expiry. A change that does not touch access (a name) closes nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from graphql_api.auth import tokens
from graphql_api.db import models
from graphql_api.services import auth, users
from tests.conftest import PASSWORD, Actor, gid
from tests.server.conftest import Seeded, ServerProcess, StartServer
from tests.server.live import (
    STOCK,
    acknowledged,
    bearer,
    closed_with,
    raw_socket,
    raw_until_ready,
    receive,
    restock,
    send_subscribe,
)

pytestmark = pytest.mark.server

Change = Callable[[Seeded, Actor, Actor], Awaitable[None]]


async def deactivate(seeded: Seeded, admin: Actor, user: Actor) -> None:
    async with seeded.factory.db.begin() as session:
        await users.set_active(session, admin.principal, user.id, active=False)


async def change_role(seeded: Seeded, admin: Actor, user: Actor) -> None:
    async with seeded.factory.db.begin() as session:
        await users.update_user(session, admin.principal, user.id, changes={"role": models.Role.INSTRUCTOR})


async def change_password(seeded: Seeded, admin: Actor, user: Actor) -> None:
    async with seeded.factory.db.begin() as session:
        await auth.change_password(
            session, seeded.settings, user.principal, current_password=PASSWORD, new_password="Another-Horse-42"
        )


async def rename(seeded: Seeded, admin: Actor, user: Actor) -> None:
    async with seeded.factory.db.begin() as session:
        await users.update_user(session, admin.principal, user.id, changes={"first_name": "Renamed"})


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def people(seeded: Seeded) -> tuple[Actor, Actor]:
    """An ADMIN_GENERAL and a SUPERVISOR of the seeded room (who may become its INSTRUCTOR)."""
    tag = uuid.uuid4().hex[:8]
    admin = await seeded.factory.user(models.Role.ADMIN_GENERAL, email=f"ag.{tag}@test.local")
    user = await seeded.factory.user(models.Role.SUPERVISOR, seeded.environment, email=f"sup.{tag}@test.local")
    return admin, user


@pytest.mark.parametrize("change", [deactivate, change_role, change_password], ids=lambda change: change.__name__)
async def test_a_revoked_user_s_subscription_is_closed_4403(
    server: ServerProcess, server_db: Seeded, change: Change
) -> None:
    admin, user = await people(server_db)
    item = await server_db.new_item()
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, user.token)
        await send_subscribe(ws, "stock", STOCK, environmentId=gid("Environment", server_db.environment.id))
        await raw_until_ready(ws, "stock", lambda: restock(server_db.factory.db, admin, item.id))
        committed = time.monotonic()
        await change(server_db, admin, user)
        code, reason, _ = await closed_with(ws)
        took = time.monotonic() - committed
    assert (code, reason) == (4403, "Forbidden: session revoked")
    # Reported, not asserted: from the commit to the close frame received by the client.
    print(f"\n{change.__name__}: closed {took * 1000:.0f} ms after the commit")


async def test_a_change_that_keeps_access_closes_nothing(server: ServerProcess, server_db: Seeded) -> None:
    admin, user = await people(server_db)
    item = await server_db.new_item(quantity=2)
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, user.token)
        await send_subscribe(ws, "stock", STOCK, environmentId=gid("Environment", server_db.environment.id))
        await raw_until_ready(ws, "stock", lambda: restock(server_db.factory.db, admin, item.id))
        await rename(server_db, admin, user)
        # Events are handed on in commit order: one committed after the rename arriving means
        # the rename has been seen and did not close the socket.
        marker = await server_db.new_item(quantity=7)
        await restock(server_db.factory.db, admin, marker.id)
        wanted = gid("InventoryItem", marker.id)
        while True:
            message = await receive(ws)
            assert message["type"] == "next", message
            if message["payload"]["data"]["itemStockChanged"]["item"]["id"] == wanted:
                break


def expiring_token(seeded: Seeded, user: Actor, seconds: float) -> str:
    """An access token of the user that expires `seconds` from now (issued in the past, so that
    the test does not wait for a whole ACCESS_TOKEN_TTL_SECONDS, at least 30 s)."""
    issued = datetime.now(UTC) - timedelta(seconds=seeded.settings.access_token_ttl_seconds - seconds)
    token, _ = tokens.issue_access_token(
        seeded.settings, user_id=user.id, role=user.user.role, token_version=user.user.token_version, now=issued
    )
    return token


async def test_a_token_that_expires_on_an_open_socket_closes_it_4403(server: ServerProcess, server_db: Seeded) -> None:
    admin, user = await people(server_db)
    item = await server_db.new_item()
    token = expiring_token(server_db, user, seconds=4)
    claims = tokens.decode_access_token(server_db.settings, token)
    assert claims is not None
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, token)
        await send_subscribe(ws, "stock", STOCK, environmentId=gid("Environment", server_db.environment.id))
        await raw_until_ready(ws, "stock", lambda: restock(server_db.factory.db, admin, item.id))
        code, reason, _ = await closed_with(ws)
        late = time.time() - claims.expires_at.timestamp()
    assert (code, reason) == (4403, "Forbidden: token expired")
    print(f"\nexpiry: closed {late * 1000:.0f} ms after the token's exp")
    # The client reconnects with a fresh token in connection_init, as the README says.
    fresh = server_db.factory.actor(user.user, server_db.environment).token
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, fresh)
        await send_subscribe(ws, "stock", STOCK, environmentId=gid("Environment", server_db.environment.id))
        await raw_until_ready(ws, "stock", lambda: restock(server_db.factory.db, admin, item.id))


async def test_an_expired_token_is_refused_at_connection_init(server: ServerProcess, server_db: Seeded) -> None:
    _, user = await people(server_db)
    token = expiring_token(server_db, user, seconds=-(tokens.LEEWAY_SECONDS + 5))
    async with raw_socket(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token)}))
        code, reason, before = await closed_with(ws)
    assert (code, reason, before) == (4403, "Forbidden", [])
