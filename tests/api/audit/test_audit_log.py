"""The audit log: written by the server for every mutation, read by ADMIN_GENERAL only."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import GraphQLClient, World, error_codes, gid

ENTRY_FIELDS = """
    id operation actorRole entityType entityId changes outcome errorCode clientIp userAgent requestId
    durationMs createdAt actor { id }
"""
AUDIT_LOGS = f"""
query($where: AuditLogWhere, $direction: SortDirection, $first: Int) {{
  auditLogs(where: $where, direction: $direction, first: $first) {{
    totalCount edges {{ node {{ {ENTRY_FIELDS} }} }}
  }}
}}
"""
AUDIT_LOG = f"query($id: ID!) {{ auditLog(id: $id) {{ {ENTRY_FIELDS} }} }}"
ADJUST = """
mutation($input: AdjustItemStockInput!) {
  adjustItemStock(input: $input) {
    __typename ... on Error { code } ... on AdjustItemStockPayload { item { quantity } }
  }
}
"""
UPDATE_ITEM = """
mutation($input: UpdateItemInput!) {
  updateItem(input: $input) { __typename ... on Error { code } ... on ItemPayload { item { name } } }
}
"""
HEADERS = {"user-agent": "inventory-tests/1.0", "x-request-id": "req-audit-0001"}


def adjust_input(item: models.InventoryItem, expected: int, quantity: int = 1) -> dict[str, Any]:
    return {
        "input": {
            "itemId": gid("InventoryItem", item.id),
            "expectedQuantity": expected,
            "delta": {"quantity": quantity},
            "reason": "RESTOCK",
        }
    }


async def entries(gql: GraphQLClient, world: World, **variables: Any) -> list[dict[str, Any]]:
    data = await gql.data(AUDIT_LOGS, {"first": 100, **variables}, token=world.admin_general)
    connection = data["auditLogs"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"] for edge in connection["edges"]]


async def audit_count(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.AuditLog)) or 0)


async def test_successful_adjustment_is_audited_with_old_and_new_values(gql: GraphQLClient, world: World) -> None:
    item = world.items["aw"][1]  # quantity 10
    result = await gql.data(ADJUST, adjust_input(item, 10, 4), token=world.admin, headers=HEADERS)
    assert result["adjustItemStock"]["__typename"] == "AdjustItemStockPayload"
    [entry] = await entries(gql, world, where={"requestId": "req-audit-0001"})
    assert entry["operation"] == "adjustItemStock"
    assert (entry["outcome"], entry["errorCode"]) == ("SUCCESS", None)
    assert (entry["actor"], entry["actorRole"]) == ({"id": world.admin.gid}, "ADMIN")
    assert (entry["entityType"], entry["entityId"]) == ("inventory_items", str(item.id))
    assert (entry["clientIp"], entry["userAgent"], entry["requestId"]) == (
        "10.1.2.3",
        "inventory-tests/1.0",
        "req-audit-0001",
    )
    assert entry["durationMs"] >= 0
    item_changes = [c for c in entry["changes"] if c["entity"] == "inventory_items"]
    assert item_changes == [
        {
            "entity": "inventory_items",
            "id": str(item.id),
            "action": "update",
            "old": {"quantity": 10},
            "new": {"quantity": 14},
        }
    ]
    [movement] = [c for c in entry["changes"] if c["entity"] == "inventory_movements"]
    assert movement["action"] == "create"
    assert (movement["new"]["delta_quantity"], movement["new"]["quantity_after"], movement["new"]["reason"]) == (
        4,
        14,
        "RESTOCK",
    )
    # The same row by id.
    data = await gql.data(AUDIT_LOG, {"id": entry["id"]}, token=world.admin_general)
    assert data["auditLog"] == entry


async def test_failed_mutation_writes_one_failure_row_without_changes(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["aw"][1]
    before = await audit_count(db)
    result = await gql.data(ADJUST, adjust_input(item, 7), token=world.admin, headers=HEADERS)
    assert result["adjustItemStock"] == {"__typename": "ConflictError", "code": "CONFLICT"}
    assert await audit_count(db) == before + 1
    [entry] = await entries(gql, world, where={"requestId": "req-audit-0001"})
    assert (entry["operation"], entry["outcome"], entry["errorCode"]) == ("adjustItemStock", "FAILURE", "CONFLICT")
    assert entry["changes"] == []
    assert (entry["entityType"], entry["entityId"]) == (None, None)
    assert (entry["actor"], entry["actorRole"], entry["clientIp"]) == ({"id": world.admin.gid}, "ADMIN", "10.1.2.3")


async def test_validation_and_not_found_failures_are_audited(gql: GraphQLClient, world: World) -> None:
    item = world.items["aw"][1]
    await gql.data(ADJUST, adjust_input(item, 10, 0), token=world.admin)  # no change: ValidationError
    await gql.data(ADJUST, adjust_input(world.items["b1"][1], 10), token=world.admin)  # out of scope
    rows = await entries(gql, world, where={"operations": ["adjustItemStock"]})
    assert [(r["outcome"], r["errorCode"], r["changes"]) for r in rows] == [
        ("FAILURE", "NOT_FOUND", []),
        ("FAILURE", "VALIDATION_FAILED", []),
    ]


@pytest.mark.parametrize("role", ["student", "instructor"])
async def test_forbidden_attempt_writes_a_denied_row(gql: GraphQLClient, world: World, role: str) -> None:
    actor = world.role(role)
    result = await gql.execute(ADJUST, adjust_input(world.items["a1"][1], 10), token=actor, headers=HEADERS)
    assert error_codes(result) == ["FORBIDDEN"]
    [entry] = await entries(gql, world, where={"requestId": "req-audit-0001"})
    assert (entry["operation"], entry["outcome"], entry["errorCode"]) == ("adjustItemStock", "DENIED", "FORBIDDEN")
    assert (entry["actor"], entry["actorRole"]) == ({"id": actor.gid}, role.upper())
    assert entry["changes"] == []


async def test_anonymous_attempt_writes_a_denied_row_without_actor(gql: GraphQLClient, world: World) -> None:
    result = await gql.execute(ADJUST, adjust_input(world.items["a1"][1], 10), headers=HEADERS)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    [entry] = await entries(gql, world, where={"requestId": "req-audit-0001"})
    assert (entry["outcome"], entry["errorCode"], entry["actor"], entry["actorRole"]) == (
        "DENIED",
        "UNAUTHENTICATED",
        None,
        None,
    )


@pytest.mark.parametrize("role", ["student", "instructor", "supervisor", "admin", "student_b"])
async def test_audit_log_is_admin_general_only(gql: GraphQLClient, world: World, role: str) -> None:
    await gql.data(ADJUST, adjust_input(world.items["aw"][1], 10), token=world.admin)
    [entry] = await entries(gql, world)
    actor = world.role(role)
    result = await gql.execute(AUDIT_LOGS, {"first": 10}, token=actor)
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    result = await gql.execute(AUDIT_LOG, {"id": entry["id"]}, token=actor)
    assert error_codes(result) == ["FORBIDDEN"]
    # node(id:) applies the same rule: invisible, not an error.
    node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": entry["id"]}, token=actor)
    assert node["node"] is None
    node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": entry["id"]}, token=world.admin_general)
    assert node["node"] == {"id": entry["id"]}
    anonymous = await gql.execute(AUDIT_LOGS, {"first": 10})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_reads_write_no_audit_rows(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    before = await audit_count(db)
    await gql.data("{ items { totalCount } me { id } }", token=world.student)
    await gql.data(AUDIT_LOGS, {"first": 5}, token=world.admin_general)
    assert await audit_count(db) == before


async def test_filters_and_order(gql: GraphQLClient, world: World) -> None:
    item_aw, item_a1 = world.items["aw"][1], world.items["a1"][1]
    await gql.data(ADJUST, adjust_input(item_aw, 10), token=world.admin, headers={"x-request-id": "r-1"})
    await gql.data(ADJUST, adjust_input(item_aw, 10), token=world.admin, headers={"x-request-id": "r-2"})  # stale
    await gql.data(ADJUST, adjust_input(item_a1, 10), token=world.supervisor, headers={"x-request-id": "r-3"})
    await gql.data(
        UPDATE_ITEM,
        {"input": {"id": gid("InventoryItem", item_a1.id), "name": "Renamed"}},
        token=world.supervisor,
        headers={"x-request-id": "r-4"},
    )
    await gql.execute(ADJUST, adjust_input(item_a1, 11), token=world.student, headers={"x-request-id": "r-5"})

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        return [row["requestId"] for row in rows]

    everything = await entries(gql, world)
    assert ids(everything) == ["r-5", "r-4", "r-3", "r-2", "r-1"]  # newest first
    assert ids(await entries(gql, world, direction="ASC")) == ["r-1", "r-2", "r-3", "r-4", "r-5"]
    assert ids(await entries(gql, world, where={"actorIds": [world.admin.gid]})) == ["r-2", "r-1"]
    assert ids(await entries(gql, world, where={"actorIds": [world.supervisor.gid, world.student.gid]})) == [
        "r-5",
        "r-4",
        "r-3",
    ]
    assert ids(await entries(gql, world, where={"actorIds": []})) == []
    assert ids(await entries(gql, world, where={"operations": ["updateItem"]})) == ["r-4"]
    assert ids(await entries(gql, world, where={"operations": ["updateItem", "adjustItemStock"]})) == ids(everything)
    assert ids(await entries(gql, world, where={"outcomes": ["FAILURE"]})) == ["r-2"]
    assert ids(await entries(gql, world, where={"outcomes": ["DENIED", "FAILURE"]})) == ["r-5", "r-2"]
    assert ids(await entries(gql, world, where={"entityType": "inventory_items"})) == ["r-4", "r-3", "r-1"]
    assert ids(await entries(gql, world, where={"entityType": "inventory_items", "entityId": str(item_a1.id)})) == [
        "r-4",
        "r-3",
    ]
    assert ids(await entries(gql, world, where={"entityId": "not-a-uuid"})) == []
    assert ids(await entries(gql, world, where={"requestId": "r-3"})) == ["r-3"]
    assert ids(await entries(gql, world, where={"requestId": "nope"})) == []

    # Time window: [fromTime, toTime).
    times = {row["requestId"]: datetime.fromisoformat(row["createdAt"]) for row in everything}
    window = {"fromTime": times["r-2"].isoformat(), "toTime": times["r-4"].isoformat()}
    assert ids(await entries(gql, world, where=window)) == ["r-3", "r-2"]
    later = (times["r-5"] + timedelta(seconds=1)).isoformat()
    assert ids(await entries(gql, world, where={"fromTime": later})) == []
    assert len(await entries(gql, world, where={"toTime": later})) == 5


async def test_unsafe_request_id_is_replaced(gql: GraphQLClient, world: World) -> None:
    await gql.data(
        ADJUST, adjust_input(world.items["aw"][1], 10), token=world.admin, headers={"x-request-id": "bad id\nforged"}
    )
    [entry] = await entries(gql, world)
    assert entry["requestId"] != "bad id\nforged"
    assert len(entry["requestId"]) == 32
    assert entry["requestId"].isalnum()


async def test_secrets_are_never_stored(gql: GraphQLClient, world: World) -> None:
    mutation = """
    mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on Error { code } } }
    """
    values = {
        "email": "new.person@test.local",
        "password": "Very-Secret-Password-1",
        "role": "STUDENT",
        "firstName": "New",
        "lastName": "Person",
        "environmentId": gid("Environment", world.a1.id),
    }
    result = await gql.data(mutation, {"input": values}, token=world.admin_general)
    assert result["createUser"]["__typename"] == "UserPayload", result
    [entry] = await entries(gql, world, where={"operations": ["createUser"]})
    assert entry["outcome"] == "SUCCESS"
    dumped = str(entry["changes"])
    assert "Very-Secret-Password-1" not in dumped
    assert "password" not in dumped
    users = [c for c in entry["changes"] if c["entity"] == "users"]
    assert users
    assert users[0]["new"]["email"] == "new.person@test.local"


async def test_no_client_can_write_the_audit_log(gql: GraphQLClient, world: World) -> None:
    data = await gql.data("{ __schema { mutationType { fields { name } } } }", token=world.admin_general)
    names = [field["name"] for field in data["__schema"]["mutationType"]["fields"]]
    assert "adjustItemStock" in names
    assert [name for name in names if "audit" in name.lower()] == []


async def test_audit_rows_cannot_be_updated_or_deleted(engine: AsyncEngine, gql: GraphQLClient, world: World) -> None:
    await gql.data(ADJUST, adjust_input(world.items["aw"][1], 10), token=world.admin)
    for statement in ("UPDATE audit_logs SET outcome = 'FAILURE'", "DELETE FROM audit_logs"):
        with pytest.raises(IntegrityError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    [entry] = await entries(gql, world)
    assert entry["outcome"] == "SUCCESS"


async def test_create_and_retire_item_name_the_item_as_entity(gql: GraphQLClient, world: World) -> None:
    create = """
    mutation($input: CreateItemInput!) { createItem(input: $input) { ... on ItemPayload { item { id } } } }
    """
    retire = """
    mutation($input: RetireItemInput!) { retireItem(input: $input) { __typename } }
    """
    values = {
        "environmentId": gid("Environment", world.aw.id),
        "name": "Tripod",
        "internalCode": "TRI-1",
        "category": "CAMERA",
        "itemType": "GROUP",
        "quantity": 3,
    }
    created = await gql.data(create, {"input": values}, token=world.admin, headers={"x-request-id": "c-1"})
    item_gid = created["createItem"]["item"]["id"]
    await gql.data(
        retire, {"input": {"id": item_gid, "note": "old"}}, token=world.admin, headers={"x-request-id": "c-2"}
    )
    [retired_entry, created_entry] = await entries(gql, world)
    item_id = created_entry["entityId"]
    assert gid("InventoryItem", uuid.UUID(item_id)) == item_gid
    assert (created_entry["operation"], created_entry["entityType"], created_entry["requestId"]) == (
        "createItem",
        "inventory_items",
        "c-1",
    )
    [created_row] = [
        c for c in created_entry["changes"] if c["action"] == "create" and c["entity"] == "inventory_items"
    ]
    assert (created_row["id"], created_row["new"]["name"], created_row["new"]["internal_code"]) == (
        item_id,
        "Tripod",
        "TRI-1",
    )
    stock = [c for c in created_entry["changes"] if c["action"] == "update" and c["entity"] == "inventory_items"]
    assert stock == [
        {"entity": "inventory_items", "id": item_id, "action": "update", "old": {"quantity": 0}, "new": {"quantity": 3}}
    ]
    assert (retired_entry["operation"], retired_entry["entityType"], retired_entry["entityId"]) == (
        "retireItem",
        "inventory_items",
        item_id,
    )
    [retired_row] = [c for c in retired_entry["changes"] if c["entity"] == "inventory_items"]
    assert (retired_row["old"]["status"], retired_row["new"]["status"]) == ("ACTIVE", "RETIRED")
    assert retired_row["old"]["retired_at"] is None
    assert retired_row["new"]["retired_at"] is not None
