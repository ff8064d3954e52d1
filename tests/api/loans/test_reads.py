"""Reading loans (SPEC §4): loan, loans, myLoans and item.loans show each role what it may see,
filters narrow and never widen, orderings page along their key; a page of 100 loans with
their item, warehouse and requester costs the same statements as a page of 10."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.settings import Settings
from tests.api.loans.helpers import make_loan, today
from tests.conftest import Actor, Factory, GraphQLClient, World, error_codes, gid

Status = models.LoanStatus
LOANS = """
query($where: LoanWhere, $orderBy: LoanOrder, $first: Int, $after: String) {
  loans(where: $where, orderBy: $orderBy, first: $first, after: $after) {
    totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}
"""
MY_LOANS = "query($where: MyLoanWhere) { myLoans(where: $where, first: 100) { totalCount edges { node { id } } } }"
ITEM_LOANS = "query($id: ID!) { item(id: $id) { loans(first: 50) { totalCount edges { node { id } } } } }"


@dataclass
class History:
    loans: dict[str, models.Loan]
    colleague: Actor

    def ids(self, *names: str) -> set[str]:
        return {gid("Loan", self.loans[name].id) for name in names}


@pytest.fixture
async def history(db: async_sessionmaker[AsyncSession], settings: Settings, world: World, factory: Factory) -> History:
    colleague = await factory.user(models.Role.INSTRUCTOR, world.a1)
    group, single = world.items["aw"][1], world.items["aw"][0]

    async def loan(requester: Actor, decider: Actor, room: str, **values: Any) -> models.Loan:
        return await make_loan(db, settings, requester, decider, getattr(world, room), **values)

    instructor, admin = world.instructor, world.admin
    made = {
        "pending": await loan(instructor, admin, "aw", item=group, start=5, purpose="Redes y cableado"),
        "approved": await loan(
            instructor, admin, "aw", item=group, status=Status.APPROVED, priority=models.LoanPriority.HIGH
        ),
        "delivered": await loan(instructor, admin, "aw", description="Router", status=Status.DELIVERED, start=2),
        "admins": await loan(admin, admin, "aw", item=single, start=9),
        "colleagues": await loan(colleague, admin, "aw", item=group, status=Status.REJECTED, start=1),
        "world_b": await loan(world.admin_b, world.admin_b, "bw", item=world.items["bw"][1], status=Status.APPROVED),
    }
    return History(made, colleague)


async def loan_ids(gql: GraphQLClient, actor: Actor, where: dict[str, Any] | None = None) -> set[str]:
    data = await gql.data(LOANS, {"where": where, "first": 100}, token=actor)
    assert data["loans"]["totalCount"] == len(data["loans"]["edges"])
    return {edge["node"]["id"] for edge in data["loans"]["edges"]}


async def test_each_role_sees_its_loans(gql: GraphQLClient, world: World, history: History) -> None:
    instructors = ("pending", "approved", "delivered")
    expected = [
        (world.instructor, history.ids(*instructors)),
        (history.colleague, history.ids("colleagues")),
        # The loans to instructors of the center: not the warehouse admin's own request.
        (world.supervisor, history.ids(*instructors, "colleagues")),
        (world.admin, history.ids(*instructors, "colleagues", "admins")),
        (world.admin_b, history.ids("world_b")),
        (world.admin_general, history.ids(*history.loans)),
    ]
    for actor, ids in expected:
        assert await loan_ids(gql, actor) == ids, actor.user.role
        for name, row in history.loans.items():
            data = await gql.data("query($id: ID!) { loan(id: $id) { id } }", {"id": gid("Loan", row.id)}, token=actor)
            assert (data["loan"] is not None) == (gid("Loan", row.id) in ids), (actor.user.role, name)
    for query in (LOANS, MY_LOANS, '{ loan(id: "x") { id } }'):
        assert error_codes(await gql.execute(query, token=world.student)) == ["FORBIDDEN"]


async def test_my_loans_are_the_callers_own(gql: GraphQLClient, world: World, history: History) -> None:
    mine = [
        (world.instructor, history.ids("pending", "approved", "delivered")),
        (world.admin, history.ids("admins")),
        (world.supervisor, set()),
        (world.admin_general, set()),
    ]
    for actor, ids in mine:
        data = await gql.data(MY_LOANS, token=actor)
        assert {edge["node"]["id"] for edge in data["myLoans"]["edges"]} == ids
    data = await gql.data(MY_LOANS, {"where": {"statuses": ["DELIVERED"]}}, token=world.instructor)
    assert {edge["node"]["id"] for edge in data["myLoans"]["edges"]} == history.ids("delivered")


async def test_item_loans_follow_the_same_rule(gql: GraphQLClient, world: World, history: History) -> None:
    item = gid("InventoryItem", world.items["aw"][1].id)
    for actor, names in (
        (world.instructor, ("pending", "approved")),
        (world.supervisor, ("pending", "approved", "colleagues")),
        (world.admin, ("pending", "approved", "colleagues")),
    ):
        data = await gql.data(ITEM_LOANS, {"id": item}, token=actor)
        assert {edge["node"]["id"] for edge in data["item"]["loans"]["edges"]} == history.ids(*names)
        assert data["item"]["loans"]["totalCount"] == len(names)


async def test_the_warehouse_admin_sees_who_asked(gql: GraphQLClient, world: World, history: History) -> None:
    query = "query($id: ID!) { loan(id: $id) { requester { id firstName email environment { id } } } }"
    data = await gql.data(query, {"id": gid("Loan", history.loans["pending"].id)}, token=world.admin)
    requester = data["loan"]["requester"]
    assert (requester["id"], requester["email"]) == (world.instructor.gid, world.instructor.user.email)
    # Through the loan only: the instructor's home stays out of the admin's scope, and so does
    # the instructor by any other path.
    assert requester["environment"] is None
    node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": world.instructor.gid}, token=world.admin)
    assert node["node"] is None


async def test_filters_narrow_the_list(gql: GraphQLClient, settings: Settings, world: World, history: History) -> None:
    day = today(settings)
    admin = world.admin
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"statuses": ["PENDING"]}, history.ids("pending", "admins")),
        ({"requesterIds": [history.colleague.gid, world.admin_b.gid]}, history.ids("colleagues")),
        ({"itemIds": [gid("InventoryItem", world.items["aw"][0].id)]}, history.ids("admins")),
        ({"warehouseIds": [gid("Environment", world.bw.id)]}, set()),
        ({"priorities": ["HIGH"]}, history.ids("approved")),
        ({"search": "cableado"}, history.ids("pending")),
        ({"search": "router"}, history.ids("delivered")),
        # Overlapping days 5..6: the pending loan (5..6) and nothing else of the admin's.
        ({"activeFrom": _iso(day, 5), "activeUntil": _iso(day, 6)}, history.ids("pending")),
        ({"activeUntil": _iso(day, 0)}, history.ids("approved")),
        ({"overdue": True}, set()),
    ]
    for where, expected in cases:
        assert await loan_ids(gql, admin, where) == expected, where


def _iso(day: date, plus: int) -> str:
    return str((day + timedelta(days=plus)).isoformat())


async def test_ordering_and_pages(gql: GraphQLClient, world: World, history: History) -> None:
    order = {"field": "START_DATE", "direction": "ASC"}
    seen: list[str] = []
    after = None
    while True:
        data = await gql.data(LOANS, {"orderBy": order, "first": 2, "after": after}, token=world.admin_general)
        seen += [edge["node"]["id"] for edge in data["loans"]["edges"]]
        if not data["loans"]["pageInfo"]["hasNextPage"]:
            break
        after = data["loans"]["pageInfo"]["endCursor"]
    by_start = sorted(history.loans.values(), key=lambda loan: (loan.start_date, loan.id))
    assert seen == [gid("Loan", loan.id) for loan in by_start]
    newest = await gql.data(LOANS, {"first": 1}, token=world.admin_general)
    assert newest["loans"]["edges"][0]["node"]["id"] == gid("Loan", history.loans["world_b"].id)


# ---- statement counts ----------------------------------------------------------------------

PAGE_WITH_NESTING = """
{ loans(first: 100) { edges { node { id status item { name } warehouse { name } requester { firstName } } } } }
"""
# 1 authentication, 2 the page of loans joined with each loan's warehouse and requester (which
# prime their loaders), 3 ITEM_BY_ID for the page's items (one batch)
PAGE_WITH_NESTING_STATEMENTS = 3


@pytest.mark.parametrize("role", ["admin_general", "admin", "instructor"])
async def test_a_page_of_loans_costs_the_same_for_10_and_100_rows(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
    factory: Factory,
    count_statements: Any,
    role: str,
) -> None:
    items = [await factory.item(world.aw, quantity=100) for _ in range(4)]

    async def grow(total: int, already: int) -> None:
        for n in range(already, total):
            # Unregistered every fifth: loans without an item are in the same page.
            item = items[n % 4] if n % 5 else None
            await make_loan(db, settings, world.instructor, world.admin, world.aw, item=item, description=f"Cosa {n}")

    measured = []
    for total, already in ((10, 0), (100, 10)):
        await grow(total, already)
        with count_statements() as counted:
            data = await gql.data(PAGE_WITH_NESTING, token=world.role(role))
        edges = data["loans"]["edges"]
        assert len(edges) == total
        assert sum(edge["node"]["item"] is None for edge in edges) == total // 5
        assert {edge["node"]["requester"]["firstName"] for edge in edges} == {world.instructor.user.first_name}
        measured.append(counted.value)
    assert measured == [PAGE_WITH_NESTING_STATEMENTS] * 2
