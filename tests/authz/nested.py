"""Nested paths never reach world B: every domain's nested query, run by every role of world
A, and every domain's check given all the answers merged."""

from __future__ import annotations

import uuid
from typing import Any

from graphql_api.api.core.relay import parse_id
from tests.authz.cases import Reached
from tests.authz.scene import Scene

Objects = set[tuple[str, uuid.UUID]]


async def world_b_objects(scene: Scene) -> Objects:
    """Every world B object, those the domains' nested setups moved there included."""
    moved: Objects = set()
    for nested in scene.matrix.nested:
        if nested.setup is not None:
            moved |= await nested.setup(scene)
    declared = {(name, value) for name, cases in scene.matrix.nodes.items() for value in cases.world_b(scene)}
    return declared | moved


def _collect_ids(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "id" and isinstance(sub, str):
                out.append(sub)
            else:
                _collect_ids(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _collect_ids(sub, out)


async def _reached(scene: Scene, caller: str) -> Reached:
    data: dict[str, Any] = {}
    for nested in scene.matrix.nested:
        part = await scene.gql.data(nested.query, token=scene.actor(caller))
        assert not set(part) & set(data), f"two domains' nested queries both answer {set(part) & set(data)}"
        data.update(part)
    ids: list[str] = []
    _collect_ids(data, ids)
    decoded = [parse_id(i) for i in ids]
    assert all(d is not None for d in decoded), ids
    return Reached(caller, data, [d for d in decoded if d is not None])


async def nested_paths(scene: Scene, caller: str, world_b: Objects) -> None:
    reached = await _reached(scene, caller)
    reached_b = set(reached.ids) & world_b
    if caller == "admin_general":
        # The positive control: the same queries do reach world B when the scope allows it.
        assert reached_b, "ADMIN_GENERAL reached no world B object"
    else:
        assert reached_b == set(), f"{caller} reached world B objects: {reached_b}"
    for nested in scene.matrix.nested:
        nested.check(scene, reached)
