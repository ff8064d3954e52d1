"""The in-process basics every other test relies on."""

from __future__ import annotations

import os

from tests.conftest import GraphQLClient, World, error_codes, gid


async def test_health(client) -> None:
    # Outside production the body also names the worker process that answered.
    assert (await client.get("/health/live")).json() == {"status": "ok", "worker": os.getpid()}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["migrations"] == "head"


async def test_items_visible_to_student_are_only_home_items(gql: GraphQLClient, world: World) -> None:
    data = await gql.data("{ items(first: 50) { totalCount edges { node { id } } } }", token=world.student)
    ids = {edge["node"]["id"] for edge in data["items"]["edges"]}
    assert ids == {gid("InventoryItem", item.id) for item in world.items["a1"]}
    assert data["items"]["totalCount"] == 2


async def test_anonymous_is_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql.execute("{ me { id } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
