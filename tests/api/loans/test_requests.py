"""createLoan over GraphQL: who may ask for what, the checks of a request, the warehouse's
administrators told, idempotency keys (same input, other input, concurrent first use)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.settings import Settings
from tests.api.loans.graphql import call, field_codes, request_input
from tests.api.loans.helpers import today
from tests.conftest import Actor, Factory, GraphQLClient, World, error_codes, gid

NOTIFICATIONS = "{ notifications(first: 10) { edges { node { kind title body subject { id } } } } }"


async def count(db: async_sessionmaker[AsyncSession], model: Any, *conditions: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def test_an_instructor_requests_an_item_of_a_warehouse_of_their_center(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    item = world.items["aw"][1]
    values = request_input(world.aw, day, day + timedelta(days=2), item=item, quantity=3, priority="HIGH")
    result = await call(gql, "createLoan", values, world.instructor)
    assert result["__typename"] == "LoanPayload", result
    loan = result["loan"]
    assert loan["status"] == "PENDING"
    assert (loan["quantity"], loan["priority"], loan["purpose"]) == (3, "HIGH", "Taller de redes")
    assert loan["item"] == {"id": gid("InventoryItem", item.id)}
    assert loan["warehouse"] == {"id": gid("Environment", world.aw.id)}
    assert loan["requester"] == {"id": world.instructor.gid}
    assert (loan["startDate"], loan["endDate"]) == (day.isoformat(), (day + timedelta(days=2)).isoformat())
    assert loan["itemDescription"] is None
    assert loan["isOverdue"] is False
    # Nothing is reserved or moved by a request.
    assert await count(db, models.InventoryMovement, models.InventoryMovement.loan_id.isnot(None)) == 0
    # The warehouse's administrator is told; the requester is not.
    data = await gql.data(NOTIFICATIONS, token=world.admin)
    (notice,) = [edge["node"] for edge in data["notifications"]["edges"]]
    assert notice["kind"] == "loan.requested"
    assert notice["subject"] == {"id": loan["id"]}
    assert notice["title"] == "Nueva solicitud de préstamo"
    assert "3 ×" in notice["body"]
    assert world.instructor.user.first_name in notice["body"]
    assert (await gql.data(NOTIFICATIONS, token=world.instructor))["notifications"]["edges"] == []
    # The event for loanChanged and the audit entry are in the same transaction.
    assert await count(db, models.OutboxEvent, models.OutboxEvent.topic == "loan") == 1
    assert (
        await count(
            db, models.AuditLog, models.AuditLog.operation == "createLoan", models.AuditLog.entity_type == "loans"
        )
        == 1
    )


async def test_the_administrator_reads_the_request_in_their_language(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.UserSettings)
            .where(models.UserSettings.user_id == world.admin.id)
            .values(language=models.Language.EN)
        )
    day = today(settings)
    values = request_input(world.aw, day, day, description="HDMI cable 10 m", quantity=2)
    assert (await call(gql, "createLoan", values, world.instructor))["__typename"] == "LoanPayload"
    (edge,) = (await gql.data(NOTIFICATIONS, token=world.admin))["notifications"]["edges"]
    assert edge["node"]["title"] == "New loan request"
    assert "2 × HDMI cable 10 m" in edge["node"]["body"]


async def test_an_admin_requests_from_their_own_warehouse_and_is_not_told_of_it(
    gql: GraphQLClient, settings: Settings, world: World
) -> None:
    day = today(settings)
    result = await call(gql, "createLoan", request_input(world.aw, day, day, item=world.items["aw"][0]), world.admin)
    assert result["__typename"] == "LoanPayload", result
    assert result["loan"]["requester"] == {"id": world.admin.gid}
    assert (await gql.data(NOTIFICATIONS, token=world.admin))["notifications"]["edges"] == []


async def test_an_unregistered_item_has_no_stock_behind_it(
    gql: GraphQLClient, settings: Settings, world: World
) -> None:
    day = today(settings)
    values = request_input(world.aw, day, day, description="  Extensión eléctrica  ", quantity=50)
    result = await call(gql, "createLoan", values, world.instructor)
    assert result["__typename"] == "LoanPayload", result
    assert result["loan"]["item"] is None
    assert result["loan"]["itemDescription"] == "Extensión eléctrica"


@pytest.mark.parametrize("role", ["student", "supervisor", "admin_general"])
async def test_other_roles_may_not_request(gql: GraphQLClient, settings: Settings, world: World, role: str) -> None:
    day = today(settings)
    response = await gql.execute(
        "mutation($input: CreateLoanInput!) { createLoan(input: $input) { __typename } }",
        {"input": request_input(world.aw, day, day, description="x")},
        token=world.role(role),
    )
    assert error_codes(response) == ["FORBIDDEN"]


async def test_warehouses_out_of_reach_look_missing(
    gql: GraphQLClient, settings: Settings, world: World, factory: Factory
) -> None:
    day = today(settings)
    another_warehouse_a = await factory.environment(world.center_a, code="AW2", is_warehouse=True)
    cases: list[tuple[Actor, models.Environment]] = [
        (world.instructor, world.bw),  # a warehouse of another center
        (world.admin, another_warehouse_a),  # not the admin's own warehouse
        (world.admin_b, world.aw),
    ]
    for actor, warehouse in cases:
        result = await call(gql, "createLoan", request_input(warehouse, day, day, description="x"), actor)
        assert result["__typename"] == "NotFoundError", (actor.user.email, result)
    # The instructor may ask the center's second warehouse.
    ok = await call(gql, "createLoan", request_input(another_warehouse_a, day, day, description="x"), world.instructor)
    assert ok["__typename"] == "LoanPayload"


async def test_the_checks_of_a_request(gql: GraphQLClient, settings: Settings, world: World, factory: Factory) -> None:
    day = today(settings)
    group = world.items["aw"][1]  # 10 units
    damaged = await factory.item(world.aw, quantity=5, damaged=2, missing=1)
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        (request_input(world.a1, day, day, description="x"), [("warehouseId", "NOT_A_WAREHOUSE")]),
        (request_input(world.aw, day, day), [("itemId", "ITEM_OR_DESCRIPTION")]),
        (request_input(world.aw, day, day, item=group, description="x"), [("itemDescription", "ITEM_OR_DESCRIPTION")]),
        (request_input(world.aw, day, day, item=world.items["a1"][1]), [("itemId", "ITEM_NOT_IN_WAREHOUSE")]),
        # World B's item: the same answer as a missing one.
        (request_input(world.aw, day, day, item=world.items["bw"][1]), [("itemId", "NOT_FOUND")]),
        (request_input(world.aw, day, day, item=group, quantity=11), [("quantity", "EXCEEDS_LENDABLE")]),
        (request_input(world.aw, day, day, item=damaged, quantity=3), [("quantity", "EXCEEDS_LENDABLE")]),
        (request_input(world.aw, day, day, item=group, quantity=0), [("quantity", "MIN_VALUE")]),
        (request_input(world.aw, day - timedelta(days=1), day, description="x"), [("startDate", "DATE_IN_PAST")]),
        (request_input(world.aw, day, day - timedelta(days=1), description="x"), [("endDate", "DATE_ORDER")]),
        (request_input(world.aw, day, day + timedelta(days=366), description="x"), [("endDate", "LOAN_TOO_LONG")]),
        (request_input(world.aw, day, day, description="x", purpose="   "), [("purpose", "BLANK")]),
        (request_input(world.aw, day, day, description="x" * 201), [("itemDescription", "TOO_LONG")]),
        (
            request_input(world.aw, day, day, description="x", idempotencyKey="k" * 101),
            [("idempotencyKey", "TOO_LONG")],
        ),
    ]
    for values, expected in cases:
        result = await call(gql, "createLoan", values, world.instructor)
        assert field_codes(result) == expected, values
    # The longest loan there may be: 366 days.
    longest = request_input(world.aw, day, day + timedelta(days=365), description="x")
    assert (await call(gql, "createLoan", longest, world.instructor))["__typename"] == "LoanPayload"


async def test_a_retired_item_cannot_be_requested(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    item = world.items["aw"][1]
    retire = "mutation($input: RetireItemInput!) { retireItem(input: $input) { __typename } }"
    await gql.data(retire, {"input": {"id": gid("InventoryItem", item.id)}}, token=world.admin)
    result = await call(gql, "createLoan", request_input(world.aw, day, day, item=item), world.instructor)
    assert field_codes(result) == [("itemId", "ITEM_RETIRED")]
    assert await count(db, models.Loan) == 0


# ---- idempotency keys ----------------------------------------------------------------------


async def test_the_same_key_and_input_return_the_first_loan(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    values = request_input(world.aw, day, day, item=world.items["aw"][1], idempotencyKey="req-1")
    first = await call(gql, "createLoan", values, world.instructor)
    # Blanks around the text fields do not make it another request.
    again = await call(gql, "createLoan", {**values, "purpose": "  Taller de redes "}, world.instructor)
    assert again == first
    assert await count(db, models.Loan) == 1
    assert await count(db, models.Notification, models.Notification.kind == "loan.requested") == 1
    assert await count(db, models.OutboxEvent, models.OutboxEvent.topic == "loan") == 1
    # Two successful calls were audited, one created the loan.
    async with db() as session:
        entries = (
            await session.scalars(select(models.AuditLog).where(models.AuditLog.operation == "createLoan"))
        ).all()
    assert [entry.outcome for entry in entries] == [models.AuditOutcome.SUCCESS] * 2
    assert sorted(len(entry.changes) for entry in entries) == [0, 1]
    # The same key by someone else is their own key.
    other = await call(gql, "createLoan", values, world.admin)
    assert other["__typename"] == "LoanPayload"
    assert other["loan"]["id"] != first["loan"]["id"]


async def test_the_first_result_is_returned_even_after_the_loan_moved_on(
    gql: GraphQLClient, settings: Settings, world: World
) -> None:
    day = today(settings)
    values = request_input(world.aw, day, day, description="Router", idempotencyKey="req-2")
    first = await call(gql, "createLoan", values, world.instructor)
    cancel = await call(gql, "cancelLoan", {"id": first["loan"]["id"]}, world.instructor)
    assert cancel["loan"]["status"] == "CANCELLED"
    again = await call(gql, "createLoan", values, world.instructor)
    assert again["loan"]["id"] == first["loan"]["id"]
    assert again["loan"]["status"] == "CANCELLED"


async def test_the_same_key_with_another_input_is_a_validation_error(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    values = request_input(world.aw, day, day, description="Router", idempotencyKey="req-3")
    await call(gql, "createLoan", values, world.instructor)
    for changed in ({"quantity": 2}, {"description": "Switch"}, {"endDate": (day + timedelta(days=1)).isoformat()}):
        key = "itemDescription" if "description" in changed else next(iter(changed))
        result = await call(gql, "createLoan", {**values, key: next(iter(changed.values()))}, world.instructor)
        assert field_codes(result) == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    assert await count(db, models.Loan) == 1


async def test_twenty_concurrent_first_uses_of_a_key_make_one_loan(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    values = request_input(world.aw, day, day, item=world.items["aw"][1], idempotencyKey="burst")
    results = await asyncio.gather(*(call(gql, "createLoan", values, world.instructor) for _ in range(20)))
    assert Counter(result["__typename"] for result in results) == {"LoanPayload": 20}
    assert len({result["loan"]["id"] for result in results}) == 1
    assert await count(db, models.Loan) == 1
    assert await count(db, models.Notification, models.Notification.kind == "loan.requested") == 1
    # Another input under the key, concurrently with the first uses: refused, never a second loan.
    mixed = [values] * 10 + [{**values, "quantity": 2}] * 10
    results = await asyncio.gather(*(call(gql, "createLoan", v, world.instructor) for v in mixed))
    assert Counter(result["__typename"] for result in results) == {"LoanPayload": 10, "ValidationError": 10}
    assert await count(db, models.Loan) == 1
