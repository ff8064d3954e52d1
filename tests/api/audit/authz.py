"""The audit domain's cases for the authorization matrix (tests/authz/): the log, which only
ADMIN_GENERAL reads, and which records every call, refused ones included."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from graphql_api.db import models
from tests.api.auth.authz import login
from tests.authz import AG_ONLY, DomainCases, NodeCases, Scene


async def setup(scene: Scene) -> None:
    # A sign-in by world B's student writes the entry that world A must not see.
    await login(scene.gql, scene.world.student_b.user.email)
    async with scene.db() as session:
        entry = await session.scalar(
            select(models.AuditLog.id).where(models.AuditLog.actor_id == scene.world.student_b.id).limit(1)
        )
    assert entry is not None
    scene.notes["audit.entry"] = entry


def _entries_of_actor(scene: Scene, caller: str, actor: uuid.UUID) -> Select[Any]:
    return select(models.AuditLog.id).where(models.AuditLog.actor_id == actor)


ENTRY = NodeCases(
    world_b=lambda s: [s.notes["audit.entry"]],
    in_scope=lambda s, caller: [s.notes["audit.entry"]] if caller == "admin_general" else [],
    filtered_by={"User": _entries_of_actor},
)

CASES = DomainCases(
    nodes={"AuditLogEntry": ENTRY},
    id_names={"actorIds": "User"},
    queries={"auditLog": AG_ONLY, "auditLogs": AG_ONLY},
    records={"audit_logs": "one entry per call and sign-in, refused ones included"},
    setup=setup,
)
