"""Subscriptions across processes and within scope, against real uvicorn processes and the gql
client: an event committed through one process reaches a subscriber of another; each event is
checked against the subscriber's scope when it is delivered, so a STUDENT never gets another
room's stock or another user's notifications, also when the room leaves the scope of a
subscriber who is already subscribed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from graphql_api.db import models
from graphql_api.services import users
from tests.conftest import Actor, gid
from tests.server.conftest import Seeded, ServerProcess, StartServer, adjust_input, fetchval, post_graphql
from tests.server.live import (
    INBOX,
    STOCK,
    UNREAD,
    Stream,
    acknowledged,
    closed_with,
    gql_socket,
    notify,
    raw_socket,
    raw_until_ready,
    receive,
    restock,
    send_subscribe,
    stock_of,
    until_ready,
)

pytestmark = pytest.mark.server

ADJUST = """mutation ($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename } }"""


@dataclass
class Rooms:
    """The seeded room `home` (center A) with a student; `neighbour` in A; `far` in center B."""

    seeded: Seeded
    home: models.Environment
    neighbour: models.Environment
    far: models.Environment
    center_b: models.Center
    student: Actor
    admin_general: Actor
    items: dict[str, models.InventoryItem]
    probe: models.InventoryItem  # in `home`: its movements tell a subscription is live


@pytest.fixture
async def rooms(server_db: Seeded) -> Rooms:
    factory = server_db.factory
    home = server_db.environment
    async with factory.db() as session:
        center_a = await session.get(models.Center, home.center_id)
    assert center_a is not None
    neighbour = await factory.environment(center_a, code=f"N{uuid.uuid4().hex[:6]}")
    center_b = await factory.center(code=f"B{uuid.uuid4().hex[:6]}")
    far = await factory.environment(center_b, code=f"F{uuid.uuid4().hex[:6]}")
    student = await factory.user(models.Role.STUDENT, home, email=f"student.{uuid.uuid4().hex[:8]}@test.local")
    admin = await factory.user(models.Role.ADMIN_GENERAL, email=f"ag.{uuid.uuid4().hex[:8]}@test.local")
    placed = {name: await factory.item(room, quantity=3) for name, room in (("home", home), ("neighbour", neighbour))}
    placed["far"] = await factory.item(far, quantity=3)
    probe = await factory.item(home, quantity=2)
    return Rooms(server_db, home, neighbour, far, center_b, student, admin, placed, probe)


async def test_an_event_made_on_one_process_reaches_a_subscriber_of_another(
    server_db: Seeded, start_server: StartServer
) -> None:
    a, b = start_server(server_db.url), start_server(server_db.url)
    item = await server_db.new_item(quantity=4)
    supervisor = server_db.supervisor
    room = gid("Environment", server_db.environment.id)
    async with gql_socket(a.ws_url, supervisor.token) as session:
        stream = Stream(session, STOCK, {"environmentId": room})
        pokes = await until_ready(stream, lambda: restock(server_db.factory.db, supervisor, item.id))
        async with httpx.AsyncClient(timeout=30) as http:
            _, answer = await post_graphql(
                http,
                b.graphql_url,
                ADJUST,
                adjust_input(gid("InventoryItem", item.id), 4 + pokes),
                token=supervisor.token,
            )
        assert answer["data"]["adjustItemStock"]["__typename"] == "AdjustItemStockPayload", answer
        await stream.until(lambda results: 5 + pokes in stock_of(results, item.id))
        await stream.stop()
    received = stock_of(stream.results, item.id)  # pokes made before the subscription was live are not
    assert received == list(range(received[0], 5 + pokes + 1)), received


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def test_a_student_gets_only_the_stock_of_their_room(server: ServerProcess, rooms: Rooms) -> None:
    db, student, admin = rooms.seeded.factory.db, rooms.student, rooms.admin_general
    async with gql_socket(server.ws_url, student.token) as session:
        stream = Stream(session, STOCK, {"environmentId": gid("Environment", rooms.home.id)})
        await until_ready(stream, lambda: restock(db, admin, rooms.probe.id))
        await restock(db, admin, rooms.items["neighbour"].id)
        await restock(db, admin, rooms.items["far"].id)
        await restock(db, admin, rooms.items["home"].id)  # committed last: delivered after the others would be
        await stream.until(lambda results: bool(stock_of(results, rooms.items["home"].id)))
        await stream.stop()
    seen = {result["itemStockChanged"]["item"]["id"] for result in stream.results}
    assert seen == {gid("InventoryItem", rooms.probe.id), gid("InventoryItem", rooms.items["home"].id)}


async def subscribe_error(server: ServerProcess, token: str, environment_id: str) -> list[dict[str, Any]]:
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, token)
        await send_subscribe(ws, "1", STOCK, environmentId=environment_id)
        message = await receive(ws)
    assert (message["type"], message["id"]) == ("error", "1"), message
    payload: list[dict[str, Any]] = message["payload"]
    return payload


async def test_a_room_out_of_scope_looks_like_one_that_does_not_exist(server: ServerProcess, rooms: Rooms) -> None:
    token = rooms.student.token
    out_of_scope = await subscribe_error(server, token, gid("Environment", rooms.neighbour.id))
    missing = await subscribe_error(server, token, gid("Environment", uuid.uuid4()))
    assert out_of_scope == missing
    # A request error at the top (SPEC §3 has no NOT_FOUND among top-level codes).
    assert [(error["extensions"]["code"], error["message"]) for error in missing] == [
        ("BAD_REQUEST", "No se encontró el recurso solicitado.")
    ]
    malformed = await subscribe_error(server, token, "not-an-id")
    assert [error["extensions"]["code"] for error in malformed] == ["BAD_REQUEST"]


async def test_a_student_gets_only_their_own_notifications(server: ServerProcess, rooms: Rooms) -> None:
    db, student, other = rooms.seeded.factory.db, rooms.student, rooms.seeded.supervisor
    async with gql_socket(server.ws_url, student.token) as session:
        inbox, count = Stream(session, INBOX), Stream(session, UNREAD)
        await until_ready(inbox, lambda: notify(db, [student.id]))
        await until_ready(count, lambda: notify(db, [student.id]))
        await notify(db, [other.id], "user.role_changed")
        await notify(db, [other.id, student.id], "user.environment_cleared")
        await inbox.until(lambda results: results[-1]["notificationReceived"]["kind"] == "user.environment_cleared")
        unread = await fetchval(
            rooms.seeded.url,
            "SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL",
            student.id,
        )
        await count.until(lambda results: results[-1]["unreadNotificationCountChanged"] == unread)
        await inbox.stop()
        await count.stop()
    kinds = [result["notificationReceived"]["kind"] for result in inbox.results]
    assert "user.role_changed" not in kinds
    assert inbox.results[-1]["notificationReceived"]["title"] == "Ya no tienes ambiente"  # the reader's language


async def quantity(seeded: Seeded, item_id: uuid.UUID) -> int:
    value: int = await fetchval(seeded.url, "SELECT quantity FROM inventory_items WHERE id = $1", item_id)
    return value


async def test_a_student_moved_out_of_the_room_gets_none_of_its_later_events(
    server: ServerProcess, rooms: Rooms
) -> None:
    db, student, admin = rooms.seeded.factory.db, rooms.student, rooms.admin_general
    item = gid("InventoryItem", rooms.items["home"].id)
    async with raw_socket(server.ws_url) as ws:
        await acknowledged(ws, student.token)
        await send_subscribe(ws, "stock", STOCK, environmentId=gid("Environment", rooms.home.id))
        await raw_until_ready(ws, "stock", lambda: restock(db, admin, rooms.probe.id))
        # The student moves to another room; the old room's stock changes right after.
        async with db.begin() as session:
            await users.update_user(
                session, admin.principal, student.id, changes={"environment_id": rooms.neighbour.id}
            )
        await restock(db, admin, rooms.items["home"].id, times=3)
        code, reason, before = await closed_with(ws)
    assert (code, reason) == (4403, "Forbidden: session revoked")
    leaked = [
        m for m in before if m.get("id") == "stock" and m["payload"]["data"]["itemStockChanged"]["item"]["id"] == item
    ]
    assert leaked == []
