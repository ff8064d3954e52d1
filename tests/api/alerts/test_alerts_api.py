"""The alerts API per role, in and out of scope: lists, by id, filters, fields, statement counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.api.alerts.helpers import ALERT_FIELDS, LIST, NODE, ONE, raise_missing
from tests.conftest import Actor, GraphQLClient, World, error_codes, gid

ROOMS = ("a1", "a2", "aw", "b1", "bw")
# Whose alerts each reader sees (SPEC §4: SUPERVISOR the center, ADMIN the own warehouse).
SEES = {
    "supervisor": {"a1", "a2", "aw"},
    "admin": {"aw"},
    "admin_general": set(ROOMS),
    "admin_b": {"bw"},
}


async def _alert_per_room(db: async_sessionmaker[AsyncSession], world: World) -> dict[str, uuid.UUID]:
    made = {}
    for room in ROOMS:
        alert_id = await raise_missing(db, world.items[room][0])
        assert alert_id is not None
        made[room] = alert_id
    return made


def _ids(page: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in page["edges"]}


async def test_each_reader_sees_the_alerts_of_its_scope_only(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    made = await _alert_per_room(db, world)
    for name, rooms in SEES.items():
        actor = world.role(name)
        page = (await gql.data(LIST, token=actor))["systemAlerts"]
        assert _ids(page) == {gid("SystemAlert", made[room]) for room in rooms}, name
        assert page["totalCount"] == len(rooms)
        for room in ROOMS:
            found = (await gql.data(ONE, {"id": gid("SystemAlert", made[room])}, token=actor))["systemAlert"]
            assert (found is not None) == (room in rooms), (name, room)
            node = await gql.data(NODE, {"id": gid("SystemAlert", made[room])}, token=actor)
            assert (node["node"] is not None) == (room in rooms), (name, room)


@pytest.mark.parametrize("name", ["student", "instructor", "student_b"])
async def test_students_and_instructors_may_not_read_alerts(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], name: str
) -> None:
    made = await _alert_per_room(db, world)
    actor = world.role(name)
    assert error_codes(await gql.execute(LIST, token=actor)) == ["FORBIDDEN"]
    assert error_codes(await gql.execute(ONE, {"id": gid("SystemAlert", made["a1"])}, token=actor)) == ["FORBIDDEN"]
    # node(id:) is open to everyone signed in, and finds nothing.
    node = await gql.data(NODE, {"id": gid("SystemAlert", made["a1"])}, token=actor)
    assert node == {"node": None}
    assert error_codes(await gql.execute(LIST)) == ["UNAUTHENTICATED"]


async def test_a_reader_without_home_sees_nothing(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], factory: Any
) -> None:
    await _alert_per_room(db, world)
    homeless = await factory.user(models.Role.SUPERVISOR)
    assert (await gql.data(LIST, token=homeless))["systemAlerts"] == {"totalCount": 0, "edges": []}


async def test_filters_narrow_and_never_widen(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    made = await _alert_per_room(db, world)
    high = await raise_missing(db, world.items["a2"][1], models.AlertSeverity.HIGH)
    async with db.begin() as session:
        await session.execute(
            update(models.SystemAlert)
            .where(models.SystemAlert.id == made["a1"])
            .values(status=models.AlertStatus.RESOLVED)
        )
    supervisor = world.supervisor

    async def ids(where: dict[str, Any]) -> set[str]:
        return _ids((await gql.data(LIST, {"where": where}, token=supervisor))["systemAlerts"])

    def of(*alert_ids: uuid.UUID | None) -> set[str]:
        return {gid("SystemAlert", a) for a in alert_ids if a is not None}

    assert await ids({"statuses": ["RESOLVED"]}) == of(made["a1"])
    assert await ids({"statuses": ["OPEN"]}) == of(made["a2"], made["aw"], high)
    assert await ids({"severities": ["HIGH", "CRITICAL"]}) == of(high)
    assert await ids({"types": ["LOW_STOCK"]}) == set()
    assert await ids({"types": ["EQUIPMENT_MISSING"], "statuses": ["OPEN"]}) == of(made["a2"], made["aw"], high)
    assert await ids({"environmentIds": [gid("Environment", world.a2.id)]}) == of(made["a2"], high)
    # A room of world B in the filter adds nothing; garbage and other types match nothing.
    b_and_a = [gid("Environment", world.b1.id), gid("Environment", world.aw.id)]
    assert await ids({"environmentIds": b_and_a}) == of(made["aw"])
    assert await ids({"environmentIds": ["garbage!!", gid("Center", world.center_a.id)]}) == set()


async def test_newest_first_and_pages(gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]) -> None:
    made = await _alert_per_room(db, world)
    query = """query ($d: SortDirection!, $after: String) { systemAlerts(direction: $d, first: 2, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(query, {"d": "DESC", "after": after}, token=world.admin_general))["systemAlerts"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Raised one after the other, in room order.
    assert seen == [gid("SystemAlert", made[room]) for room in reversed(ROOMS)]


async def _set_language(db: async_sessionmaker[AsyncSession], actor: Actor, language: models.Language) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.UserSettings).where(models.UserSettings.user_id == actor.id).values(language=language)
        )


async def test_fields_message_in_the_readers_language_and_subject(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    item = world.items["a1"][0]
    alert_id = await raise_missing(db, item, models.AlertSeverity.CRITICAL)
    assert alert_id is not None
    await _set_language(db, world.admin_general, models.Language.EN)
    spanish = (await gql.data(ONE, {"id": gid("SystemAlert", alert_id)}, token=world.supervisor))["systemAlert"]
    english = (await gql.data(ONE, {"id": gid("SystemAlert", alert_id)}, token=world.admin_general))["systemAlert"]
    assert spanish["message"] == f"Faltan 1 unidades de «{item.name}» ({item.internal_code}) en Room."
    assert english["message"] == f"1 units of “{item.name}” ({item.internal_code}) are missing in Room."
    assert {k: v for k, v in english.items() if k != "message"} == {k: v for k, v in spanish.items() if k != "message"}
    assert spanish["type"] == "EQUIPMENT_MISSING"
    assert spanish["severity"] == "CRITICAL"
    assert spanish["status"] == "OPEN"
    assert spanish["subjectType"] == "InventoryItem"
    assert spanish["subject"] == {"id": gid("InventoryItem", item.id), "name": item.name}
    assert spanish["environment"] == {"id": gid("Environment", world.a1.id), "code": "A1"}
    assert (spanish["resolvedAt"], spanish["resolvedBy"], spanish["reopenedAt"], spanish["reopenedBy"]) == (None,) * 4


async def test_a_subject_the_reader_may_not_see_is_null(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    # An alert of room a1 about an object of world B (a loan's borrower, say): the alert is
    # visible, its subject is not.
    b_item = world.items["b1"][0]
    async with db.begin() as session:
        from graphql_api.services import alerts

        alert_id = await alerts.raise_alert(
            session,
            models.AlertType.EQUIPMENT_MISSING,
            models.AlertSeverity.LOW,
            subject_type="InventoryItem",
            subject_id=b_item.id,
            environment_id=world.a1.id,
            params={"item": "x", "code": "y", "environment": "z", "missing": 2},
        )
    assert alert_id is not None
    query = "query ($id: ID!) { systemAlert(id: $id) { subjectType subject { id } } }"
    found = (await gql.data(query, {"id": gid("SystemAlert", alert_id)}, token=world.supervisor))["systemAlert"]
    assert found == {"subjectType": "InventoryItem", "subject": None}
    found = (await gql.data(query, {"id": gid("SystemAlert", alert_id)}, token=world.admin_general))["systemAlert"]
    assert found == {"subjectType": "InventoryItem", "subject": {"id": gid("InventoryItem", b_item.id)}}


@pytest.mark.parametrize("alerts_in_rooms", [2, 20])
async def test_list_statement_count_does_not_grow_with_alerts(
    gql: GraphQLClient,
    world: World,
    db: async_sessionmaker[AsyncSession],
    factory: Any,
    count_statements: Any,
    alerts_in_rooms: int,
) -> None:
    # 10 or 100 alerts, each about its own item, in the five rooms.
    for room in ROOMS:
        environment = getattr(world, room)
        for _ in range(alerts_in_rooms):
            assert await raise_missing(db, await factory.item(environment)) is not None
    query = "{ systemAlerts(first: 50) { totalCount edges { node { " + ALERT_FIELDS + " } } } }"
    await gql.data(query, token=world.admin_general)  # warm: compiled statements, caches
    with count_statements() as counted:
        data = await gql.data(query, token=world.admin_general)
    assert len(data["systemAlerts"]["edges"]) == min(50, 5 * alerts_in_rooms)
    assert data["systemAlerts"]["totalCount"] == 5 * alerts_in_rooms
    assert all(edge["node"]["subject"] is not None for edge in data["systemAlerts"]["edges"])
    # authentication, the page (joined with its environments), its count, the subjects (one
    # batch per subject type); nobody resolved or reopened any, so no user is loaded
    assert counted.value == 4
