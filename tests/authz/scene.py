"""The scene every matrix test plays in: the two-center world of tests/conftest.py, the
callers, which rooms each of them sees, and snapshots of the business tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.authz.cases import NodeCases
from tests.authz.discovery import Matrix
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

ROLES = ("student", "instructor", "supervisor", "admin", "admin_general")
ANONYMOUS = "anonymous"
CALLERS = (*ROLES, ANONYMOUS)
ROLE_OF = {
    "student": "STUDENT",
    "instructor": "INSTRUCTOR",
    "supervisor": "SUPERVISOR",
    "admin": "ADMIN",
    "admin_general": "ADMIN_GENERAL",
}
# The rooms each caller sees (`environment_filter`, graphql_api/auth/scope.py): a student's or
# an admin's home, an instructor's home, its center's warehouses and the rooms where it
# teaches (a2: the schedules domain's setup gives it a class there), a supervisor's whole
# center, everything for ADMIN_GENERAL.
SCOPE = {
    "student": {"a1"},
    "instructor": {"a1", "a2", "aw"},
    "supervisor": {"a1", "a2", "aw"},
    "admin": {"aw"},
    "admin_general": {"a1", "a2", "aw", "b1", "bw"},
}
# The in-scope room each caller acts in; where there is a choice, not its home room.
ROOM = {
    "student": "a1",
    "instructor": "aw",  # a warehouse of the instructor's center
    "supervisor": "a2",  # another room of the supervisor's center
    "admin": "aw",
    "admin_general": "b1",
    ANONYMOUS: "a1",
}

# table -> {primary key: (owner user id, md5 of the whole row)}
Snapshot = dict[str, dict[str, tuple[str | None, str]]]
Change = tuple[str, str, str | None]


@dataclass
class Scene:
    world: World
    gql: GraphQLClient
    db: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    factory: Factory
    matrix: Matrix
    notes: dict[str, Any] = field(default_factory=dict)  # what the domains' setups made

    def actor(self, caller: str) -> Actor | None:
        return None if caller == ANONYMOUS else self.world.role(caller)

    def own_id(self, caller: str) -> str:
        return str(self.world.role(caller).id)

    def room(self, caller: str) -> str:
        return ROOM[caller]

    def room_id(self, name: str) -> uuid.UUID:
        room_id: uuid.UUID = getattr(self.world, name).id
        return room_id

    def rooms_in_scope(self, caller: str) -> set[str]:
        return SCOPE[caller]

    def node(self, type_name: str) -> NodeCases:
        return self.matrix.node(type_name)

    def out_of_scope(self, type_name: str, caller: str) -> list[str]:
        """World B objects for world A callers; for ADMIN_GENERAL (who sees all) missing ones."""
        if caller == "admin_general":
            return [gid(type_name, uuid.uuid4())]
        objects = self.node(type_name).world_b(self)
        assert objects, f"no world B object of type {type_name}"
        return [gid(type_name, o) for o in objects]

    def in_scope(self, type_name: str, caller: str) -> list[str]:
        """Objects the caller may see (empty when it can see none of that type)."""
        if caller == ANONYMOUS:
            return []
        return [gid(type_name, o) for o in self.node(type_name).in_scope(self, caller)]

    def target(self, type_name: str, caller: str) -> uuid.UUID:
        target = self.node(type_name).target
        assert target is not None, f"NodeCases of {type_name} declare no `target` for mutations to act on"
        return target(self, caller)

    async def snapshot(self) -> Snapshot:
        out: Snapshot = {}
        async with self.engine.connect() as connection:
            for table, spec in self.matrix.tables.items():
                owner = f"t.{spec.owner}::text" if spec.owner else "NULL"
                rows = await connection.execute(
                    text(f"SELECT t.{spec.key}::text, {owner}, md5(t::text) FROM {table} t")
                )
                out[table] = {row[0]: (row[1], row[2]) for row in rows}
        return out


def changes(before: Snapshot, after: Snapshot) -> list[Change]:
    """(table, primary key, owner) of every row added, removed or changed."""
    changed: list[Change] = []
    for table in before:
        old, new = before[table], after[table]
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                owner = (new.get(key) or old.get(key) or (None, ""))[0]
                changed.append((table, key, owner))
    return changed
