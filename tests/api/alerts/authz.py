"""The alerts domain's cases for the authorization matrix (tests/authz/): alerts are read,
resolved and reopened by SUPERVISOR (the center), ADMIN (the own warehouse) and ADMIN_GENERAL
(SPEC §4); alert settings are each user's own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select, update

from graphql_api.db import models
from graphql_api.services import alerts
from tests.authz import (
    AUTHENTICATED,
    DomainCases,
    MutationCase,
    NodeCases,
    Outcome,
    Scene,
    Table,
    on_own_object,
    static,
)
from tests.conftest import gid

READERS = frozenset({"SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
ROOMS = ("a1", "a2", "aw", "b1", "bw")


async def setup(scene: Scene) -> None:
    """An open alert about the individual item of every room."""
    made: dict[str, uuid.UUID] = {}
    async with scene.db.begin() as session:
        for room in ROOMS:
            item = scene.world.items[room][0]
            alert_id = await alerts.raise_alert(
                session,
                models.AlertType.EQUIPMENT_MISSING,
                models.AlertSeverity.HIGH,
                subject_type="InventoryItem",
                subject_id=item.id,
                environment_id=item.environment_id,
                params={"item": item.name, "code": item.internal_code, "environment": room, "missing": 1},
            )
            assert alert_id is not None
            made[room] = alert_id
        # Raising notified the readers; other domains' cases count every notification.
        await session.execute(delete(models.Notification).where(models.Notification.kind.like("alert.%")))
    scene.notes["alerts.by_room"] = made


def _by_room(scene: Scene) -> dict[str, uuid.UUID]:
    made: dict[str, uuid.UUID] = scene.notes["alerts.by_room"]
    return made


def _in_scope(scene: Scene, caller: str) -> list[uuid.UUID]:
    if caller in ("student", "instructor"):
        return []  # they read no alerts at all
    return [_by_room(scene)[room] for room in sorted(scene.rooms_in_scope(caller))]


def _alerts_of_room(scene: Scene, caller: str, room: uuid.UUID) -> Select[Any]:
    return select(models.SystemAlert.id).where(models.SystemAlert.environment_id == room)


def _status(status: models.AlertStatus) -> Any:
    async def prepare(scene: Scene, alert_id: uuid.UUID) -> None:
        async with scene.db.begin() as session:
            await session.execute(
                update(models.SystemAlert).where(models.SystemAlert.id == alert_id).values(status=status)
            )

    return prepare


ALERT = NodeCases(
    world_b=lambda s: [_by_room(s)["b1"], _by_room(s)["bw"]],
    in_scope=_in_scope,
    target=lambda s, caller: _by_room(s)[s.room(caller)],
    filtered_by={"Environment": _alerts_of_room},
)


def _transition(source: models.AlertStatus) -> MutationCase:
    """resolveAlert / reopenAlert, given an alert put in the state it leaves first."""
    return on_own_object("SystemAlert", "AlertPayload", READERS, prepare=_status(source))


MUTATIONS = {
    "resolveAlert": _transition(models.AlertStatus.OPEN),
    "reopenAlert": _transition(models.AlertStatus.RESOLVED),
    "updateAlertSettings": MutationCase(
        access=AUTHENTICATED,
        attack=static({"lowStockThreshold": 50}),
        # Acting on oneself only: it changes the caller's own settings, never anyone else's.
        out_of_scope=Outcome("AlertSettingsPayload"),
        in_scope=static({"lowStockThreshold": 7, "minSeverity": "HIGH"}),
        success="AlertSettingsPayload",
        self_only=True,
    ),
}


def _ids(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {v for k, v in value.items() if k == "id" and isinstance(v, str)} | {
            i for v in value.values() for i in _ids(v)
        }
    if isinstance(value, list):
        return {i for v in value for i in _ids(v)}
    return set()


async def alert_lists_never_reach_world_b(scene: Scene) -> None:
    """The list, with its nested subject, environment and people, for every reader of world A
    (the matrix's nested query needs a field every role may call; this one is for readers)."""
    query = """{ systemAlerts(first: 100) { totalCount edges { node { id
      subject { id ... on InventoryItem { environment { id } } } environment { id center { id } }
      resolvedBy { id } reopenedBy { id } } } } }"""
    w = scene.world
    world_b = {gid("SystemAlert", _by_room(scene)[room]) for room in ("b1", "bw")}
    world_b |= {gid("Environment", w.b1.id), gid("Environment", w.bw.id), gid("Center", w.center_b.id)}
    world_b |= {gid("InventoryItem", w.items[room][0].id) for room in ("b1", "bw")}
    for caller in ("supervisor", "admin"):
        data = await scene.gql.data(query, token=scene.actor(caller))
        assert _ids(data) & world_b == set(), caller
        expected = {gid("SystemAlert", a) for a in _in_scope(scene, caller)}
        assert {edge["node"]["id"] for edge in data["systemAlerts"]["edges"]} == expected
    # The positive control: the same query reaches world B when the scope allows it.
    assert world_b <= _ids(await scene.gql.data(query, token=scene.actor("admin_general")))


CASES = DomainCases(
    nodes={"SystemAlert": ALERT},
    queries={"systemAlert": READERS, "systemAlerts": READERS},
    mutations=MUTATIONS,
    tables={"system_alerts": Table(), "alert_settings": Table(key="user_id", owner="user_id")},
    setup=setup,
    checks={"alert_lists_never_reach_world_b": alert_lists_never_reach_world_b},
)
