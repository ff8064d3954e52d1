"""The main queries send a fixed number of SQL statements, whatever the number of rows (no N+1).

Every count includes the one statement that authenticates the caller (the user row joined with
the home environment and the settings). Each test measures the same query over a small and a
large data set and asserts the exact, equal number.
"""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.db import models
from tests.conftest import Actor, Factory, GraphQLClient, gid

ITEMS_WITH_NESTING = (
    "{ items(first: 100) { edges { node { environment { center { name } } movements(first: 3) { totalCount } } } } }"
)
# 1 authentication
# 2 the page of items (scoped, ordered, LIMIT 101), joined with each item's environment and
#   center, which prime their by-id loaders (no statement for them); each item's
#   movements.totalCount is the count the item keeps (no statement either)
ITEMS_WITH_NESTING_STATEMENTS = 2

ENVIRONMENTS_WITH_CENTER = "{ environments(first: 50) { edges { node { center { name } } } } }"
# 1 authentication, 2 the page of environments joined with their centers
ENVIRONMENTS_WITH_CENTER_STATEMENTS = 2

ITEMS_WITH_MOVEMENT_PAGES = """
{ items(first: 100) { totalCount edges { node { name movements(first: 3) {
  totalCount edges { node { reason actor { id } } }
} } } } }
"""
# 1 authentication, 2 the page of items, 3 the items' totalCount, 4 the movement pages (one
# LATERAL statement for every item), 5 USER_BY_ID for the actors
ITEMS_WITH_MOVEMENT_PAGES_STATEMENTS = 5


async def grow(factory: Factory, total: int, environments: list[models.Environment], already: int) -> None:
    """Add items until there are `total`, spread round-robin over `environments`, each with a
    few extra ledger rows so that nested lists are not trivially empty."""
    for n in range(already, total):
        env = environments[n % len(environments)]
        await factory.item(env, quantity=2 + n % 4, name=f"ITEM {n:03d}")


async def count(gql: GraphQLClient, count_statements: Any, query: str, actor: Actor) -> tuple[int, dict[str, Any]]:
    with count_statements() as counted:
        data = await gql.data(query, token=actor)
    return counted.value, data


@pytest.fixture
async def spread(factory: Factory) -> dict[str, Any]:
    centers = [await factory.center(code=f"K{i}") for i in range(3)]
    environments = [
        await factory.environment(center, code=f"K{i}E{j}") for i, center in enumerate(centers) for j in range(3)
    ]
    return {
        "centers": centers,
        "environments": environments,
        "admin_general": await factory.user(models.Role.ADMIN_GENERAL),
        # Home in the first environment of the first center.
        "student": await factory.user(models.Role.STUDENT, environments[0]),
        "supervisor": await factory.user(models.Role.SUPERVISOR, environments[0]),
    }


async def test_items_with_environment_center_and_movement_count_as_admin_general(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any]
) -> None:
    actor = spread["admin_general"]
    await grow(factory, 10, spread["environments"], 0)
    small, data = await count(gql, count_statements, ITEMS_WITH_NESTING, actor)
    assert len(data["items"]["edges"]) == 10
    await grow(factory, 100, spread["environments"], 10)
    large, data = await count(gql, count_statements, ITEMS_WITH_NESTING, actor)
    assert len(data["items"]["edges"]) == 100
    assert {e["node"]["movements"]["totalCount"] for e in data["items"]["edges"]} == {1}
    assert len({e["node"]["environment"]["center"]["name"] for e in data["items"]["edges"]}) == 3
    assert (small, large) == (ITEMS_WITH_NESTING_STATEMENTS, ITEMS_WITH_NESTING_STATEMENTS)


async def test_items_with_nesting_as_student(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any]
) -> None:
    actor = spread["student"]
    # Alternating between the student's room and a room of another center.
    rooms = [spread["environments"][0], spread["environments"][3]]
    await grow(factory, 4, rooms, 0)
    small, data = await count(gql, count_statements, ITEMS_WITH_NESTING, actor)
    assert len(data["items"]["edges"]) == 2
    await grow(factory, 220, rooms, 4)
    large, data = await count(gql, count_statements, ITEMS_WITH_NESTING, actor)
    assert len(data["items"]["edges"]) == 100
    assert (small, large) == (ITEMS_WITH_NESTING_STATEMENTS, ITEMS_WITH_NESTING_STATEMENTS)


async def test_items_with_movement_pages_and_actors(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any]
) -> None:
    actor = spread["supervisor"]
    await grow(factory, 6, spread["environments"], 0)
    small, data = await count(gql, count_statements, ITEMS_WITH_MOVEMENT_PAGES, actor)
    assert data["items"]["totalCount"] == 3  # items 0, 1, 2: the 3 rooms of the first center
    await grow(factory, 120, spread["environments"], 6)
    large, data = await count(gql, count_statements, ITEMS_WITH_MOVEMENT_PAGES, actor)
    assert data["items"]["totalCount"] == 42  # n % 9 < 3 for n < 120
    assert all(e["node"]["movements"]["edges"][0]["node"]["actor"] is None for e in data["items"]["edges"])
    assert (small, large) == (ITEMS_WITH_MOVEMENT_PAGES_STATEMENTS, ITEMS_WITH_MOVEMENT_PAGES_STATEMENTS)


async def test_environments_with_center(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any]
) -> None:
    actor = spread["admin_general"]
    small, data = await count(gql, count_statements, ENVIRONMENTS_WITH_CENTER, actor)
    assert len(data["environments"]["edges"]) == 9
    for i in range(12):
        center = await factory.center(code=f"M{i}")
        for j in range(4):
            await factory.environment(center, code=f"M{i}E{j}")
    large, data = await count(gql, count_statements, ENVIRONMENTS_WITH_CENTER, actor)
    assert len(data["environments"]["edges"]) == 50
    assert (small, large) == (ENVIRONMENTS_WITH_CENTER_STATEMENTS, ENVIRONMENTS_WITH_CENTER_STATEMENTS)


@pytest.mark.parametrize("role", ["admin_general", "student"])
async def test_single_object_lookups(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any], role: str
) -> None:
    actor: Actor = spread[role]
    item = await factory.item(spread["environments"][0], quantity=3)
    item_id = gid("InventoryItem", item.id)
    lookups = {
        # 1 authentication + 1 item_by_id
        f'{{ node(id: "{item_id}") {{ id ... on InventoryItem {{ name }} }} }}': 2,
        f'{{ item(id: "{item_id}") {{ id name quantityAvailable }} }}': 2,
        # the authentication row is the caller's user row
        "{ me { id email role } }": 1,
        # + ENVIRONMENT_BY_ID + CENTER_BY_ID
        f'{{ item(id: "{item_id}") {{ environment {{ center {{ code }} }} }} }}': 4,
        # + the movement page; the total is the item's own count
        f'{{ item(id: "{item_id}") {{ movements(first: 5) {{ totalCount edges {{ node {{ reason }} }} }} }} }}': 3,
    }
    for query, expected in lookups.items():
        measured, data = await count(gql, count_statements, query, actor)
        assert all(value is not None for value in data.values()), query
        assert measured == expected, query
    # More rows elsewhere change nothing.
    await grow(factory, 30, spread["environments"], 0)
    for query, expected in lookups.items():
        measured, _ = await count(gql, count_statements, query, actor)
        assert measured == expected, query


ADJUST = """mutation ($id: ID!, $q: Int!) {
  adjustItemStock(input: {itemId: $id, expectedQuantity: $q, delta: {quantity: 1}, reason: RESTOCK}) {
    __typename ... on AdjustItemStockPayload { item { quantity } }
  }
}"""


async def test_transactions_per_request(
    gql: GraphQLClient, count_statements: Any, factory: Factory, spread: dict[str, Any]
) -> None:
    """Reads run in autocommit (each statement its own implicit transaction, no BEGIN or
    ROLLBACK round trips); a mutation is one transaction, authentication included."""
    actor: Actor = spread["admin_general"]
    await grow(factory, 20, spread["environments"], 0)
    item = await factory.item(spread["environments"][0], quantity=3)
    item_id = gid("InventoryItem", item.id)
    expected = {
        f'{{ node(id: "{item_id}") {{ id }} }}': (2, 2),  # authentication, item_by_id
        "{ me { id } }": (1, 1),
        # authentication; the page (no BEGIN, no ROLLBACK)
        ITEMS_WITH_NESTING: (2, 2),
    }
    for query, (statements, transactions) in expected.items():
        with count_statements() as counted:
            await gql.data(query, token=actor)
        assert (counted.value, counted.transactions) == (statements, transactions), query
    with count_statements() as counted:
        data = await gql.data(ADJUST, {"id": item_id, "q": 3}, token=actor)
    assert data["adjustItemStock"] == {"__typename": "AdjustItemStockPayload", "item": {"quantity": 4}}
    # one transaction: authentication, the compare-and-swap UPDATE with its ledger row (one
    # statement), the audit row, the outbox row of the stock event (with its lock and NOTIFY)
    assert (counted.value, counted.transactions) == (4, 1)
