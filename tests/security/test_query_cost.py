"""Query cost (issue 10, item 15): estimated before execution from the page sizes asked for,
multiplied through nesting; operations over QUERY_COST_LIMIT are refused with nothing executed,
and accepted ones report their cost in `extensions`.

The witness that nothing executed is the SQL statement counter: a refused operation sends no
statement at all (not even the caller's authentication).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.cost import estimate_cost
from graphql_api.api.schema import build_schema
from graphql_api.db import models
from graphql_api.settings import Settings
from tests.conftest import World, error_codes, gid

LIMIT = Settings().query_cost_limit
MOVEMENTS = "movements(first: 100) { edges { node { id item { movements(first: 100) { totalCount } } } } }"
ATTACK = "{ items(first: 100) { edges { node { " + MOVEMENTS + " } } } }"
HEAVY = "{ items(first: 100) { edges { node { movements(first: 100) { edges { node { id } } } } } } }"
NESTED_BY_VARIABLE = (
    "query Nested($n: Int!) { items(first: $n) { edges { node { movements(first: $n) { edges { node { "
    "item { movements(first: $n) { totalCount } } } } } } } } }"
)
ITEM = "... on InventoryItem { movements(first: 5) { totalCount } }"


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema()._schema


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ me { id } }", None, 1),
        ("{ items(first: 100) { totalCount } }", None, 100),
        ("{ items { totalCount } }", None, 20),  # DEFAULT_PAGE_SIZE
        ("{ items(last: 7) { totalCount } }", None, 7),
        (HEAVY, None, 100 + 100 * 100),
        (ATTACK, None, 100 + 100 * 100 + 100 * 100 * 100),
        (NESTED_BY_VARIABLE, {"n": 3}, 3 + 9 + 27),
        ("query Q($n: Int = 4) { items(first: $n) { totalCount } }", {}, 4),  # the variable's default
        ("query Q($n: Int) { items(first: $n) { totalCount } }", {"n": None}, 20),
        ("query Q($n: Int) { items(first: $n) { totalCount } }", {"n": 2**40}, 20),  # graphql-core refuses it
        ("query Q($ids: [ID!]!) { nodes(ids: $ids) { id " + ITEM + " } }", {"ids": ["a", "b", "c"]}, 3 + 3 * 5),
        ('{ nodes(ids: ["a", "b"]) { id } node(id: "c") { id ' + ITEM + " } }", None, 2 + 5),
        ("query Q($s: Boolean!) { items(first: 100) @skip(if: $s) { totalCount } }", {"s": True}, 1),
        ("query Q($s: Boolean!) { items(first: 100) @include(if: $s) { totalCount } }", {"s": True}, 100),
        # A fragment is counted at every place it is spread, times the pages around that place.
        (
            '{ items(first: 10) { edges { node { ...M } } } node(id: "x") { ...M } } '
            "fragment M on InventoryItem { movements(first: 2) { totalCount } }",
            None,
            10 + 10 * 2 + 2,
        ),
    ],
)
def test_estimates(schema: Any, query: str, variables: dict[str, Any] | None, cost: int) -> None:
    assert estimate_cost(schema, parse(query), None, variables) == cost


def test_an_estimate_is_kept_only_when_no_variable_counts_in_it(schema: Any) -> None:
    document = parse("query Q($n: Int, $id: ID!) { items(first: $n) { totalCount } node(id: $id) { id } }")
    assert [estimate_cost(schema, document, None, {"n": n, "id": "x"}) for n in (5, 7, 5)] == [5, 7, 5]
    fixed = parse("query Q($id: ID!) { items(first: 3) { totalCount } node(id: $id) { id } }")
    assert [estimate_cost(schema, fixed, None, {"id": i}) for i in "ab"] == [3, 3]


def test_the_default_budget(schema: Any) -> None:
    # Two pages of 100, each with a page of 100 nested in it, fit in one request; a third level
    # of pages does not, even a small one.
    assert LIMIT == 25_000
    two = "{ a: " + HEAVY[2:-2] + " b: " + HEAVY[2:-2] + " }"
    assert estimate_cost(schema, parse(two), None, None) == 20_200
    third = "{ items(first: 100) { edges { node { movements(first: 100) { edges { node { item { movements(first: 2) "
    third += "{ totalCount } } } } } } } } }"
    assert estimate_cost(schema, parse(third), None, None) == 30_100


def fresh(query: str) -> str:
    return f"{query}\n# {uuid.uuid4().hex}"


async def post(client: httpx.AsyncClient, token: str, query: str, variables: Any = None, **headers: str) -> Any:
    body: dict[str, Any] = {"query": query, **({"variables": variables} if variables is not None else {})}
    response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}", **headers})
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_operation_over_the_budget_is_refused_before_anything_runs(
    client: httpx.AsyncClient, world: World, count_statements: Any
) -> None:
    query = fresh(ATTACK)
    for path in ("strawberry", "direct"):  # the first request of a document, then the direct path
        with count_statements() as counted:
            body = await post(client, world.student.token, query, **{"accept-language": "en"})
        assert counted.value == 0, path
        assert body["data"] is None
        assert error_codes(body) == ["BAD_REQUEST"]
        error = body["errors"][0]
        assert error["message"] == (
            f"The query asks for too many objects: its estimated cost is 1010100 and the limit is {LIMIT}. "
            "Ask for smaller pages or fewer nested lists."
        )
        assert error["extensions"] == {"code": "BAD_REQUEST", "cost": 1_010_100, "limit": LIMIT}
        assert "extensions" not in body


async def test_accepted_operations_report_their_cost(client: httpx.AsyncClient, world: World) -> None:
    query = fresh("{ items(first: 5) { edges { node { movements(first: 3) { totalCount } } } } }")
    for _path in ("strawberry", "direct"):
        body = await post(client, world.student.token, query)
        assert len(body["data"]["items"]["edges"]) == 2
        assert body["extensions"] == {"cost": {"estimated": 5 + 5 * 3, "limit": LIMIT}}


async def test_the_cost_follows_each_request_s_variables(client: httpx.AsyncClient, world: World) -> None:
    query = fresh(NESTED_BY_VARIABLE)
    small = await post(client, world.student.token, query, {"n": 2})  # validated here, then direct
    assert small["extensions"] == {"cost": {"estimated": 2 + 4 + 8, "limit": LIMIT}}
    large = await post(client, world.student.token, query, {"n": 100})
    assert large["errors"][0]["extensions"]["cost"] == 1_010_100
    assert large["data"] is None


async def test_a_mutation_payload_is_costed_too(
    client: httpx.AsyncClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    # Its selection may hold connections; refused, the mutation does not run.
    item = world.items["a1"][0]
    mutation = (
        "mutation A($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename "
        "... on AdjustItemStockPayload { item { a: " + MOVEMENTS + " b: " + MOVEMENTS + " c: " + MOVEMENTS + " } } } }"
    )
    change = {"itemId": gid("InventoryItem", item.id), "expectedQuantity": item.quantity, "reason": "RESTOCK"}
    body = await post(client, world.admin.token, fresh(mutation), {"input": {**change, "delta": {"quantity": 1}}})
    assert body["errors"][0]["extensions"]["cost"] == 3 * (100 + 100 * 100)
    assert body["data"] is None
    async with db() as session:
        assert (await session.get(models.InventoryItem, item.id, populate_existing=True)).quantity == item.quantity
        assert await session.scalar(select(func.count()).select_from(models.InventoryMovement)) == len(
            [i for items in world.items.values() for i in items]
        )
