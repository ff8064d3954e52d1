"""The users domain's cases for the authorization matrix (tests/authz/): accounts, which only
ADMIN_GENERAL administers, and `me`, whose nested paths must stay in the caller's scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from graphql_api.auth.scope import Principal
from graphql_api.db import models
from graphql_api.services import users
from tests.authz import (
    AG_ONLY,
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
    with_target,
)
from tests.conftest import PASSWORD

# The user each caller may see (by its attribute in the world): itself, or one of its rooms.
VISIBLE_USER = {
    "student": "student",
    "instructor": "admin",  # homed in aw, a warehouse of the instructor's center
    "supervisor": "student",
    "admin": "admin",
    "admin_general": "student_b",
}


def _users_of_room(scene: Scene, caller: str, room: uuid.UUID) -> Select[Any]:
    return select(models.User.id).where(models.User.environment_id == room)


USER = NodeCases(
    world_b=lambda s: [s.world.student_b.id, s.world.admin_b.id],
    in_scope=lambda s, caller: [s.world.role(VISIBLE_USER[caller]).id],
    target=lambda s, caller: s.world.student_b.id,
    filtered_by={"Environment": _users_of_room},
)


def _user_fields() -> dict[str, Any]:
    return {
        "email": f"{uuid.uuid4().hex[:10]}@test.local",
        "password": PASSWORD,
        "role": "STUDENT",
        "firstName": "New",
        "lastName": "Person",
    }


async def _deactivated(scene: Scene, user_id: uuid.UUID) -> None:
    async with scene.db.begin() as session:
        row = await session.get(models.User, user_id)
        assert row is not None
        if row.is_active:  # several callers share the object; deactivate it once
            u = scene.world.admin_general.user
            system = Principal(u.id, u.role, None, None, "es", u.token_version)
            await users.set_active(session, system, user_id, active=False)


MUTATIONS = {
    "createUser": MutationCase(
        access=AG_ONLY,
        target="Environment",
        slot="environmentId",
        attack=lambda s, c, t: with_target("environmentId", **_user_fields())(s, c, t),
        out_of_scope=Outcome("ValidationError", (("environmentId", "NOT_FOUND"),)),
        in_scope=lambda s, c, t: in_scope_of("Environment", "environmentId", **_user_fields())(s, c, t),
        success="UserPayload",
    ),
    "updateUser": on_own_object(
        "User",
        "UserPayload",
        AG_ONLY,
        attack={"firstName": "Hijacked"},
        extra_slots={"environmentId": "Environment"},
        firstName="Renamed",
    ),
    "deactivateUser": on_own_object("User", "UserPayload", AG_ONLY),
    "activateUser": on_own_object("User", "UserPayload", AG_ONLY, prepare=_deactivated),
}

# From the caller's home up to its center and back down to the center's rooms.
NESTED_QUERY = """
{ me { id environment { id center { id environments(first: 100) { edges { node { id center { id } } } } } } } }
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    assert reached.data["me"]["id"] == scene.world.role(reached.caller).gid


CASES = DomainCases(
    nodes={"User": USER},
    id_names={"userId": "User", "userIds": "User"},
    queries={"user": AG_ONLY, "users": AG_ONLY},
    mutations=MUTATIONS,
    tables={"users": Table(owner="id"), "user_settings": Table(key="user_id", owner="user_id")},
    nested=Nested(NESTED_QUERY, _check_nested),
)
