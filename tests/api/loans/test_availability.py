"""Reservations by date: the approval rule and itemAvailability (free units over a range and
the loans holding the others)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.errors import Conflict
from graphql_api.services import items, loans
from graphql_api.services.ledger import StockDelta
from graphql_api.settings import Settings
from tests.api.loans.graphql import act
from tests.api.loans.helpers import make_loan, status_of, today
from tests.conftest import Factory, GraphQLClient, World, gid

Status = models.LoanStatus
AVAILABILITY = """
query($ids: [ID!]!, $from: Date, $to: Date) {
  itemAvailability(itemIds: $ids, from: $from, to: $to) {
    id from to lendable reserved free item { id } conflicts { id status }
  }
}
"""


async def availability(
    gql: GraphQLClient, actor: Any, ids: list[str], start: date | None = None, end: date | None = None
) -> list[dict[str, Any] | None]:
    variables = {"ids": ids, "from": start.isoformat() if start else None, "to": end.isoformat() if end else None}
    data = await gql.data(AVAILABILITY, variables, token=actor)
    result: list[dict[str, Any] | None] = data["itemAvailability"]
    return result


def days(day: date, offset: int) -> date:
    return day + timedelta(days=offset)


async def test_an_approval_needs_the_units_on_every_day_of_its_range(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory
) -> None:
    item = await factory.item(world.aw, quantity=5, damaged=1)  # 4 can be lent

    async def loan(quantity: int, start: int, length: int) -> models.Loan:
        return await make_loan(
            db,
            settings,
            world.instructor,
            world.admin,
            world.aw,
            item=item,
            quantity=quantity,
            start=start,
            days=length,
        )

    first = await loan(3, 0, 3)  # days 0..2
    assert (await act(gql, "approveLoan", first, world.admin))["__typename"] == "LoanPayload"
    # Day 2 has 1 unit left: 2 units over days 2..4 do not fit; over days 3..4 they do.
    overlapping, after = await loan(2, 2, 3), await loan(2, 3, 2)
    refused = await act(gql, "approveLoan", overlapping, world.admin)
    assert refused["__typename"] == "ConflictError"
    assert "1" in refused["message"]
    assert await status_of(db, overlapping.id) is Status.PENDING
    assert (await act(gql, "approveLoan", after, world.admin))["__typename"] == "LoanPayload"
    # One unit on day 2 is still free.
    assert (await act(gql, "approveLoan", await loan(1, 2, 1), world.admin))["__typename"] == "LoanPayload"
    # Cancelled, rejected and pending loans hold nothing; a rejection frees nothing it never held.
    assert (await act(gql, "rejectLoan", overlapping, world.admin, reason="Sin cupo"))["__typename"] == "LoanPayload"
    late = await loan(4, 5, 1)
    assert (await act(gql, "approveLoan", late, world.admin))["__typename"] == "LoanPayload"


async def test_units_that_went_to_maintenance_are_not_promised(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    item = world.items["aw"][1]  # 10 units
    async with db.begin() as session:
        await items.adjust_item_stock(
            session, world.admin.principal, item.id, expected_quantity=10,
            delta=StockDelta(missing=3), reason=models.MovementReason.CORRECTION, note=None,
        )  # fmt: skip
    loan = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=7)
    too_much = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=1)
    assert (await act(gql, "approveLoan", loan, world.admin))["__typename"] == "LoanPayload"
    assert (await act(gql, "approveLoan", too_much, world.admin))["__typename"] == "ConflictError"


async def test_a_delivered_loan_past_its_end_holds_its_units_until_they_come_back(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    day = today(settings)
    item = world.items["aw"][1]  # 10 units
    # Requested, approved and delivered a week ago for three days: due four days ago.
    late = await make_loan(
        db, settings, world.instructor, world.admin, world.aw,
        status=Status.DELIVERED, item=item, quantity=6, days=3, days_ago=7,
    )  # fmt: skip
    assert late.end_date == days(day, -5)
    ident = gid("InventoryItem", item.id)
    (today_view,) = await availability(gql, world.admin, [ident])
    assert today_view is not None
    assert (today_view["lendable"], today_view["reserved"], today_view["free"]) == (10, 6, 4)
    assert today_view["conflicts"] == [{"id": gid("Loan", late.id), "status": "DELIVERED"}]
    (tomorrow,) = await availability(gql, world.admin, [ident], days(day, 1), days(day, 3))
    assert tomorrow is not None
    assert (tomorrow["reserved"], tomorrow["free"], tomorrow["conflicts"]) == (0, 10, [])
    blocked = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=5)
    assert (await act(gql, "approveLoan", blocked, world.admin))["__typename"] == "ConflictError"


async def test_item_availability_per_item(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory
) -> None:
    day = today(settings)
    group, single = world.items["aw"][1], world.items["aw"][0]
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    mine = await make_loan(
        db, settings, world.instructor, world.admin, world.aw, status=Status.APPROVED, item=group, quantity=4, start=1
    )
    theirs = await make_loan(
        db, settings, colleague, world.admin, world.aw, status=Status.DELIVERED, item=group, quantity=3, start=0
    )
    await make_loan(db, settings, world.instructor, world.admin, world.aw, item=group, quantity=9)  # pending
    ids = [
        gid("InventoryItem", group.id),
        gid("InventoryItem", single.id),
        gid("InventoryItem", world.items["bw"][1].id),
    ]
    as_admin = await availability(gql, world.admin, ids, day, days(day, 2))
    assert as_admin[2] is None  # world B's item: as if it did not exist
    group_view, single_view = as_admin[0], as_admin[1]
    assert group_view is not None
    assert single_view is not None
    assert (group_view["id"], group_view["item"]["id"]) == (ids[0], ids[0])
    assert (group_view["from"], group_view["to"]) == (day.isoformat(), days(day, 2).isoformat())
    # Days 0..2: 3 delivered on 0..1, 4 approved on 1..2: 7 held on day 1.
    assert (group_view["lendable"], group_view["reserved"], group_view["free"]) == (10, 7, 3)
    assert [c["id"] for c in group_view["conflicts"]] == [gid("Loan", theirs.id), gid("Loan", mine.id)]
    assert (single_view["reserved"], single_view["free"], single_view["conflicts"]) == (0, 1, [])
    # The instructor sees the same numbers but only their own loans among the conflicts.
    as_instructor = await availability(gql, world.instructor, ids[:1], day, days(day, 2))
    assert as_instructor[0] is not None
    assert (as_instructor[0]["reserved"], as_instructor[0]["free"]) == (7, 3)
    assert [c["id"] for c in as_instructor[0]["conflicts"]] == [gid("Loan", mine.id)]
    # Defaults: from today to `from`; malformed ids and ids of another type are null.
    (only_today, garbage, other_type) = await availability(
        gql, world.admin, [ids[0], "garbage!!", gid("Loan", mine.id)]
    )
    assert only_today is not None
    assert (only_today["from"], only_today["to"], only_today["reserved"]) == (day.isoformat(), day.isoformat(), 3)
    assert (garbage, other_type) == (None, None)


@pytest.mark.parametrize(
    ("ids", "offsets", "expected"),
    [
        (1, (3, 2), [("to", "DATE_ORDER")]),
        (1, (0, 366), [("to", "RANGE_TOO_LONG")]),
        (101, (0, 0), [("itemIds", "TOO_MANY")]),
    ],
)
async def test_item_availability_refuses_unbounded_questions(
    gql: GraphQLClient,
    settings: Settings,
    world: World,
    ids: int,
    offsets: tuple[int, int],
    expected: list[tuple[str, str]],
) -> None:
    day = today(settings)
    variables = {
        "ids": [gid("InventoryItem", world.items["aw"][1].id)] * ids,
        "from": days(day, offsets[0]).isoformat(),
        "to": days(day, offsets[1]).isoformat(),
    }
    result = await gql.execute(AVAILABILITY, variables, token=world.admin)
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert [(e["field"], e["code"]) for e in error["extensions"]["fieldErrors"]] == expected
    assert all(e["message"] for e in error["extensions"]["fieldErrors"])


async def test_item_availability_costs_the_same_for_1_and_20_items(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory,
    count_statements: Any,
) -> None:  # fmt: skip
    group = [await factory.item(world.aw, quantity=10) for _ in range(20)]
    for n, item in enumerate(group):
        await make_loan(
            db, settings, world.instructor, world.admin, world.aw, status=Status.APPROVED, item=item, start=n % 3
        )
    measured = []
    for size in (1, 20):
        ids = [gid("InventoryItem", item.id) for item in group[:size]]
        with count_statements() as counted:
            result = await availability(gql, world.admin, ids, today(settings), days(today(settings), 10))
        assert all(entry is not None and len(entry["conflicts"]) == 1 for entry in result)
        measured.append(counted.value)
    # 1 authentication, 2 the items, 3 their peak demand, 4 the conflicting loans
    assert measured == [4, 4]


async def test_an_approval_reads_the_item_as_locked_not_as_the_session_saw_it(
    db: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    # One session for everything (as the demo loader): stock changed by the ledger after the
    # session loaded the item must count.
    item = world.items["aw"][1]  # 10 units
    first = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=2)
    second = await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, quantity=5)
    calendar = loans.Calendar.of(settings)
    async with db.begin() as session:
        await loans.approve_loan(session, world.admin.principal, first.id, calendar=calendar)
        await items.adjust_item_stock(
            session, world.admin.principal, item.id, expected_quantity=10,
            delta=StockDelta(damaged=4), reason=models.MovementReason.CORRECTION, note=None,
        )  # fmt: skip
        # 10 - 4 damaged - 2 approved = 4 free: not enough for 5.
        with pytest.raises(Conflict):
            await loans.approve_loan(session, world.admin.principal, second.id, calendar=calendar)
        await session.rollback()


async def test_item_availability_is_costed_per_item_and_conflict(
    gql: GraphQLClient, world: World, count_statements: Any
) -> None:
    ids = [gid("InventoryItem", world.items["aw"][1].id)] * 2
    body = await gql.execute(
        "query($ids: [ID!]!) { itemAvailability(itemIds: $ids) { free conflicts { id } } }",
        {"ids": ids},
        token=world.admin,
    )
    # Two items, each with up to 100 conflicting loans.
    assert body["extensions"]["cost"]["estimated"] == 2 + 2 * 100
    # Pages nested in the conflicts multiply through them: refused before anything runs.
    nested = (
        "query($ids: [ID!]!) { itemAvailability(itemIds: $ids) { conflicts {"
        " item { movements(first: 100) { totalCount } } } } }"
    )
    with count_statements() as counted:
        refused = await gql.execute(nested, {"ids": ids * 50}, token=world.admin)
    assert counted.value == 0
    assert refused["errors"][0]["extensions"]["cost"] == 100 + 100 * (100 + 100 * 100)
