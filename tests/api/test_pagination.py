"""Cursor connections: keyset paging both ways, page-size limits, bad cursors, totalCount."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from graphql_api.db import models
from tests.conftest import Actor, Factory, GraphQLClient, error_codes, gid

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ItemOrder, $where: ItemWhere) {
  items(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, where: $where) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name quantity } }
  }
}
"""


@dataclass
class Setup:
    actor: Actor
    names: list[str]  # in default (name) order
    ids: dict[str, str]  # name -> global id


@pytest.fixture
async def setup(factory: Factory) -> Setup:
    center = await factory.center()
    env = await factory.environment(center)
    other = await factory.environment(center)
    actor = await factory.user(models.Role.SUPERVISOR, env)
    names = [f"WIDGET {i:02d}" for i in range(1, 26)]
    ids = {}
    # Created out of order, with repeating quantities (ties are broken by id).
    for index in [*range(0, 25, 2), *range(1, 25, 2)]:
        item = await factory.item(env, name=names[index], quantity=2 + index % 3, internal_code=f"P-{index:02d}")
        ids[names[index]] = gid("InventoryItem", item.id)
    # Another room of the same center: in scope, but not a GROUP item.
    await factory.item(other, name="WIDGET 00 OTHER ROOM SAME CENTER")
    return Setup(actor, names, ids)


async def page(gql: GraphQLClient, actor: Actor, **variables: Any) -> dict[str, Any]:
    data = await gql.data(PAGE, variables, token=actor)
    result: dict[str, Any] = data["items"]
    return result


def names_of(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in result["edges"]]


async def test_forward_paging_visits_every_item_once(gql: GraphQLClient, setup: Setup) -> None:
    where = {"search": "WIDGET", "itemTypes": ["GROUP"]}
    seen: list[str] = []
    flags: list[tuple[bool, bool]] = []
    after = None
    while True:
        result = await page(gql, setup.actor, first=10, after=after, where=where)
        assert result["totalCount"] == 25
        seen += names_of(result)
        info = result["pageInfo"]
        flags.append((info["hasPreviousPage"], info["hasNextPage"]))
        assert info["startCursor"] == result["edges"][0]["cursor"]
        assert info["endCursor"] == result["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == setup.names
    assert flags == [(False, True), (True, True), (True, False)]


async def test_backward_paging_visits_every_item_once(gql: GraphQLClient, setup: Setup) -> None:
    where = {"itemTypes": ["GROUP"]}
    pages: list[list[str]] = []
    flags: list[tuple[bool, bool]] = []
    before = None
    while True:
        result = await page(gql, setup.actor, last=10, before=before, where=where)
        pages.append(names_of(result))
        info = result["pageInfo"]
        flags.append((info["hasPreviousPage"], info["hasNextPage"]))
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    # Each page is in list order; pages come from the end.
    assert pages == [setup.names[15:], setup.names[5:15], setup.names[:5]]
    assert flags == [(True, False), (True, True), (False, True)]


async def test_forward_then_backward_from_the_middle(gql: GraphQLClient, setup: Setup) -> None:
    where = {"itemTypes": ["GROUP"]}
    first = await page(gql, setup.actor, first=12, where=where)
    cursor = first["edges"][7]["cursor"]  # WIDGET 08
    after = await page(gql, setup.actor, first=3, after=cursor, where=where)
    assert names_of(after) == setup.names[8:11]
    before = await page(gql, setup.actor, last=3, before=cursor, where=where)
    assert names_of(before) == setup.names[4:7]
    # Everything before the first item, and after the last: empty pages.
    assert names_of(await page(gql, setup.actor, last=5, before=first["edges"][0]["cursor"], where=where)) == []
    tail = await page(gql, setup.actor, last=1, where=where)
    assert names_of(tail) == [setup.names[-1]]
    beyond = await page(gql, setup.actor, first=5, after=tail["edges"][0]["cursor"], where=where)
    assert beyond["edges"] == []
    assert (beyond["pageInfo"]["hasNextPage"], beyond["pageInfo"]["startCursor"]) == (False, None)


@pytest.mark.parametrize(
    ("field", "direction"), [("QUANTITY", "DESC"), ("QUANTITY", "ASC"), ("CREATED_AT", "ASC"), ("UPDATED_AT", "DESC")]
)
async def test_paging_with_ties_and_timestamps(gql: GraphQLClient, setup: Setup, field: str, direction: str) -> None:
    where = {"itemTypes": ["GROUP"]}
    order = {"field": field, "direction": direction}
    everything = names_of(await page(gql, setup.actor, first=100, orderBy=order, where=where))
    assert sorted(everything) == setup.names
    if field == "QUANTITY":
        quantities = [2 + setup.names.index(name) % 3 for name in everything]
        assert quantities == sorted(quantities, reverse=direction == "DESC")
    forward: list[str] = []
    after = None
    for _ in range(10):
        result = await page(gql, setup.actor, first=7, after=after, orderBy=order, where=where)
        forward += names_of(result)
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    for _ in range(10):
        result = await page(gql, setup.actor, last=4, before=before, orderBy=order, where=where)
        backward = names_of(result) + backward
        if not result["pageInfo"]["hasPreviousPage"]:
            break
        before = result["pageInfo"]["startCursor"]
    assert forward == everything
    assert backward == everything


async def test_default_page_size_is_20(gql: GraphQLClient, setup: Setup) -> None:
    result = await page(gql, setup.actor, where={"itemTypes": ["GROUP"]})
    assert names_of(result) == setup.names[:20]
    assert (result["pageInfo"]["hasNextPage"], result["totalCount"]) == (True, 25)
    rest = await page(gql, setup.actor, after=result["pageInfo"]["endCursor"], where={"itemTypes": ["GROUP"]})
    assert names_of(rest) == setup.names[20:]
    # `before` alone pages backward with the default size.
    back = await page(gql, setup.actor, before=rest["edges"][0]["cursor"], where={"itemTypes": ["GROUP"]})
    assert names_of(back) == setup.names[:20]


async def test_first_zero_gives_no_edges_but_counts(gql: GraphQLClient, setup: Setup) -> None:
    result = await page(gql, setup.actor, first=0)
    assert result["edges"] == []
    assert result["totalCount"] == 26
    assert result["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert (await page(gql, setup.actor, last=0))["edges"] == []


async def test_page_size_limits(gql: GraphQLClient, setup: Setup) -> None:
    full = await page(gql, setup.actor, first=100)
    assert len(full["edges"]) == 26
    assert len((await page(gql, setup.actor, last=100))["edges"]) == 26
    for variables in ({"first": 101}, {"first": -1}, {"last": 101}, {"last": -1}, {"first": 5, "last": 5}):
        result = await gql.execute(PAGE, variables, token=setup.actor)
        assert error_codes(result) == ["BAD_REQUEST"], variables
        assert result["data"] is None


async def test_cursor_direction_mismatch_is_a_bad_request(gql: GraphQLClient, setup: Setup) -> None:
    cursor = (await page(gql, setup.actor, first=2))["pageInfo"]["endCursor"]
    for variables in ({"last": 2, "after": cursor}, {"first": 2, "before": cursor}):
        result = await gql.execute(PAGE, variables, token=setup.actor)
        assert error_codes(result) == ["BAD_REQUEST"], variables


def encode(payload: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "!!!!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        encode({"not": "a list"}),
        encode(["item:NAME:ASC"]),
        encode(["item:NAME:ASC", ["WIDGET 01"]]),  # wrong number of values
        encode(["item:NAME:ASC", ["WIDGET 01", {"x": 1}]]),  # unknown typed value
        encode(["item:NAME:ASC", ["WIDGET 01", {"u": "not-a-uuid"}]]),
        encode(["item:CREATED_AT:ASC", [{"t": "yesterday"}, {"u": "00000000-0000-0000-0000-000000000000"}]]),
    ],
)
async def test_malformed_cursor_is_a_bad_request(gql: GraphQLClient, setup: Setup, cursor: str) -> None:
    for variables in ({"first": 5, "after": cursor}, {"last": 5, "before": cursor}):
        result = await gql.execute(PAGE, variables, token=setup.actor)
        assert error_codes(result) == ["BAD_REQUEST"], (cursor, variables)
        assert result["data"] is None


async def test_cursor_of_another_ordering_or_list_is_a_bad_request(gql: GraphQLClient, setup: Setup) -> None:
    by_name = (await page(gql, setup.actor, first=2))["pageInfo"]["endCursor"]
    for order in ({"field": "QUANTITY"}, {"field": "NAME", "direction": "DESC"}, {"field": "CREATED_AT"}):
        result = await gql.execute(PAGE, {"first": 2, "after": by_name, "orderBy": order}, token=setup.actor)
        assert error_codes(result) == ["BAD_REQUEST"], order
    environments = await gql.data("{ environments(first: 1) { pageInfo { endCursor } } }", token=setup.actor)
    env_cursor = environments["environments"]["pageInfo"]["endCursor"]
    result = await gql.execute(PAGE, {"first": 2, "after": env_cursor}, token=setup.actor)
    assert error_codes(result) == ["BAD_REQUEST"]
    # And the other way round.
    result = await gql.execute(
        "query($after: String) { environments(first: 1, after: $after) { totalCount } }",
        {"after": by_name},
        token=setup.actor,
    )
    assert error_codes(result) == ["BAD_REQUEST"]


async def test_total_count_counts_after_filters(gql: GraphQLClient, setup: Setup) -> None:
    result = await page(gql, setup.actor, first=3, where={"search": "WIDGET 1"})
    # WIDGET 10 .. WIDGET 19
    assert result["totalCount"] == 10
    assert names_of(result) == setup.names[9:12]
    assert (await page(gql, setup.actor, first=3, where={"search": "OTHER ROOM"}))["totalCount"] == 1
    assert (await page(gql, setup.actor, first=3, where={"categories": ["TV"]}))["totalCount"] == 0


async def test_only_total_count_requested(gql: GraphQLClient, setup: Setup) -> None:
    data = await gql.data("{ items { totalCount } }", token=setup.actor)
    assert data == {"items": {"totalCount": 26}}


async def test_nested_connection_limits(gql: GraphQLClient, setup: Setup) -> None:
    item_id = setup.ids["WIDGET 01"]
    query = """
    query($id: ID!, $first: Int, $after: String) {
      item(id: $id) { movements(first: $first, after: $after) { totalCount } }
    }
    """
    for variables in ({"first": 101}, {"first": -1}, {"first": 1, "after": "garbage"}):
        result = await gql.execute(query, {"id": item_id, **variables}, token=setup.actor)
        assert error_codes(result) == ["BAD_REQUEST"], variables
    data = await gql.data(query, {"id": item_id, "first": 0}, token=setup.actor)
    assert data["item"]["movements"]["totalCount"] == 1
