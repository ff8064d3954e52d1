"""Subscribers share a rendering of an event only when they see the same rows: two instructors
of one room differ by what each teaches, so one who stops teaching in a room stops getting its
events even while a colleague with the same home keeps getting them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import time

import httpx
import pytest

from graphql_api.db import models
from graphql_api.services import schedules
from tests.conftest import gid
from tests.server.conftest import Seeded, ServerProcess, StartServer, adjust_input, post_graphql
from tests.server.test_subscriptions import ADJUST, STOCK, next_event, request, subscriber

pytestmark = pytest.mark.server


@pytest.fixture
def server(server_db: Seeded, start_server: StartServer) -> ServerProcess:
    return start_server(server_db.url)


async def _restock(server: ServerProcess, token: str, item: models.InventoryItem, expected: int) -> None:
    async with httpx.AsyncClient() as http:
        _, answer = await post_graphql(
            http, server.graphql_url, ADJUST, adjust_input(gid("InventoryItem", item.id), expected), token=token
        )
    assert answer["data"]["adjustItemStock"]["__typename"] == "AdjustItemStockPayload", answer


async def test_an_instructor_who_stops_teaching_in_a_room_stops_getting_its_events(
    server: ServerProcess, server_db: Seeded
) -> None:
    factory, tag = server_db.factory, uuid.uuid4().hex[:6]
    center = await factory.center(code=f"AU{tag}")
    home = await factory.environment(center, code=f"AH{tag}")
    taught = await factory.environment(center, code=f"AT{tag}")
    supervisor = await factory.user(models.Role.SUPERVISOR, home, email=f"sup.{tag}@test.local")
    stays = await factory.user(models.Role.INSTRUCTOR, home, email=f"stays.{tag}@test.local")
    leaves = await factory.user(models.Role.INSTRUCTOR, home, email=f"leaves.{tag}@test.local")
    await factory.schedule(taught, stays)
    slot = await factory.schedule(taught, leaves, start_time=time(14, 0), end_time=time(16, 0))
    at_home, in_room = await factory.item(home, quantity=3), await factory.item(taught, quantity=3)
    room_events = request(STOCK, environmentId=gid("Environment", taught.id))
    async with (
        subscriber(server, stays.token) as staying,
        subscriber(server, leaves.token) as leaving,
    ):
        # Same document, variables, role, home and center: the one who stays subscribes first.
        kept = asyncio.ensure_future(next_event(staying.subscribe(room_events)))
        await asyncio.sleep(0.5)
        lost_stream = leaving.subscribe(room_events)
        lost = asyncio.ensure_future(next_event(lost_stream, timeout=30))
        home_stream = leaving.subscribe(request(STOCK, environmentId=gid("Environment", home.id)))
        sentinel = asyncio.ensure_future(next_event(home_stream))
        await asyncio.sleep(0.5)  # both registered before the changes
        async with factory.db.begin() as session:
            await schedules.set_schedule_active(session, (await factory.system()).principal, slot.id, active=False)
        await _restock(server, supervisor.token, in_room, 3)
        await _restock(server, supervisor.token, at_home, 3)
        assert (await kept)["itemStockChanged"]["item"]["id"] == gid("InventoryItem", in_room.id)
        assert (await sentinel)["itemStockChanged"]["item"]["id"] == gid("InventoryItem", at_home.id)
        await asyncio.sleep(1)  # the room's event, had it been rendered for the leaver, is queued by now
        assert not lost.done(), "the leaver got the room's event"
        lost.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await lost
