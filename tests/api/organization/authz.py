"""The organization domain's cases for the authorization matrix (tests/authz/): centers and
their rooms, which only ADMIN_GENERAL administers; every path that shows a room must show
exactly the caller's rooms."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from graphql_api.db import models
from graphql_api.services import organization
from tests.authz import (
    AG_ONLY,
    AUTHENTICATED,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Outcome,
    Reached,
    Scene,
    Table,
    in_scope_of,
    on_own_object,
    static,
    unique,
    with_target,
)
from tests.conftest import gid

CENTER = NodeCases(
    world_b=lambda s: [s.world.center_b.id],
    in_scope=lambda s, caller: [s.world.center_b.id if caller == "admin_general" else s.world.center_a.id],
    target=lambda s, caller: s.world.center_b.id,
)


def _rooms_of_center(scene: Scene, caller: str, center: uuid.UUID) -> Select[Any]:
    # Only the rooms in the caller's scope, not all of the center's.
    rooms = [scene.room_id(name) for name in scene.rooms_in_scope(caller)]
    return select(models.Environment.id).where(models.Environment.center_id == center, models.Environment.id.in_(rooms))


ENVIRONMENT = NodeCases(
    world_b=lambda s: [s.world.b1.id, s.world.bw.id],
    in_scope=lambda s, caller: [s.room_id(s.room(caller))],
    target=lambda s, caller: s.room_id(s.room(caller)),
    filtered_by={"Center": _rooms_of_center},
)


async def _deactivated_center(scene: Scene, center_id: uuid.UUID) -> None:
    async with scene.db.begin() as session:
        row = await session.get(models.Center, center_id)
        assert row is not None
        if row.is_active:  # several callers share the object; deactivate it once
            await organization.set_center_active(session, center_id, False)


async def _deactivated_environment(scene: Scene, environment_id: uuid.UUID) -> None:
    async with scene.db.begin() as session:
        row = await session.get(models.Environment, environment_id)
        assert row is not None
        if row.is_active:  # several callers share the object; deactivate it once
            await organization.set_environment_active(session, environment_id, False)


CENTER_MUTATIONS = {
    "createCenter": MutationCase(
        access=AG_ONLY,
        # Reusing world B's code must not overwrite or reveal more than "taken".
        attack=static({"name": "Shadow", "code": "CB", "location": "X"}),
        out_of_scope=Outcome("ValidationError", (("code", "CODE_TAKEN"),)),
        in_scope=lambda s, c, t: static({"name": "New", "code": unique("NC"), "location": "X"})(s, c, t),
        success="CenterPayload",
    ),
    "updateCenter": on_own_object("Center", "CenterPayload", AG_ONLY, attack={"name": "Hijacked"}, name="Renamed"),
    "deactivateCenter": on_own_object("Center", "CenterPayload", AG_ONLY),
    "activateCenter": on_own_object("Center", "CenterPayload", AG_ONLY, prepare=_deactivated_center),
}
ENVIRONMENT_MUTATIONS = {
    "createEnvironment": MutationCase(
        access=AG_ONLY,
        target="Center",
        slot="centerId",
        attack=lambda s, c, t: with_target("centerId", name="Shadow", code=unique("SE"), location="X")(s, c, t),
        out_of_scope=Outcome("ValidationError", (("centerId", "NOT_FOUND"),)),
        in_scope=lambda s, c, t: in_scope_of("Center", "centerId", name="New", code=unique("NE"), location="X")(
            s, c, t
        ),
        success="EnvironmentPayload",
    ),
    "updateEnvironment": on_own_object(
        "Environment",
        "EnvironmentPayload",
        AG_ONLY,
        attack={"name": "Hijacked"},
        extra_slots={"centerId": "Center"},
        name="Renamed",
    ),
    "deactivateEnvironment": on_own_object("Environment", "EnvironmentPayload", AG_ONLY),
    "activateEnvironment": on_own_object(
        "Environment", "EnvironmentPayload", AG_ONLY, prepare=_deactivated_environment
    ),
}

# Pages far larger than the world, down to the center and back to its rooms.
NESTED_QUERY = """
{
  environments(first: 100) { edges { node { id center { id environments(first: 50) { edges { node { id } } } } } } }
  centers(first: 100) { edges { node { id environments(first: 50) { edges { node { id center { id } } } } } } }
}
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    # Every path of every domain shows exactly the rooms in scope, no more, no fewer.
    rooms = {scene.room_id(name) for name in scene.rooms_in_scope(reached.caller)}
    assert reached.of_type("Environment") == rooms
    if reached.caller == "admin_general":
        assert scene.world.center_b.id in reached.of_type("Center")


# ---- where: filters never widen the scope -------------------------------------------------

ENVIRONMENTS = (
    "query Q($where: EnvironmentWhere) { environments(where: $where, first: 100) { totalCount edges { node { id } } } }"
)


async def where_filters_do_not_widen_scope(scene: Scene) -> None:
    w = scene.world
    data = await scene.gql.data(
        ENVIRONMENTS, {"where": {"centerIds": [gid("Center", w.center_b.id)]}}, token=w.supervisor
    )
    assert data["environments"] == {"totalCount": 0, "edges": []}
    data = await scene.gql.data(
        ENVIRONMENTS,
        {"where": {"centerIds": [gid("Center", w.center_a.id), gid("Center", w.center_b.id)]}},
        token=w.instructor,
    )
    ids = {edge["node"]["id"] for edge in data["environments"]["edges"]}
    # Home, the center's warehouse, and a2 where the instructor teaches (the schedules' setup).
    assert ids == {gid("Environment", w.a1.id), gid("Environment", w.a2.id), gid("Environment", w.aw.id)}


CASES = DomainCases(
    nodes={"Center": CENTER, "Environment": ENVIRONMENT},
    id_names={
        "centerId": "Center",
        "centerIds": "Center",
        "environmentId": "Environment",
        "environmentIds": "Environment",
    },
    queries={"center": AUTHENTICATED, "environment": AUTHENTICATED, "environments": AUTHENTICATED},
    mutations={**CENTER_MUTATIONS, **ENVIRONMENT_MUTATIONS},
    tables={"centers": Table(), "environments": Table()},
    nested=Nested(NESTED_QUERY, _check_nested),
    checks={"where_filters_do_not_widen_scope": where_filters_do_not_widen_scope},
)
