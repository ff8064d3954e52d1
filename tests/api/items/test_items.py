"""Inventory items over GraphQL: create, update, retire, adjust stock, the ledger and the lists.

Everything goes through the HTTP API against the real PostgreSQL; the database is read directly
only to check what was (or was not) written.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import Actor, Factory, GraphQLClient, World, error_codes, gid

ITEM_FIELDS = """
    id name internalCode serialNumber category itemType status condition brand model notes
    quantity quantityDamaged quantityMissing quantityInMaintenance quantityOnLoan quantityAvailable
    retiredAt createdAt updatedAt
    environment { id }
"""
ERROR_FIELDS = """
    ... on Error { __typename code message }
    ... on ValidationError { fieldErrors { field code message } }
"""
CREATE = f"""
mutation($input: CreateItemInput!) {{
  createItem(input: $input) {{
    __typename
    ... on ItemPayload {{ item {{ {ITEM_FIELDS}
      movements(first: 10) {{ totalCount edges {{ node {{
        reason deltaQuantity deltaDamaged deltaMissing deltaInMaintenance deltaOnLoan quantityAfter note
        actor {{ id }}
      }} }} }}
    }} }}
    {ERROR_FIELDS}
  }}
}}
"""
UPDATE = f"""
mutation($input: UpdateItemInput!) {{
  updateItem(input: $input) {{ __typename ... on ItemPayload {{ item {{ {ITEM_FIELDS} }} }} {ERROR_FIELDS} }}
}}
"""
RETIRE = f"""
mutation($input: RetireItemInput!) {{
  retireItem(input: $input) {{ __typename ... on ItemPayload {{ item {{ {ITEM_FIELDS} }} }} {ERROR_FIELDS} }}
}}
"""
ADJUST = f"""
mutation($input: AdjustItemStockInput!) {{
  adjustItemStock(input: $input) {{
    __typename
    ... on AdjustItemStockPayload {{
      item {{ {ITEM_FIELDS} }}
      movement {{ id reason deltaQuantity deltaDamaged deltaMissing quantityAfter note item {{ id }} actor {{ id }} }}
    }}
    {ERROR_FIELDS}
  }}
}}
"""
ITEM = f"query($id: ID!) {{ item(id: $id) {{ {ITEM_FIELDS} }} }}"
ITEMS = """
query($where: ItemWhere, $orderBy: ItemOrder, $first: Int) {
  items(where: $where, orderBy: $orderBy, first: $first) {
    totalCount
    edges { node { id name internalCode serialNumber quantity createdAt updatedAt status } }
  }
}
"""


# ---- helpers -----------------------------------------------------------------------------------


def item_gid(item: models.InventoryItem | uuid.UUID) -> str:
    return gid("InventoryItem", item if isinstance(item, uuid.UUID) else item.id)


def env_gid(environment: models.Environment) -> str:
    return gid("Environment", environment.id)


async def create_item(gql: GraphQLClient, actor: Actor, **values: Any) -> dict[str, Any]:
    data = await gql.data(CREATE, {"input": values}, token=actor)
    result: dict[str, Any] = data["createItem"]
    return result


def new_item(environment: models.Environment, code: str, **values: Any) -> dict[str, Any]:
    return {
        "environmentId": env_gid(environment),
        "name": values.pop("name", f"Thing {code}"),
        "internalCode": code,
        "category": values.pop("category", "PROJECTOR"),
        **values,
    }


async def adjust(
    gql: GraphQLClient,
    actor: Actor,
    item: models.InventoryItem | uuid.UUID,
    *,
    expected: int,
    reason: str,
    quantity: int = 0,
    damaged: int = 0,
    missing: int = 0,
    note: str | None = None,
) -> dict[str, Any]:
    variables = {
        "input": {
            "itemId": item_gid(item),
            "expectedQuantity": expected,
            "delta": {"quantity": quantity, "damaged": damaged, "missing": missing},
            "reason": reason,
            "note": note,
        }
    }
    data = await gql.data(ADJUST, variables, token=actor)
    result: dict[str, Any] = data["adjustItemStock"]
    return result


async def movements_of(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> list[models.InventoryMovement]:
    async with db() as session:
        rows = await session.scalars(
            select(models.InventoryMovement)
            .where(models.InventoryMovement.item_id == item_id)
            .order_by(models.InventoryMovement.created_at, models.InventoryMovement.id)
        )
        return list(rows.all())


async def item_row(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> models.InventoryItem:
    async with db() as session:
        row = await session.get(models.InventoryItem, item_id)
        assert row is not None
        return row


async def count_items(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.InventoryItem)) or 0)


async def count_movements(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.InventoryMovement)) or 0)


def stock(row: models.InventoryItem) -> tuple[int, int, int, int, int]:
    return (
        row.quantity,
        row.quantity_damaged,
        row.quantity_missing,
        row.quantity_in_maintenance,
        row.quantity_on_loan,
    )


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


# ---- createItem ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "environment"),
    [
        ("supervisor", "a1"),  # own home room
        ("supervisor", "a2"),  # another room of the own center
        ("supervisor", "aw"),  # the center's warehouse
        ("admin", "aw"),  # own warehouse
        ("admin_general", "b1"),  # anywhere
        ("admin_general", "aw"),
    ],
)
async def test_create_item_allowed(gql: GraphQLClient, world: World, role: str, environment: str) -> None:
    env = getattr(world, environment)
    result = await create_item(gql, world.role(role), **new_item(env, "NEW-1", itemType="GROUP", quantity=4))
    assert result["__typename"] == "ItemPayload", result
    item = result["item"]
    assert item["environment"]["id"] == env_gid(env)
    assert (item["status"], item["condition"], item["quantity"], item["quantityAvailable"]) == (
        "ACTIVE",
        "AVAILABLE",
        4,
        4,
    )


@pytest.mark.parametrize(
    ("role", "environment"),
    [
        ("supervisor", "b1"),  # another center
        ("supervisor", "bw"),
        ("admin", "a1"),  # a room of the own center, but not the own warehouse
        ("admin", "bw"),  # another warehouse
        ("admin_b", "aw"),
    ],
)
async def test_create_item_out_of_scope_is_not_found(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str, environment: str
) -> None:
    before = await count_items(db)
    result = await create_item(gql, world.role(role), **new_item(getattr(world, environment), "NEW-1"))
    assert result["__typename"] == "NotFoundError"
    assert result["code"] == "NOT_FOUND"
    assert await count_items(db) == before


@pytest.mark.parametrize("role", ["student", "instructor", "student_b"])
async def test_create_item_by_role_without_permission_is_forbidden(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str
) -> None:
    before = await count_items(db)
    result = await gql.execute(CREATE, {"input": new_item(world.a1, "NEW-1")}, token=world.role(role))
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    assert await count_items(db) == before


async def test_create_item_anonymous_is_unauthenticated(gql: GraphQLClient, world: World) -> None:
    result = await gql.execute(CREATE, {"input": new_item(world.a1, "NEW-1")})
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_create_item_writes_initial_movement(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    result = await create_item(
        gql,
        world.supervisor,
        **new_item(
            world.a2,
            "PROJ-7",
            name="  Projector Epson  ",
            itemType="GROUP",
            quantity=10,
            quantityDamaged=2,
            quantityMissing=1,
            serialNumber="SN-7",
            brand="Epson",
            notes="Bought in 2024",
        ),
    )
    assert result["__typename"] == "ItemPayload", result
    item = result["item"]
    assert item["name"] == "Projector Epson"  # trimmed
    assert (item["internalCode"], item["serialNumber"], item["brand"], item["notes"]) == (
        "PROJ-7",
        "SN-7",
        "Epson",
        "Bought in 2024",
    )
    assert (item["category"], item["itemType"], item["condition"]) == ("PROJECTOR", "GROUP", "PARTIAL")
    assert (
        item["quantity"],
        item["quantityDamaged"],
        item["quantityMissing"],
        item["quantityInMaintenance"],
        item["quantityOnLoan"],
        item["quantityAvailable"],
    ) == (10, 2, 1, 0, 0, 7)
    assert item["retiredAt"] is None
    assert item["movements"]["totalCount"] == 1
    [movement] = [edge["node"] for edge in item["movements"]["edges"]]
    assert movement == {
        "reason": "INITIAL",
        "deltaQuantity": 10,
        "deltaDamaged": 2,
        "deltaMissing": 1,
        "deltaInMaintenance": 0,
        "deltaOnLoan": 0,
        "quantityAfter": 10,
        "note": None,
        "actor": {"id": world.supervisor.gid},
    }
    [row] = await movements_of(db, uuid_of(item["id"]))
    assert (row.environment_id, row.actor_id, row.reason) == (
        world.a2.id,
        world.supervisor.id,
        models.MovementReason.INITIAL,
    )


def uuid_of(global_id: str) -> uuid.UUID:
    from graphql_api.api.core.relay import parse_id

    parsed = parse_id(global_id)
    assert parsed is not None
    return parsed[1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"itemType": "INDIVIDUAL", "quantity": 2}, [("quantity", "INDIVIDUAL_QUANTITY")]),
        ({"itemType": "GROUP", "quantity": 0}, [("quantity", "MIN_VALUE")]),
        ({"itemType": "GROUP", "quantity": 100_001}, [("quantity", "MAX_VALUE")]),
        (
            {"itemType": "GROUP", "quantity": 5, "quantityDamaged": 3, "quantityMissing": 3},
            [("quantityDamaged", "BUCKETS_EXCEED_QUANTITY")],
        ),
        ({"itemType": "GROUP", "quantity": 5, "quantityDamaged": -1}, [("quantityDamaged", "MIN_VALUE")]),
        ({"itemType": "GROUP", "quantity": 5, "quantityMissing": -2}, [("quantityMissing", "MIN_VALUE")]),
        ({"name": "   "}, [("name", "BLANK")]),
        ({"name": "x" * 101}, [("name", "TOO_LONG")]),
        ({"internalCode": ""}, [("internalCode", "BLANK")]),
        ({"imageUrl": "javascript:alert(1)"}, [("imageUrl", "INVALID_URL")]),
        ({"purchaseDate": "2024-05-01", "warrantyExpiry": "2024-04-30"}, [("warrantyExpiry", "DATE_ORDER")]),
        ({"environmentId": "garbage"}, [("environmentId", "INVALID_ID")]),
    ],
)
async def test_create_item_validation(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    world: World,
    values: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    items_before, movements_before = await count_items(db), await count_movements(db)
    result = await create_item(gql, world.admin_general, **{**new_item(world.a1, "NEW-1"), **values})
    assert field_errors(result) == expected
    assert result["code"] == "VALIDATION_FAILED"
    assert (await count_items(db), await count_movements(db)) == (items_before, movements_before)


async def test_create_item_reports_every_invalid_field_at_once(gql: GraphQLClient, world: World) -> None:
    result = await create_item(
        gql,
        world.admin_general,
        **new_item(world.a1, "", name="", itemType="INDIVIDUAL", quantity=3, quantityDamaged=4),
    )
    assert sorted(field_errors(result)) == [
        ("internalCode", "BLANK"),
        ("name", "BLANK"),
        ("quantity", "INDIVIDUAL_QUANTITY"),
        ("quantityDamaged", "BUCKETS_EXCEED_QUANTITY"),
    ]


async def test_create_item_with_id_of_another_type_is_not_found(gql: GraphQLClient, world: World) -> None:
    values = {**new_item(world.a1, "NEW-1"), "environmentId": gid("Center", world.center_a.id)}
    result = await create_item(gql, world.admin_general, **values)
    assert result["__typename"] == "NotFoundError"


async def test_create_item_in_unknown_environment_is_not_found(gql: GraphQLClient, world: World) -> None:
    values = {**new_item(world.a1, "NEW-1"), "environmentId": gid("Environment", uuid.uuid4())}
    result = await create_item(gql, world.admin_general, **values)
    assert result["__typename"] == "NotFoundError"


async def test_create_item_duplicate_internal_code(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    existing = world.items["a1"][0]
    before = await count_items(db)
    result = await create_item(gql, world.supervisor, **new_item(world.a2, existing.internal_code))
    assert field_errors(result) == [("internalCode", "INTERNAL_CODE_TAKEN")]
    assert result["fieldErrors"][0]["message"] == "Ya existe un elemento con este código interno."
    assert await count_items(db) == before


async def test_create_item_duplicate_serial_number(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    first = await create_item(gql, world.admin_general, **new_item(world.a1, "S-1", serialNumber="SER-123"))
    assert first["__typename"] == "ItemPayload"
    before = (await count_items(db), await count_movements(db))
    # Also across centers: serial numbers are unique everywhere.
    result = await create_item(gql, world.admin_general, **new_item(world.b1, "S-2", serialNumber="SER-123"))
    assert field_errors(result) == [("serialNumber", "SERIAL_TAKEN")]
    assert (await count_items(db), await count_movements(db)) == before


async def test_create_item_in_inactive_environment(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.Environment).where(models.Environment.id == world.a2.id).values(is_active=False)
        )
    before = await count_items(db)
    result = await create_item(gql, world.supervisor, **new_item(world.a2, "NEW-1"))
    assert field_errors(result) == [("environmentId", "ENVIRONMENT_INACTIVE")]
    assert await count_items(db) == before


async def set_language(db: async_sessionmaker[AsyncSession], actor: Actor, language: str) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.UserSettings)
            .where(models.UserSettings.user_id == actor.id)
            .values(language=models.Language(language))
        )


async def test_error_messages_follow_the_user_language_codes_do_not(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    values = {"input": new_item(world.a1, "NEW-1", itemType="INDIVIDUAL", quantity=2)}
    spanish = (await gql.data(CREATE, values, token=world.admin_general))["createItem"]
    await set_language(db, world.admin_general, "EN")
    english = (await gql.data(CREATE, values, token=world.admin_general))["createItem"]
    assert (spanish["code"], spanish["message"]) == ("VALIDATION_FAILED", "Los datos enviados no son válidos.")
    assert spanish["fieldErrors"] == [
        {
            "field": "quantity",
            "code": "INDIVIDUAL_QUANTITY",
            "message": "Un elemento individual tiene exactamente una unidad.",
        }
    ]
    assert english["code"] == "VALIDATION_FAILED"
    assert english["fieldErrors"] == [
        {"field": "quantity", "code": "INDIVIDUAL_QUANTITY", "message": "An individual item has exactly one unit."}
    ]


# ---- updateItem ----------------------------------------------------------------------------------


async def test_update_item_changes_only_sent_fields(gql: GraphQLClient, world: World) -> None:
    created = await create_item(
        gql,
        world.admin,
        **new_item(world.aw, "UPD-1", serialNumber="SER-U1", brand="Acme", model="X1", notes="old notes"),
    )
    item_id = created["item"]["id"]
    result = (
        await gql.data(
            UPDATE,
            {"input": {"id": item_id, "name": "Renamed", "brand": None, "category": "TV"}},
            token=world.admin,
        )
    )["updateItem"]
    assert result["__typename"] == "ItemPayload", result
    item = result["item"]
    assert (item["name"], item["brand"], item["category"]) == ("Renamed", None, "TV")
    # Not sent: unchanged.
    assert (item["internalCode"], item["serialNumber"], item["model"], item["notes"]) == (
        "UPD-1",
        "SER-U1",
        "X1",
        "old notes",
    )
    assert item["quantity"] == 1
    # An update with nothing in it changes nothing and still succeeds.
    same = (await gql.data(UPDATE, {"input": {"id": item_id}}, token=world.admin))["updateItem"]
    assert same["item"]["name"] == "Renamed"
    cleared = (await gql.data(UPDATE, {"input": {"id": item_id, "serialNumber": None}}, token=world.admin))[
        "updateItem"
    ]
    assert cleared["item"]["serialNumber"] is None
    assert cleared["item"]["model"] == "X1"


async def test_update_item_duplicate_code_and_serial(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    first, second = world.items["a1"]
    result = (
        await gql.data(
            UPDATE, {"input": {"id": item_gid(second), "internalCode": first.internal_code}}, token=world.supervisor
        )
    )["updateItem"]
    assert field_errors(result) == [("internalCode", "INTERNAL_CODE_TAKEN")]
    assert (await item_row(db, second.id)).internal_code == second.internal_code

    await gql.data(UPDATE, {"input": {"id": item_gid(first), "serialNumber": "SER-X"}}, token=world.supervisor)
    result = (
        await gql.data(UPDATE, {"input": {"id": item_gid(second), "serialNumber": "SER-X"}}, token=world.supervisor)
    )["updateItem"]
    assert field_errors(result) == [("serialNumber", "SERIAL_TAKEN")]
    assert (await item_row(db, second.id)).serial_number is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": "  "}, [("name", "BLANK")]),
        ({"name": "  ", "internalCode": ""}, [("name", "BLANK"), ("internalCode", "BLANK")]),
        ({"internalCode": "c" * 51}, [("internalCode", "TOO_LONG")]),
        ({"imageUrl": "ftp://example.com/x.png"}, [("imageUrl", "INVALID_URL")]),
    ],
)
async def test_update_item_validation(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    world: World,
    values: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    item = world.items["a1"][1]
    result = (await gql.data(UPDATE, {"input": {"id": item_gid(item), **values}}, token=world.supervisor))["updateItem"]
    assert field_errors(result) == expected
    row = await item_row(db, item.id)
    assert (row.name, row.internal_code, row.image_url) == (item.name, item.internal_code, None)


@pytest.mark.parametrize("field", ["name", "internalCode", "category"])
async def test_update_item_null_for_a_required_field_is_a_bad_request(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, field: str
) -> None:
    item = world.items["a1"][1]
    result = await gql.execute(UPDATE, {"input": {"id": item_gid(item), field: None}}, token=world.supervisor)
    assert error_codes(result) == ["BAD_REQUEST"]
    assert result["data"] is None
    row = await item_row(db, item.id)
    assert (row.name, row.internal_code, row.category) == (item.name, item.internal_code, item.category)


async def test_update_retired_item_is_a_conflict(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][1]
    retired = (await gql.data(RETIRE, {"input": {"id": item_gid(item)}}, token=world.supervisor))["retireItem"]
    assert retired["__typename"] == "ItemPayload"
    result = (await gql.data(UPDATE, {"input": {"id": item_gid(item), "name": "New"}}, token=world.supervisor))[
        "updateItem"
    ]
    assert (result["__typename"], result["code"]) == ("ConflictError", "CONFLICT")
    assert result["message"] == "El elemento está dado de baja."


@pytest.mark.parametrize(("role", "environment"), [("supervisor", "b1"), ("admin", "a1"), ("admin_b", "aw")])
async def test_update_item_out_of_scope_is_not_found(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str, environment: str
) -> None:
    item = world.items[environment][0]
    result = (await gql.data(UPDATE, {"input": {"id": item_gid(item), "name": "Hacked"}}, token=world.role(role)))[
        "updateItem"
    ]
    assert result["__typename"] == "NotFoundError"
    assert (await item_row(db, item.id)).name == item.name


async def test_update_item_by_student_is_forbidden(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][0]
    result = await gql.execute(UPDATE, {"input": {"id": item_gid(item), "name": "Mine"}}, token=world.student)
    assert error_codes(result) == ["FORBIDDEN"]


# ---- retireItem ------------------------------------------------------------------------------------


async def test_retire_item(gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World) -> None:
    item = world.items["aw"][1]
    result = (await gql.data(RETIRE, {"input": {"id": item_gid(item), "note": "Obsolete"}}, token=world.admin))[
        "retireItem"
    ]
    assert result["__typename"] == "ItemPayload", result
    assert result["item"]["status"] == "RETIRED"
    assert result["item"]["retiredAt"] is not None
    assert datetime.fromisoformat(result["item"]["retiredAt"]).tzinfo is not None
    # Retiring changes no quantity.
    assert (result["item"]["quantity"], result["item"]["quantityAvailable"]) == (10, 10)
    rows = await movements_of(db, item.id)
    assert [
        (m.reason.value, m.delta_quantity, m.delta_damaged, m.delta_missing, m.quantity_after, m.note) for m in rows
    ] == [
        ("INITIAL", 10, 0, 0, 10, None),
        ("RETIRE", 0, 0, 0, 10, "Obsolete"),
    ]
    assert rows[1].actor_id == world.admin.id

    again = (await gql.data(RETIRE, {"input": {"id": item_gid(item)}}, token=world.admin))["retireItem"]
    assert (again["__typename"], again["code"]) == ("ConflictError", "CONFLICT")
    assert len(await movements_of(db, item.id)) == 2


async def test_retire_item_with_units_out_is_refused(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["aw"][1]
    for column in ("quantity_on_loan", "quantity_in_maintenance"):
        async with db.begin() as session:
            await session.execute(
                update(models.InventoryItem)
                .where(models.InventoryItem.id == item.id)
                .values({"quantity_on_loan": 0, "quantity_in_maintenance": 0, column: 3})
            )
        result = (await gql.data(RETIRE, {"input": {"id": item_gid(item)}}, token=world.admin))["retireItem"]
        assert field_errors(result) == [("itemId", "HAS_UNITS_OUT")]
        row = await item_row(db, item.id)
        assert (row.status, row.retired_at) == (models.ItemStatus.ACTIVE, None)
        assert [m.reason.value for m in await movements_of(db, item.id)] == ["INITIAL"]


async def test_retire_item_out_of_scope_or_unknown(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    for actor, item_id in (
        (world.supervisor, world.items["b1"][0].id),
        (world.admin, world.items["a2"][0].id),
        (world.admin_general, uuid.uuid4()),
    ):
        result = (await gql.data(RETIRE, {"input": {"id": item_gid(item_id)}}, token=actor))["retireItem"]
        assert result["__typename"] == "NotFoundError"
    assert (await item_row(db, world.items["b1"][0].id)).status is models.ItemStatus.ACTIVE
    assert (await item_row(db, world.items["a2"][0].id)).status is models.ItemStatus.ACTIVE
    forbidden = await gql.execute(RETIRE, {"input": {"id": item_gid(world.items["a1"][0])}}, token=world.instructor)
    assert error_codes(forbidden) == ["FORBIDDEN"]


async def test_retired_item_hidden_from_items_unless_asked(gql: GraphQLClient, world: World) -> None:
    retired, active = world.items["a1"]
    await gql.data(RETIRE, {"input": {"id": item_gid(retired)}}, token=world.supervisor)
    where_a1 = {"environmentIds": [env_gid(world.a1)]}

    async def ids(where: dict[str, Any], actor: Actor = world.supervisor) -> set[str]:
        data = await gql.data(ITEMS, {"where": where, "first": 50}, token=actor)
        return {edge["node"]["id"] for edge in data["items"]["edges"]}

    assert await ids(where_a1) == {item_gid(active)}
    assert await ids({**where_a1, "statuses": ["RETIRED"]}) == {item_gid(retired)}
    assert await ids({**where_a1, "statuses": ["ACTIVE", "RETIRED"]}) == {item_gid(retired), item_gid(active)}
    assert await ids({"statuses": ["RETIRED"]}, world.student) == {item_gid(retired)}
    # Out of scope stays out of scope, retired or not.
    assert await ids({"statuses": ["RETIRED"]}, world.student_b) == set()
    # The item itself remains readable (history is kept).
    data = await gql.data(ITEM, {"id": item_gid(retired)}, token=world.student)
    assert data["item"]["status"] == "RETIRED"


# ---- adjustItemStock ------------------------------------------------------------------------------


async def test_adjust_stock_restock_loss_and_corrections(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a2"][1]  # group, quantity 10
    restock = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=5, note="Purchase")
    assert restock["__typename"] == "AdjustItemStockPayload", restock
    assert (restock["item"]["quantity"], restock["item"]["quantityAvailable"]) == (15, 15)
    movement = restock["movement"]
    assert (movement["reason"], movement["deltaQuantity"], movement["quantityAfter"], movement["note"]) == (
        "RESTOCK",
        5,
        15,
        "Purchase",
    )
    assert movement["item"]["id"] == item_gid(item)
    assert movement["actor"]["id"] == world.supervisor.gid

    loss = await adjust(gql, world.supervisor, item, expected=15, reason="LOSS", quantity=-1)
    assert (loss["item"]["quantity"], loss["movement"]["deltaQuantity"], loss["movement"]["quantityAfter"]) == (
        14,
        -1,
        14,
    )

    damaged = await adjust(gql, world.supervisor, item, expected=14, reason="CORRECTION", damaged=2)
    assert (damaged["item"]["quantity"], damaged["item"]["quantityDamaged"], damaged["item"]["quantityAvailable"]) == (
        14,
        2,
        12,
    )
    assert damaged["item"]["condition"] == "PARTIAL"

    missing = await adjust(gql, world.supervisor, item, expected=14, reason="CORRECTION", missing=3, damaged=-1)
    assert (
        missing["item"]["quantityDamaged"],
        missing["item"]["quantityMissing"],
        missing["item"]["quantityAvailable"],
    ) == (1, 3, 10)
    assert (missing["movement"]["deltaDamaged"], missing["movement"]["deltaMissing"]) == (-1, 3)

    row = await item_row(db, item.id)
    assert stock(row) == (14, 1, 3, 0, 0)
    assert [m.reason.value for m in await movements_of(db, item.id)] == [
        "INITIAL",
        "RESTOCK",
        "LOSS",
        "CORRECTION",
        "CORRECTION",
    ]


@pytest.mark.parametrize(("role", "environment"), [("admin", "aw"), ("admin_general", "b1"), ("supervisor", "aw")])
async def test_adjust_stock_allowed_roles(gql: GraphQLClient, world: World, role: str, environment: str) -> None:
    item = world.items[environment][1]
    result = await adjust(gql, world.role(role), item, expected=10, reason="RESTOCK", quantity=1)
    assert result["__typename"] == "AdjustItemStockPayload", result
    assert result["item"]["quantity"] == 11


async def test_adjust_stock_stale_expected_quantity_is_a_conflict(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a1"][1]
    before = stock(await item_row(db, item.id))
    result = await adjust(gql, world.supervisor, item, expected=9, reason="RESTOCK", quantity=1)
    assert (result["__typename"], result["code"]) == ("ConflictError", "CONFLICT")
    assert result["message"] == "La cantidad cambió mientras tanto (esperada 9, actual 10)."
    assert stock(await item_row(db, item.id)) == before
    assert [m.reason.value for m in await movements_of(db, item.id)] == ["INITIAL"]

    await set_language(db, world.admin_general, "EN")
    english = await adjust(gql, world.admin_general, item, expected=11, reason="RESTOCK", quantity=1)
    assert (english["code"], english["message"]) == (
        "CONFLICT",
        "The quantity changed in the meantime (expected 11, now 10).",
    )
    assert [m.reason.value for m in await movements_of(db, item.id)] == ["INITIAL"]


@pytest.mark.parametrize(
    ("expected_quantity", "delta", "code"),
    [
        (10, {"quantity": -11}, "NEGATIVE_RESULT"),
        (10, {"quantity": -10, "damaged": 1}, "BUCKETS_EXCEED_QUANTITY"),
        (10, {"quantity": -10}, None),  # the boundary: zero units left is allowed
        (10, {"damaged": -1}, "NEGATIVE_RESULT"),
        (10, {"damaged": 11}, "BUCKETS_EXCEED_QUANTITY"),
        (10, {"damaged": 6, "missing": 5}, "BUCKETS_EXCEED_QUANTITY"),
    ],
)
async def test_adjust_stock_impossible_result_is_a_validation_error(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    world: World,
    expected_quantity: int,
    delta: dict[str, int],
    code: str | None,
) -> None:
    item = world.items["a1"][1]
    before = stock(await item_row(db, item.id))
    result = await adjust(gql, world.supervisor, item, expected=expected_quantity, reason="CORRECTION", **delta)
    if code is None:
        assert result["__typename"] == "AdjustItemStockPayload"
        assert (result["item"]["quantity"], result["item"]["quantityAvailable"]) == (0, 0)
        return
    assert field_errors(result) == [("delta", code)]
    assert stock(await item_row(db, item.id)) == before
    assert len(await movements_of(db, item.id)) == 1


async def test_adjust_stock_loss_below_unavailable_units(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory, world: World
) -> None:
    item = await factory.item(world.a1, quantity=4, damaged=4, name="All broken")
    result = await adjust(gql, world.supervisor, item, expected=4, reason="LOSS", quantity=-1)
    assert field_errors(result) == [("delta", "BUCKETS_EXCEED_QUANTITY")]
    # Losing a damaged unit is one movement with both deltas.
    too_many = await adjust(gql, world.supervisor, item, expected=4, reason="LOSS", quantity=-5, damaged=-4)
    assert field_errors(too_many) == [("delta", "NEGATIVE_RESULT")]
    ok = await adjust(gql, world.supervisor, item, expected=4, reason="LOSS", quantity=-1, damaged=-1)
    assert (ok["item"]["quantity"], ok["item"]["quantityDamaged"], ok["item"]["condition"]) == (3, 3, "DAMAGED")
    assert stock(await item_row(db, item.id)) == (3, 3, 0, 0, 0)


@pytest.mark.parametrize("field", ["quantity", "damaged", "missing"])
@pytest.mark.parametrize("value", [2_147_483_647, -2_147_483_648, models.MAX_QUANTITY + 1])
async def test_adjust_stock_out_of_range_delta_is_a_validation_error(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, field: str, value: int
) -> None:
    # The largest GraphQL Int used to reach the UPDATE and answer INTERNAL (integer out of range).
    item = world.items["a1"][1]
    before = stock(await item_row(db, item.id))
    result = await adjust(gql, world.supervisor, item, expected=10, reason="CORRECTION", **{field: value})
    assert result["__typename"] == "ValidationError", result
    assert field_errors(result) == [(f"delta.{field}", "MAX_VALUE" if value > 0 else "MIN_VALUE")]
    assert stock(await item_row(db, item.id)) == before
    assert len(await movements_of(db, item.id)) == 1


async def test_adjust_stock_never_reaches_a_quantity_the_next_unit_cannot_pass(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a1"][1]  # 10 units
    top = models.MAX_QUANTITY - 10
    full = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=top)
    assert full["item"]["quantity"] == models.MAX_QUANTITY, full
    over = await adjust(gql, world.supervisor, item, expected=models.MAX_QUANTITY, reason="RESTOCK", quantity=1)
    assert over["__typename"] == "ValidationError", over
    assert (await item_row(db, item.id)).quantity == models.MAX_QUANTITY


async def test_adjust_stock_individual_item_cannot_grow(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a1"][0]  # individual, quantity 1
    result = await adjust(gql, world.supervisor, item, expected=1, reason="RESTOCK", quantity=1)
    assert field_errors(result) == [("delta", "INDIVIDUAL_QUANTITY")]
    assert (await item_row(db, item.id)).quantity == 1


@pytest.mark.parametrize(
    "reason",
    ["INITIAL", "LOAN_OUT", "LOAN_RETURN", "MAINTENANCE_OUT", "MAINTENANCE_RETURN", "VERIFICATION_FINDING", "RETIRE"],
)
async def test_adjust_stock_workflow_reasons_are_refused(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, reason: str
) -> None:
    item = world.items["a1"][1]
    result = await adjust(gql, world.supervisor, item, expected=10, reason=reason, quantity=1)
    assert field_errors(result) == [("reason", "REASON_NOT_ALLOWED")]
    assert stock(await item_row(db, item.id)) == (10, 0, 0, 0, 0)
    assert len(await movements_of(db, item.id)) == 1


async def test_adjust_stock_zero_delta_and_long_note(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][1]
    result = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK")
    assert field_errors(result) == [("delta", "NO_CHANGE")]
    result = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=1, note="n" * 2001)
    assert field_errors(result) == [("note", "TOO_LONG")]
    result = await adjust(gql, world.supervisor, item, expected=10, reason="LOAN_OUT")
    assert sorted(field_errors(result)) == [("delta", "NO_CHANGE"), ("reason", "REASON_NOT_ALLOWED")]


@pytest.mark.parametrize(
    ("role", "environment"),
    [("admin", "a1"), ("admin", "a2"), ("admin", "bw"), ("supervisor", "b1"), ("admin_b", "aw")],
)
async def test_adjust_stock_out_of_scope_is_not_found(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str, environment: str
) -> None:
    item = world.items[environment][1]
    result = await adjust(gql, world.role(role), item, expected=10, reason="RESTOCK", quantity=1)
    assert (result["__typename"], result["code"]) == ("NotFoundError", "NOT_FOUND")
    assert stock(await item_row(db, item.id)) == (10, 0, 0, 0, 0)
    assert len(await movements_of(db, item.id)) == 1


async def test_adjust_stock_unknown_or_wrong_id(gql: GraphQLClient, world: World) -> None:
    unknown = await adjust(gql, world.admin_general, uuid.uuid4(), expected=1, reason="RESTOCK", quantity=1)
    assert unknown["__typename"] == "NotFoundError"
    wrong_type = await gql.data(
        ADJUST,
        {
            "input": {
                "itemId": env_gid(world.a1),
                "expectedQuantity": 1,
                "delta": {"quantity": 1},
                "reason": "RESTOCK",
            }
        },
        token=world.admin_general,
    )
    assert wrong_type["adjustItemStock"]["__typename"] == "NotFoundError"
    garbage = await gql.data(
        ADJUST,
        {"input": {"itemId": "%%%", "expectedQuantity": 1, "delta": {"quantity": 1}, "reason": "RESTOCK"}},
        token=world.admin_general,
    )
    assert field_errors(garbage["adjustItemStock"]) == [("itemId", "INVALID_ID")]


@pytest.mark.parametrize("role", ["student", "instructor"])
async def test_adjust_stock_by_role_without_permission_is_forbidden(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str
) -> None:
    item = world.items["a1"][1]  # in the caller's own room: visible, not manageable
    result = await gql.execute(
        ADJUST,
        {"input": {"itemId": item_gid(item), "expectedQuantity": 10, "delta": {"quantity": 1}, "reason": "RESTOCK"}},
        token=world.role(role),
    )
    assert error_codes(result) == ["FORBIDDEN"]
    assert stock(await item_row(db, item.id)) == (10, 0, 0, 0, 0)


async def test_adjust_stock_on_retired_item_is_a_conflict(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["a1"][1]
    await gql.data(RETIRE, {"input": {"id": item_gid(item)}}, token=world.supervisor)
    result = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=1)
    assert (result["__typename"], result["message"]) == ("ConflictError", "El elemento está dado de baja.")
    assert [m.reason.value for m in await movements_of(db, item.id)] == ["INITIAL", "RETIRE"]


@pytest.mark.parametrize(
    ("quantity", "damaged", "missing", "condition", "available"),
    [
        (5, 0, 0, "AVAILABLE", 5),
        (5, 1, 0, "PARTIAL", 4),
        (5, 0, 2, "PARTIAL", 3),
        (5, 3, 2, "PARTIAL", 0),  # nothing available, but a mix of buckets
        (5, 5, 0, "DAMAGED", 0),
        (5, 0, 5, "MISSING", 0),
        (1, 1, 0, "DAMAGED", 0),
    ],
)
async def test_condition_is_computed_from_buckets(
    gql: GraphQLClient,
    factory: Factory,
    world: World,
    quantity: int,
    damaged: int,
    missing: int,
    condition: str,
    available: int,
) -> None:
    item = await factory.item(world.a1, quantity=quantity, damaged=damaged, missing=missing)
    data = await gql.data(ITEM, {"id": item_gid(item)}, token=world.student)
    assert (data["item"]["condition"], data["item"]["quantityAvailable"]) == (condition, available)


async def test_condition_in_use_and_maintenance(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory, world: World
) -> None:
    loaned = await factory.item(world.aw, quantity=3)
    repaired = await factory.item(world.aw, quantity=2)
    async with db.begin() as session:
        await session.execute(
            update(models.InventoryItem).where(models.InventoryItem.id == loaned.id).values(quantity_on_loan=3)
        )
        await session.execute(
            update(models.InventoryItem).where(models.InventoryItem.id == repaired.id).values(quantity_in_maintenance=2)
        )
    for item, condition in ((loaned, "IN_USE"), (repaired, "MAINTENANCE")):
        data = await gql.data(ITEM, {"id": item_gid(item)}, token=world.admin)
        assert (data["item"]["condition"], data["item"]["quantityAvailable"]) == (condition, 0)


# ---- the ledger ----------------------------------------------------------------------------------------


async def test_movements_newest_first_with_total_count(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][1]
    await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=2, note="one")
    await adjust(gql, world.supervisor, item, expected=12, reason="LOSS", quantity=-1, note="two")
    await adjust(gql, world.supervisor, item, expected=11, reason="CORRECTION", damaged=1, note="three")
    query = """
    query($id: ID!, $first: Int, $after: String) { item(id: $id) { movements(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { node { reason note quantityAfter } }
    } } }
    """
    data = await gql.data(query, {"id": item_gid(item), "first": 10}, token=world.student)
    movements = data["item"]["movements"]
    assert movements["totalCount"] == 4
    assert [(e["node"]["reason"], e["node"]["note"], e["node"]["quantityAfter"]) for e in movements["edges"]] == [
        ("CORRECTION", "three", 11),
        ("LOSS", "two", 11),
        ("RESTOCK", "one", 12),
        ("INITIAL", None, 10),
    ]
    first_page = (await gql.data(query, {"id": item_gid(item), "first": 3}, token=world.student))["item"]["movements"]
    assert [e["node"]["note"] for e in first_page["edges"]] == ["three", "two", "one"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql.data(
            query, {"id": item_gid(item), "first": 3, "after": first_page["pageInfo"]["endCursor"]}, token=world.student
        )
    )["item"]["movements"]
    assert [e["node"]["reason"] for e in rest["edges"]] == ["INITIAL"]
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"], rest["totalCount"]) == (
        False,
        True,
        4,
    )


async def test_ledger_sums_to_the_item_quantities(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory, world: World
) -> None:
    item = await factory.item(world.aw, quantity=20, damaged=1, missing=2)
    steps = [
        ("RESTOCK", {"quantity": 7}),
        ("CORRECTION", {"damaged": 3}),
        ("LOSS", {"quantity": -2, "missing": -1}),
        ("CORRECTION", {"missing": 4, "damaged": -2}),
        ("RESTOCK", {"quantity": 1}),
        ("LOSS", {"quantity": -3}),
    ]
    expected_quantity = 20
    for reason, delta in steps:
        result = await adjust(gql, world.admin, item, expected=expected_quantity, reason=reason, **delta)
        assert result["__typename"] == "AdjustItemStockPayload", result
        expected_quantity = result["item"]["quantity"]
        assert result["movement"]["quantityAfter"] == expected_quantity
    # Failed attempts in between must leave no trace in the ledger.
    assert (await adjust(gql, world.admin, item, expected=1, reason="RESTOCK", quantity=1))["__typename"] == (
        "ConflictError"
    )
    assert field_errors(await adjust(gql, world.admin, item, expected=expected_quantity, reason="LOSS", quantity=-99))
    async with db() as session:
        m = models.InventoryMovement
        sums = (
            await session.execute(
                select(
                    func.sum(m.delta_quantity),
                    func.sum(m.delta_damaged),
                    func.sum(m.delta_missing),
                    func.sum(m.delta_in_maintenance),
                    func.sum(m.delta_on_loan),
                    func.count(),
                ).where(m.item_id == item.id)
            )
        ).one()
    row = await item_row(db, item.id)
    assert stock(row) == (23, 2, 5, 0, 0)
    assert tuple(sums[:5]) == stock(row)
    assert sums[5] == 1 + len(steps)
    last = (await movements_of(db, item.id))[-1]
    assert last.quantity_after == row.quantity


async def test_ledger_rows_cannot_be_updated_or_deleted(engine: AsyncEngine, world: World) -> None:
    item = world.items["a1"][1]
    for statement in (
        "UPDATE inventory_movements SET delta_quantity = 999 WHERE item_id = :item",
        "DELETE FROM inventory_movements WHERE item_id = :item",
    ):
        with pytest.raises(IntegrityError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement), {"item": item.id})
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT reason, delta_quantity FROM inventory_movements WHERE item_id = :item"), {"item": item.id}
            )
        ).all()
    assert [tuple(r) for r in rows] == [("INITIAL", 10)]


async def test_movement_node_respects_scope(gql: GraphQLClient, world: World) -> None:
    item = world.items["a1"][1]
    result = await adjust(gql, world.supervisor, item, expected=10, reason="RESTOCK", quantity=1)
    movement_id = result["movement"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on InventoryMovement { reason item { id } } } }"
    seen = await gql.data(query, {"id": movement_id}, token=world.student)
    assert seen["node"] == {"id": movement_id, "reason": "RESTOCK", "item": {"id": item_gid(item)}}
    hidden = await gql.data(query, {"id": movement_id}, token=world.student_b)
    assert hidden["node"] is None


# ---- items() ----------------------------------------------------------------------------------------


async def test_item_by_id_respects_scope(gql: GraphQLClient, world: World) -> None:
    item = world.items["b1"][0]
    for actor, visible in (
        (world.student, False),
        (world.supervisor, False),
        (world.admin, False),
        (world.student_b, True),
        (world.admin_general, True),
    ):
        data = await gql.data(ITEM, {"id": item_gid(item)}, token=actor)
        assert (data["item"] is not None) is visible
    # A malformed ID or an ID of another type is null, not an error.
    assert (await gql.data(ITEM, {"id": "nonsense"}, token=world.admin_general))["item"] is None
    assert (await gql.data(ITEM, {"id": env_gid(world.b1)}, token=world.admin_general))["item"] is None


@pytest.mark.parametrize(
    ("role", "environments"),
    [
        ("student", ["a1"]),
        ("instructor", ["a1", "aw"]),
        ("supervisor", ["a1", "a2", "aw"]),
        ("admin", ["aw"]),
        ("admin_general", ["a1", "a2", "aw", "b1", "bw"]),
        ("student_b", ["b1"]),
        ("admin_b", ["bw"]),
    ],
)
async def test_items_scope_per_role(gql: GraphQLClient, world: World, role: str, environments: list[str]) -> None:
    data = await gql.data(ITEMS, {"first": 100}, token=world.role(role))
    expected = {item_gid(item) for env in environments for item in world.items[env]}
    assert {edge["node"]["id"] for edge in data["items"]["edges"]} == expected
    assert data["items"]["totalCount"] == len(expected)


async def test_items_environment_filter_narrows_never_widens(gql: GraphQLClient, world: World) -> None:
    where = {"environmentIds": [env_gid(world.a1), env_gid(world.b1)]}
    everything = await gql.data(ITEMS, {"where": where, "first": 100}, token=world.admin_general)
    assert {e["node"]["id"] for e in everything["items"]["edges"]} == {
        item_gid(item) for env in ("a1", "b1") for item in world.items[env]
    }
    student = await gql.data(ITEMS, {"where": where, "first": 100}, token=world.student)
    assert {e["node"]["id"] for e in student["items"]["edges"]} == {item_gid(i) for i in world.items["a1"]}
    only_b = await gql.data(ITEMS, {"where": {"environmentIds": [env_gid(world.b1)]}}, token=world.student)
    assert only_b["items"] == {"totalCount": 0, "edges": []}
    # IDs of another type or garbage match nothing.
    junk = {"environmentIds": [gid("Center", world.center_a.id), "garbage"]}
    assert (await gql.data(ITEMS, {"where": junk}, token=world.admin_general))["items"]["totalCount"] == 0
    assert (await gql.data(ITEMS, {"where": {"environmentIds": []}}, token=world.admin_general))["items"][
        "totalCount"
    ] == 0


async def test_items_category_type_and_availability_filters(gql: GraphQLClient, factory: Factory, world: World) -> None:
    env = world.a2
    tv = await factory.item(env, quantity=2, category=models.ItemCategory.TV)
    broken = await factory.item(env, quantity=3, damaged=1, missing=2, category=models.ItemCategory.MOUSE)
    mouse = await factory.item(env, quantity=1, category=models.ItemCategory.MOUSE)
    computers = world.items["a2"]  # COMPUTER: individual and group of 10
    base = {"environmentIds": [env_gid(env)]}

    async def ids(**where: Any) -> set[str]:
        data = await gql.data(ITEMS, {"where": {**base, **where}, "first": 100}, token=world.supervisor)
        assert data["items"]["totalCount"] == len(data["items"]["edges"])
        return {edge["node"]["id"] for edge in data["items"]["edges"]}

    assert await ids(categories=["MOUSE"]) == {item_gid(broken), item_gid(mouse)}
    assert await ids(categories=["MOUSE", "TV"]) == {item_gid(broken), item_gid(mouse), item_gid(tv)}
    assert await ids(categories=["CAMERA"]) == set()
    assert await ids(itemTypes=["INDIVIDUAL"]) == {item_gid(mouse), item_gid(computers[0])}
    assert await ids(itemTypes=["GROUP"]) == {item_gid(tv), item_gid(broken), item_gid(computers[1])}
    assert await ids(onlyAvailable=True) == {item_gid(tv), item_gid(mouse), *map(item_gid, computers)}
    assert await ids(onlyAvailable=True, categories=["MOUSE"], itemTypes=["INDIVIDUAL"]) == {item_gid(mouse)}


async def test_items_search_is_literal_and_case_insensitive(gql: GraphQLClient, factory: Factory, world: World) -> None:
    env = world.b1
    percent = await factory.item(env, name="Discount 50% cable", internal_code="SRCH-1")
    underscore = await factory.item(env, name="Port 5_0 hub", internal_code="SRCH-2")
    quote = await factory.item(env, name="O'Brien projector", internal_code="SRCH-3")
    plain = await factory.item(env, name="Discount 500 cable", internal_code="SRCH-4", serial_number="XY-99-Z")
    backslash = await factory.item(env, name="Path C:\\temp", internal_code="SRCH-5")

    async def ids(search: str) -> set[str]:
        where = {"environmentIds": [env_gid(env)], "search": search}
        data = await gql.data(ITEMS, {"where": where, "first": 100}, token=world.student_b)
        return {edge["node"]["id"] for edge in data["items"]["edges"]}

    assert await ids("%") == {item_gid(percent)}
    assert await ids("50%") == {item_gid(percent)}
    assert await ids("_") == {item_gid(underscore)}
    assert await ids("5_0") == {item_gid(underscore)}
    assert await ids("'") == {item_gid(quote)}
    assert await ids("o'brien") == {item_gid(quote)}
    assert await ids("\\") == {item_gid(backslash)}
    assert await ids("DISCOUNT") == {item_gid(percent), item_gid(plain)}
    assert await ids("srch-4") == {item_gid(plain)}  # internal code
    assert await ids("xy-99") == {item_gid(plain)}  # serial number
    assert await ids("  500  ") == {item_gid(plain)}  # trimmed
    assert await ids("no such thing") == set()
    # Search narrows the caller's scope, never widens it.
    data = await gql.data(ITEMS, {"where": {"search": "Discount"}, "first": 100}, token=world.student)
    assert data["items"]["totalCount"] == 0


ORDER_FIELDS = {
    "NAME": "name",
    "INTERNAL_CODE": "internalCode",
    "QUANTITY": "quantity",
    "CREATED_AT": "createdAt",
    "UPDATED_AT": "updatedAt",
}


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", list(ORDER_FIELDS))
async def test_items_order_by(gql: GraphQLClient, factory: Factory, field: str, direction: str) -> None:
    center = await factory.center()
    env = await factory.environment(center)
    actor = await factory.user(models.Role.ADMIN_GENERAL)
    # Names and codes use only upper-case letters and digits, so every collation agrees.
    specs = [("DELTA", "K3", 5), ("ALPHA", "K9", 2), ("CHARLIE", "K1", 5), ("BRAVO", "K7", 9), ("ECHO", "K5", 1)]
    for name, code, quantity in specs:
        await factory.item(env, name=name, internal_code=code, quantity=quantity)
    # Touch one item so UPDATED_AT differs from CREATED_AT order.
    async with factory.db.begin() as session:
        await session.execute(
            update(models.InventoryItem).where(models.InventoryItem.name == "ALPHA").values(updated_at=func.now())
        )
    data = await gql.data(ITEMS, {"orderBy": {"field": field, "direction": direction}, "first": 100}, token=actor)
    nodes = [edge["node"] for edge in data["items"]["edges"]]
    key = ORDER_FIELDS[field]

    def sort_value(node: dict[str, Any]) -> Any:
        value = node[key]
        if key in {"createdAt", "updatedAt"}:
            value = datetime.fromisoformat(value)
        return (value, uuid_of(node["id"]))

    assert len(nodes) == 5
    assert nodes == sorted(nodes, key=sort_value, reverse=direction == "DESC")
    if field == "NAME":
        expected = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"]
        assert [n["name"] for n in nodes] == (expected if direction == "ASC" else expected[::-1])
    if field == "QUANTITY":
        expected_q = [1, 2, 5, 5, 9]
        assert [n["quantity"] for n in nodes] == (expected_q if direction == "ASC" else expected_q[::-1])
    if field == "UPDATED_AT":
        assert nodes[-1 if direction == "ASC" else 0]["name"] == "ALPHA"


async def test_items_default_order_is_by_name(gql: GraphQLClient, factory: Factory) -> None:
    center = await factory.center()
    env = await factory.environment(center)
    actor = await factory.user(models.Role.SUPERVISOR, env)
    for name in ("ZULU", "MIKE", "ALPHA"):
        await factory.item(env, name=name)
    data = await gql.data(ITEMS, {}, token=actor)
    assert [e["node"]["name"] for e in data["items"]["edges"]] == ["ALPHA", "MIKE", "ZULU"]
