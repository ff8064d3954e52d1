"""The items domain's cases for the authorization matrix (tests/authz/): items and their
stock ledger, managed by SUPERVISOR in scope, ADMIN in their own warehouse and ADMIN_GENERAL;
a movement's actor who has since moved to world B stays hidden from world A."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from graphql_api.db import models
from graphql_api.services import items, users
from graphql_api.services.ledger import StockDelta
from tests.authz import (
    AUTHENTICATED,
    NOT_FOUND,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Reached,
    Scene,
    Table,
    in_scope_of,
    on_own_object,
    unique,
    with_target,
)
from tests.conftest import gid

ITEM_MANAGERS = frozenset({"SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
WORLD_B_ROOMS = ("b1", "bw")


def _movements(scene: Scene) -> dict[uuid.UUID, list[uuid.UUID]]:
    movements: dict[uuid.UUID, list[uuid.UUID]] = scene.notes["items.movements"]
    return movements


async def setup(scene: Scene) -> None:
    async with scene.db() as session:
        rows = (await session.execute(select(models.InventoryMovement.item_id, models.InventoryMovement.id))).all()
    movements: dict[uuid.UUID, list[uuid.UUID]] = {}
    for item_id, movement_id in rows:
        movements.setdefault(item_id, []).append(movement_id)
    scene.notes["items.movements"] = movements


def _items_of(scene: Scene, *rooms: str) -> list[uuid.UUID]:
    return [i.id for room in rooms for i in scene.world.items[room]]


def _items_of_room(scene: Scene, caller: str, room: uuid.UUID) -> Select[Any]:
    return select(models.InventoryItem.id).where(models.InventoryItem.environment_id == room)


ITEM = NodeCases(
    world_b=lambda s: _items_of(s, *WORLD_B_ROOMS),
    in_scope=lambda s, caller: _items_of(s, s.room(caller)),
    # The group item (quantity 10) of the caller's room.
    target=lambda s, caller: s.world.items[s.room(caller)][1].id,
    filtered_by={"Environment": _items_of_room},
)
MOVEMENT = NodeCases(
    world_b=lambda s: [m for i in _items_of(s, *WORLD_B_ROOMS) for m in _movements(s)[i]],
    in_scope=lambda s, caller: [m for i in _items_of(s, s.room(caller)) for m in _movements(s)[i]],
)

MUTATIONS = {
    "createItem": MutationCase(
        access=ITEM_MANAGERS,
        target="Environment",
        slot="environmentId",
        attack=lambda s, c, t: with_target(
            "environmentId", name="Planted", internalCode=unique("PL-"), category="COMPUTER"
        )(s, c, t),
        out_of_scope=NOT_FOUND,
        in_scope=lambda s, c, t: in_scope_of(
            "Environment", "environmentId", name="New", internalCode=unique("NI-"), category="COMPUTER"
        )(s, c, t),
        success="ItemPayload",
    ),
    "updateItem": on_own_object(
        "InventoryItem", "ItemPayload", ITEM_MANAGERS, attack={"name": "Hijacked"}, name="Renamed"
    ),
    "retireItem": on_own_object("InventoryItem", "ItemPayload", ITEM_MANAGERS, attack={"note": "gone"}, note="old"),
    "adjustItemStock": MutationCase(
        access=ITEM_MANAGERS,
        target="InventoryItem",
        slot="itemId",
        attack=with_target("itemId", expectedQuantity=10, delta={"quantity": -5}, reason="LOSS"),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("InventoryItem", "itemId", expectedQuantity=10, delta={"quantity": 1}, reason="RESTOCK"),
        success="AdjustItemStockPayload",
        names_target=True,
    ),
}


# ---- nested paths ------------------------------------------------------------------------

# Pages far larger than the world; the nested ones of 50 keep the whole under QUERY_COST_LIMIT.
NESTED_QUERY = """
{
  items(first: 100) { totalCount edges { node { id environment { id center { id } }
      movements(first: 50) { edges { node { id actor { id environment { id } } item { id environment { id } } } } }
  } } }
}
"""


async def _moved_actor(scene: Scene) -> set[tuple[str, uuid.UUID]]:
    """Cross-world references: a movement in room a1 made by a user who now lives in world B."""
    w = scene.world
    mover = await scene.factory.user(models.Role.SUPERVISOR, w.a1)
    item = w.items["a1"][1]
    async with scene.db.begin() as session:
        await items.adjust_item_stock(
            session,
            mover.principal,
            item.id,
            expected_quantity=item.quantity,
            delta=StockDelta(quantity=1),
            reason=models.MovementReason.RESTOCK,
            note=None,
        )
    async with scene.db.begin() as session:
        await users.update_user(session, w.admin_general.principal, mover.id, changes={"environment_id": w.b1.id})
    scene.notes["items.moved_user"] = mover.id
    return {("User", mover.id)}


def _check_nested(scene: Scene, reached: Reached) -> None:
    w, caller = scene.world, reached.caller
    rooms = scene.rooms_in_scope(caller)
    expected_items = {i.id for name in rooms for i in w.items[name]}
    assert reached.of_type("InventoryItem") == expected_items
    assert reached.data["items"]["totalCount"] == len(expected_items)
    # The RESTOCK in room a1 by the user who has since moved to world B: its actor is hidden
    # from world A (and the INITIAL movement's actor, a home-less system user, too).
    a1_group = gid("InventoryItem", w.items["a1"][1].id)
    (edge,) = [e for e in reached.data["items"]["edges"] if e["node"]["id"] == a1_group] or [None]
    if "a1" not in rooms:
        assert edge is None
        return
    assert edge is not None
    actors = [m["node"]["actor"] for m in edge["node"]["movements"]["edges"]]
    if caller == "admin_general":
        moved = scene.notes["items.moved_user"]
        assert len(actors) == 2
        assert actors[0] == {"id": gid("User", moved), "environment": {"id": gid("Environment", w.b1.id)}}
        assert actors[1] is not None
    else:
        assert actors == [None, None]


# ---- where: filters never widen the scope -------------------------------------------------

ITEMS = "query Q($where: ItemWhere) { items(where: $where, first: 100) { totalCount edges { node { id } } } }"
NOTHING = {"totalCount": 0, "edges": []}


def _ids(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in connection["edges"]}


async def _items_where(scene: Scene, environment_ids: list[str], token: Any) -> dict[str, Any]:
    data = await scene.gql.data(ITEMS, {"where": {"environmentIds": environment_ids}}, token=token)
    items_page: dict[str, Any] = data["items"]
    return items_page


async def where_filters_do_not_widen_scope(scene: Scene) -> None:
    w = scene.world
    student = w.student
    b_envs = [gid("Environment", w.b1.id), gid("Environment", w.bw.id)]
    assert await _items_where(scene, [b_envs[0]], student) == NOTHING
    page = await _items_where(scene, [gid("Environment", w.a1.id), *b_envs], student)
    assert _ids(page) == {gid("InventoryItem", i.id) for i in w.items["a1"]}
    assert page["totalCount"] == 2
    # A room of the student's own center is still out of the student's scope.
    assert await _items_where(scene, [gid("Environment", w.a2.id)], student) == NOTHING
    # Garbage and ids of other types in a filter match nothing; they are not errors.
    assert await _items_where(scene, ["garbage!!", gid("Center", w.center_a.id)], student) == NOTHING
    assert await _items_where(scene, [], student) == NOTHING
    # The positive control: ADMIN_GENERAL does get world B through the same filter.
    page = await _items_where(scene, [b_envs[0]], w.admin_general)
    assert _ids(page) == {gid("InventoryItem", i.id) for i in w.items["b1"]}


CASES = DomainCases(
    nodes={"InventoryItem": ITEM, "InventoryMovement": MOVEMENT},
    id_names={"itemId": "InventoryItem", "itemIds": "InventoryItem"},
    queries={"item": AUTHENTICATED, "items": AUTHENTICATED},
    mutations=MUTATIONS,
    tables={"inventory_items": Table(), "inventory_movements": Table()},
    setup=setup,
    nested=Nested(NESTED_QUERY, _check_nested, setup=_moved_actor),
    checks={"where_filters_do_not_widen_scope": where_filters_do_not_widen_scope},
)
