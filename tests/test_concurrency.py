"""Concurrent mutations against the same rows: exactly one winner, typed errors for the rest,
and nothing half-written. The in-process app serves the gathered requests concurrently, each in
its own transaction on its own pooled connection."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import GraphQLClient, World, gid

ADJUST = """
mutation($input: AdjustItemStockInput!) {
  adjustItemStock(input: $input) {
    __typename
    ... on AdjustItemStockPayload { item { quantity quantityDamaged } movement { quantityAfter } }
    ... on Error { code message }
    ... on ValidationError { fieldErrors { field code } }
  }
}
"""
CREATE = """
mutation($input: CreateItemInput!) {
  createItem(input: $input) {
    __typename
    ... on ItemPayload { item { id } }
    ... on Error { code }
    ... on ValidationError { fieldErrors { field code } }
  }
}
"""
RETIRE = """
mutation($input: RetireItemInput!) {
  retireItem(input: $input) { __typename ... on ItemPayload { item { status } } ... on Error { code message } }
}
"""


async def gather(gql: GraphQLClient, query: str, inputs: list[dict[str, Any]], actor: Any) -> list[dict[str, Any]]:
    responses = await asyncio.gather(*(gql.execute(query, {"input": values}, token=actor) for values in inputs))
    results = []
    for response in responses:
        # No top-level error (no INTERNAL, no DB_UNAVAILABLE from an exhausted pool).
        assert not response.get("errors"), response["errors"]
        (result,) = response["data"].values()
        results.append(result)
    return results


async def movements(db: async_sessionmaker[AsyncSession], item_id: Any) -> list[models.InventoryMovement]:
    async with db() as session:
        rows = await session.scalars(
            select(models.InventoryMovement)
            .where(models.InventoryMovement.item_id == item_id)
            .order_by(models.InventoryMovement.created_at)
        )
        return list(rows.all())


async def audit_outcomes(db: async_sessionmaker[AsyncSession], operation: str) -> Counter[tuple[str, str | None]]:
    async with db() as session:
        rows = await session.execute(
            select(models.AuditLog.outcome, models.AuditLog.error_code).where(models.AuditLog.operation == operation)
        )
        return Counter((outcome.value, code) for outcome, code in rows.all())


async def test_concurrent_restock_with_same_expected_quantity(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    item = world.items["aw"][1]  # quantity 10
    values = {
        "itemId": gid("InventoryItem", item.id),
        "expectedQuantity": 10,
        "delta": {"quantity": 1},
        "reason": "RESTOCK",
    }
    results = await gather(gql, ADJUST, [values] * 20, world.admin)
    kinds = Counter(result["__typename"] for result in results)
    assert kinds == {"AdjustItemStockPayload": 1, "ConflictError": 19}
    [winner] = [r for r in results if r["__typename"] == "AdjustItemStockPayload"]
    assert (winner["item"]["quantity"], winner["movement"]["quantityAfter"]) == (11, 11)
    messages = {r["message"] for r in results if r["__typename"] == "ConflictError"}
    assert messages == {"La cantidad cambió mientras tanto (esperada 10, actual 11)."}
    rows = await movements(db, item.id)
    assert [(m.reason.value, m.delta_quantity, m.quantity_after) for m in rows] == [
        ("INITIAL", 10, 10),
        ("RESTOCK", 1, 11),
    ]
    async with db() as session:
        row = await session.get(models.InventoryItem, item.id)
    assert row is not None
    assert row.quantity == 11
    assert await audit_outcomes(db, "adjustItemStock") == {("SUCCESS", None): 1, ("FAILURE", "CONFLICT"): 19}


async def test_concurrent_restock_each_with_fresh_expectation_serialises(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    """Bucket corrections do not change `quantity`, so every request passes the compare-and-swap;
    the row lock serialises them and the CHECK constraint stops the eleventh."""
    item = world.items["a1"][1]  # quantity 10
    values = {
        "itemId": gid("InventoryItem", item.id),
        "expectedQuantity": 10,
        "delta": {"damaged": 1},
        "reason": "CORRECTION",
    }
    results = await gather(gql, ADJUST, [values] * 15, world.supervisor)
    kinds = Counter(result["__typename"] for result in results)
    assert kinds == {"AdjustItemStockPayload": 10, "ValidationError": 5}
    errors = {
        (e["field"], e["code"]) for r in results if r["__typename"] == "ValidationError" for e in r["fieldErrors"]
    }
    assert errors == {("delta", "BUCKETS_EXCEED_QUANTITY")}
    # No lost update: each success saw a different damaged count.
    assert sorted(r["item"]["quantityDamaged"] for r in results if r["__typename"] == "AdjustItemStockPayload") == list(
        range(1, 11)
    )
    rows = await movements(db, item.id)
    assert Counter(m.reason.value for m in rows) == {"INITIAL": 1, "CORRECTION": 10}
    async with db() as session:
        row = await session.get(models.InventoryItem, item.id)
    assert row is not None
    assert (row.quantity, row.quantity_damaged) == (10, 10)
    assert await audit_outcomes(db, "adjustItemStock") == {
        ("SUCCESS", None): 10,
        ("FAILURE", "VALIDATION_FAILED"): 5,
    }


async def test_concurrent_create_with_same_internal_code(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    inputs = [
        {
            "environmentId": gid("Environment", world.aw.id),
            "name": f"Racer {n}",
            "internalCode": "RACE-1",
            "category": "CAMERA",
            "itemType": "GROUP",
            "quantity": 3,
        }
        for n in range(20)
    ]
    results = await gather(gql, CREATE, inputs, world.admin)
    kinds = Counter(result["__typename"] for result in results)
    assert kinds == {"ItemPayload": 1, "ValidationError": 19}
    errors = {
        (e["field"], e["code"]) for r in results if r["__typename"] == "ValidationError" for e in r["fieldErrors"]
    }
    assert errors == {("internalCode", "INTERNAL_CODE_TAKEN")}
    async with db() as session:
        rows = list(
            (
                await session.scalars(
                    select(models.InventoryItem).where(models.InventoryItem.internal_code == "RACE-1")
                )
            ).all()
        )
        movement_count = await session.scalar(
            select(func.count())
            .select_from(models.InventoryMovement)
            .join(models.InventoryItem, models.InventoryItem.id == models.InventoryMovement.item_id)
            .where(models.InventoryItem.internal_code == "RACE-1")
        )
    assert len(rows) == 1
    assert movement_count == 1
    assert await audit_outcomes(db, "createItem") == {("SUCCESS", None): 1, ("FAILURE", "VALIDATION_FAILED"): 19}


async def test_concurrent_retire(gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World) -> None:
    item = world.items["b1"][1]
    results = await gather(gql, RETIRE, [{"id": gid("InventoryItem", item.id)}] * 10, world.admin_general)
    kinds = Counter(result["__typename"] for result in results)
    assert kinds == {"ItemPayload": 1, "ConflictError": 9}
    rows = await movements(db, item.id)
    assert [m.reason.value for m in rows] == ["INITIAL", "RETIRE"]
    assert await audit_outcomes(db, "retireItem") == {("SUCCESS", None): 1, ("FAILURE", "CONFLICT"): 9}


async def test_concurrent_adjust_and_retire(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    """A restock racing a retirement: either order is fine, but never a stock change after the
    item is retired."""
    item = world.items["a2"][1]
    adjust = gql.execute(
        ADJUST,
        {
            "input": {
                "itemId": gid("InventoryItem", item.id),
                "expectedQuantity": 10,
                "delta": {"quantity": 2},
                "reason": "RESTOCK",
            }
        },
        token=world.supervisor,
    )
    retire = gql.execute(RETIRE, {"input": {"id": gid("InventoryItem", item.id)}}, token=world.supervisor)
    adjusted, retired = await asyncio.gather(adjust, retire)
    assert retired["data"]["retireItem"]["__typename"] == "ItemPayload"
    reasons = [m.reason.value for m in await movements(db, item.id)]
    if adjusted["data"]["adjustItemStock"]["__typename"] == "AdjustItemStockPayload":
        assert reasons == ["INITIAL", "RESTOCK", "RETIRE"]
    else:
        assert adjusted["data"]["adjustItemStock"]["__typename"] == "ConflictError"
        assert reasons == ["INITIAL", "RETIRE"]
