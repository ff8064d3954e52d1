"""The loan state machine over GraphQL: each transition's effects (decisions, ledger
movements, notifications, alerts, events), who may apply it, and that a transition from any
wrong state is a ConflictError that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import items
from graphql_api.services.ledger import StockDelta
from graphql_api.settings import Settings
from tests.api.loans.graphql import act, call, field_codes, request_input
from tests.api.loans.helpers import PATHS, ledger_adds_up, make_loan, snapshot, status_of, today
from tests.conftest import Factory, GraphQLClient, World, gid

Status = models.LoanStatus
# transition -> the states it may start from, and who applies it ("decider" or "requester")
ALLOWED: dict[str, tuple[set[Status], str]] = {
    "approveLoan": ({Status.PENDING}, "decider"),
    "rejectLoan": ({Status.PENDING}, "decider"),
    "cancelLoan": ({Status.PENDING}, "requester"),
    "deliverLoan": ({Status.APPROVED}, "decider"),
    "returnLoan": ({Status.DELIVERED, Status.OVERDUE}, "decider"),
}
EXTRA = {"rejectLoan": {"reason": "No hay"}, "returnLoan": {"returned": 1}}


async def movements_of(db: async_sessionmaker[AsyncSession], loan_id: Any) -> list[models.InventoryMovement]:
    async with db() as session:
        rows = await session.scalars(
            select(models.InventoryMovement)
            .where(models.InventoryMovement.loan_id == loan_id)
            .order_by(models.InventoryMovement.created_at)
        )
        return list(rows.all())


async def kinds_for(db: async_sessionmaker[AsyncSession], user_id: Any) -> list[str]:
    async with db() as session:
        rows = await session.scalars(
            select(models.Notification.kind)
            .where(models.Notification.recipient_id == user_id)
            .order_by(models.Notification.created_at)
        )
        return list(rows.all())


async def alerts(db: async_sessionmaker[AsyncSession]) -> list[tuple[models.AlertType, str, Any, models.AlertStatus]]:
    async with db() as session:
        rows = await session.execute(
            select(
                models.SystemAlert.alert_type,
                models.SystemAlert.subject_type,
                models.SystemAlert.subject_id,
                models.SystemAlert.status,
            )
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_a_loan_from_request_to_return(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    item = world.items["aw"][1]  # 10 units
    values = request_input(world.aw, day, day + timedelta(days=3), item=item, quantity=4)
    loan = (await call(gql, "createLoan", values, world.instructor))["loan"]

    approved = await act(gql, "approveLoan", loan["id"], world.admin)
    assert approved["loan"]["status"] == "APPROVED"
    assert approved["loan"]["approvedBy"] == {"id": world.admin.gid}
    assert approved["loan"]["approvedAt"] is not None
    assert await movements_of(db, _uuid(loan)) == []  # a reservation moves nothing

    delivered = await act(gql, "deliverLoan", loan["id"], world.admin)
    assert delivered["loan"]["status"] == "DELIVERED"
    assert delivered["loan"]["deliveredBy"] == {"id": world.admin.gid}
    (out,) = await movements_of(db, _uuid(loan))
    assert (out.reason, out.delta_on_loan, out.delta_quantity, out.actor_id) == (
        models.MovementReason.LOAN_OUT, 4, 0, world.admin.id,
    )  # fmt: skip
    stocked = await ledger_adds_up(db, item.id)
    assert (stocked.quantity_on_loan, stocked.quantity_available) == (4, 6)

    returned = await act(
        gql, "returnLoan", loan["id"], world.admin, returned=2, damaged=1, missing=1, notes="Una pantalla rota"
    )
    assert returned["__typename"] == "LoanPayload", returned
    fields = returned["loan"]
    assert fields["status"] == "RETURNED"
    assert (fields["returnedQuantity"], fields["returnedDamaged"], fields["returnedMissing"]) == (2, 1, 1)
    assert (fields["returnDate"], fields["returnNotes"]) == (day.isoformat(), "Una pantalla rota")
    assert fields["receivedBy"] == {"id": world.admin.gid}
    back = (await movements_of(db, _uuid(loan)))[1]
    assert back.reason is models.MovementReason.LOAN_RETURN
    assert (back.delta_on_loan, back.delta_damaged, back.delta_missing, back.delta_quantity) == (-4, 1, 1, 0)
    stocked = await ledger_adds_up(db, item.id)
    assert (stocked.quantity_on_loan, stocked.quantity_damaged, stocked.quantity_missing) == (0, 1, 1)
    assert await alerts(db) == [
        (models.AlertType.EQUIPMENT_MISSING, "Loan", _uuid(loan), models.AlertStatus.OPEN),
    ]
    # Every transition told the requester and published loanChanged (with the request: 4).
    assert await kinds_for(db, world.instructor.id) == ["loan.approved", "loan.delivered", "loan.returned"]
    async with db() as session:
        topics = await session.scalar(
            select(func.count()).select_from(models.OutboxEvent).where(models.OutboxEvent.topic == "loan")
        )
    assert topics == 4


def _uuid(loan: dict[str, Any]) -> Any:
    from graphql_api.api.core.relay import decode_id

    return decode_id(loan["id"], "Loan")


async def test_rejection_needs_a_reason_and_tells_it(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=world.items["aw"][1])
    assert field_codes(await act(gql, "rejectLoan", loan, world.admin, reason="  ")) == [("reason", "BLANK")]
    assert await status_of(db, loan.id) is Status.PENDING
    result = await act(gql, "rejectLoan", loan, world.admin_general, reason="Sin unidades ese día")
    assert result["loan"]["status"] == "REJECTED"
    assert result["loan"]["rejectionReason"] == "Sin unidades ese día"
    assert result["loan"]["rejectedBy"] == {"id": world.admin_general.gid}
    notice = await gql.data("{ notifications(first: 5) { edges { node { kind body } } } }", token=world.instructor)
    (edge,) = notice["notifications"]["edges"]
    assert edge["node"]["kind"] == "loan.rejected"
    assert edge["node"]["body"].endswith("Sin unidades ese día")


async def test_only_the_requester_cancels(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory
) -> None:
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, description="Router")
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    # The warehouse's admin sees the loan but may not cancel it; another instructor does not see it.
    assert (await act(gql, "cancelLoan", loan, world.admin))["__typename"] == "PermissionDeniedError"
    assert (await act(gql, "cancelLoan", loan, colleague))["__typename"] == "NotFoundError"
    assert await status_of(db, loan.id) is Status.PENDING
    result = await act(gql, "cancelLoan", loan, world.instructor)
    assert result["loan"]["status"] == "CANCELLED"
    assert result["loan"]["cancelledAt"] is not None


async def test_the_decisions_belong_to_the_warehouse(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, description="Router")
    # Another warehouse's admin: the loan looks missing, exactly like one that does not exist.
    foreign = await act(gql, "approveLoan", loan, world.admin_b)
    missing = await call(gql, "approveLoan", {"id": gid("Loan", world.admin_b.id)}, world.admin_b)
    assert foreign["__typename"] == "NotFoundError"
    assert foreign == missing
    assert (await act(gql, "approveLoan", loan, world.admin_general))["loan"]["status"] == "APPROVED"


@pytest.mark.parametrize("name", sorted(ALLOWED))
async def test_every_wrong_state_is_a_conflict_that_changes_nothing(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
    factory: Factory,
    name: str,
) -> None:
    allowed, who = ALLOWED[name]
    item = await factory.item(world.aw, quantity=20)
    # OVERDUE first: the job marks every delivered loan due before the day it is given.
    states = [Status.OVERDUE, *(status for status in PATHS if status is not Status.OVERDUE)]
    loans = {
        status: await make_loan(
            db, settings, world.instructor, world.admin, world.aw, status=status, item=item, start=i * 3
        )
        for i, status in enumerate(states)
    }
    assert {status: await status_of(db, loan.id) for status, loan in loans.items()} == {s: s for s in states}
    actor = world.instructor if who == "requester" else world.admin
    for status in set(states) - allowed:
        before = await snapshot(db)
        result = await act(gql, name, loans[status], actor, **EXTRA.get(name, {}))
        assert result["__typename"] == "ConflictError", (name, status, result)
        assert status.value in result["message"]
        assert await snapshot(db) == before, (name, status)
    async with db() as session:
        outcomes = (
            await session.scalars(select(models.AuditLog.outcome).where(models.AuditLog.operation == name))
        ).all()
    assert outcomes == [models.AuditOutcome.FAILURE] * (len(states) - len(allowed))
    await ledger_adds_up(db, item.id)


async def test_return_counts_and_date_are_checked(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    loan = await make_loan(
        db,
        settings,
        world.instructor,
        world.admin,
        world.aw,
        status=Status.DELIVERED,
        item=world.items["aw"][1],
        quantity=3,
    )
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"returned": 2}, [("returned", "RETURN_COUNTS")]),
        ({"returned": 2, "damaged": 2}, [("returned", "RETURN_COUNTS")]),
        ({"returned": 4, "missing": -1}, [("missing", "MIN_VALUE")]),
        ({"returned": 3, "returnDate": (day + timedelta(days=1)).isoformat()}, [("returnDate", "DATE_IN_FUTURE")]),
        ({"returned": 3, "returnDate": (day - timedelta(days=1)).isoformat()}, [("returnDate", "BEFORE_DELIVERY")]),
    ]
    for values, expected in cases:
        before = await snapshot(db)
        assert field_codes(await act(gql, "returnLoan", loan, world.admin, **values)) == expected, values
        assert await snapshot(db) == before
    result = await act(gql, "returnLoan", loan, world.admin, returned=3, returnDate=day.isoformat())
    assert result["loan"]["status"] == "RETURNED"
    assert await alerts(db) == []  # nothing missing, no alert
    await ledger_adds_up(db, world.items["aw"][1].id)


async def test_an_unregistered_item_moves_no_stock(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    loan = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.DELIVERED, description="Cable", quantity=5
    )
    result = await act(gql, "returnLoan", loan, world.admin, returned=4, missing=1)
    assert result["loan"]["status"] == "RETURNED"
    async with db() as session:
        moved = await session.scalar(select(func.count()).select_from(models.InventoryMovement).where(
            models.InventoryMovement.loan_id.isnot(None)
        ))  # fmt: skip
    assert moved == 0
    # Missing equipment is missing, registered or not.
    assert await alerts(db) == [(models.AlertType.EQUIPMENT_MISSING, "Loan", loan.id, models.AlertStatus.OPEN)]


async def test_delivery_needs_the_units_in_the_warehouse_now(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]  # 10 units
    loan = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.APPROVED, item=item, quantity=10
    )
    # Since the approval, one unit went to maintenance.
    async with db.begin() as session:
        await items.adjust_item_stock(
            session, world.admin.principal, item.id, expected_quantity=10,
            delta=StockDelta(damaged=1), reason=models.MovementReason.CORRECTION, note=None,
        )  # fmt: skip
    before = await snapshot(db)
    result = await act(gql, "deliverLoan", loan, world.admin)
    assert result["__typename"] == "ConflictError", result
    assert "9" in result["message"]
    assert await snapshot(db) == before
    assert await status_of(db, loan.id) is Status.APPROVED
    await ledger_adds_up(db, item.id)


async def test_a_retired_item_is_not_approved(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item)
    async with db.begin() as session:
        await items.retire_item(session, world.admin.principal, item.id, note=None)
    result = await act(gql, "approveLoan", loan, world.admin)
    assert result["__typename"] == "ConflictError"
    assert await status_of(db, loan.id) is Status.PENDING


async def test_several_transitions_in_one_document_see_each_other(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]  # 10 units
    first, second = [
        await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=6) for _ in range(2)
    ]
    document = """
    mutation($first: ID!, $second: ID!) {
      a: approveLoan(input: {id: $first}) { __typename }
      b: deliverLoan(input: {id: $first}) { __typename }
      c: approveLoan(input: {id: $second}) { __typename ... on Error { message } }
      d: returnLoan(input: {id: $first, returned: 5, damaged: 1}) { __typename }
      e: approveLoan(input: {id: $second}) { __typename ... on Error { message } }
    }
    """
    data = await gql.data(
        document, {"first": gid("Loan", first.id), "second": gid("Loan", second.id)}, token=world.admin
    )
    assert [data[key]["__typename"] for key in "abcd"] == ["LoanPayload", "LoanPayload", "ConflictError", "LoanPayload"]
    # Back, with one unit damaged: 9 can be lent, 6 of them to the second loan.
    assert data["e"]["__typename"] == "LoanPayload", data["e"]
    stocked = await ledger_adds_up(db, item.id)
    assert (stocked.quantity_damaged, stocked.quantity_on_loan) == (1, 0)
