"""The direct path for documents already validated (`Schema.execute_prepared`, taken by the view
for plain JSON POSTs) answers exactly like strawberry's `Schema.execute`.

Each request is sent twice with a query text new to the (session-wide) schema: the first goes
through strawberry (parse, validate, extension hooks) and remembers the document, the second
takes the direct path. Status, body and headers must be the same, including errors: their
codes, translated messages, masking and suggestions removed in production.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from graphql_api.api.core.execution import Schema
from graphql_api.services.filtering import Filters
from tests.conftest import World, gid
from tests.security import production_client

_case = itertools.count()


class Paths:
    """How many requests took each path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.direct = 0
        self.strawberry = 0
        direct, full = Schema.execute_prepared, Schema.execute

        async def counted_direct(schema: Schema, *args: Any, **kwargs: Any) -> Any:
            self.direct += 1
            return await direct(schema, *args, **kwargs)

        async def counted_full(schema: Schema, *args: Any, **kwargs: Any) -> Any:
            self.strawberry += 1
            return await full(schema, *args, **kwargs)

        monkeypatch.setattr(Schema, "execute_prepared", counted_direct)
        monkeypatch.setattr(Schema, "execute", counted_full)


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Paths:
    return Paths(monkeypatch)


def fresh(query: str) -> str:
    """The same document under a query text the schema has not seen yet."""
    return f"{query}\n# case {next(_case)} {uuid.uuid4().hex}"


async def twice(
    http: httpx.AsyncClient, body: dict[str, Any], token: Any = None, **headers: str
) -> tuple[httpx.Response, httpx.Response]:
    all_headers = {"x-request-id": "prepared-test", **headers}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token.token}"
    first = await http.post("/graphql", json=body, headers=all_headers)
    second = await http.post("/graphql", json=body, headers=all_headers)
    return first, second


def same(first: httpx.Response, second: httpx.Response) -> dict[str, Any]:
    assert first.status_code == second.status_code
    assert first.content == second.content  # byte for byte
    assert first.headers.get("content-type") == second.headers.get("content-type")
    body: dict[str, Any] = first.json() if first.status_code == 200 else {}
    return body


NODE = "query Node($id: ID!) { node(id: $id) { __typename ... on InventoryItem { id name quantity } } }"
PAGE = "{ items(first: 3) { totalCount edges { node { name environment { name center { name } } } } } }"
ADJUST = (
    "mutation Adjust($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename "
    "... on AdjustItemStockPayload { item { quantity } } ... on Error { code message } } }"
)

NESTED = (
    "query Nested($n: Int!) { items(first: $n) { edges { node { movements(first: $n) { edges { node { "
    "item { movements(first: $n) { totalCount } } } } } } } } }"
)


def adjust(item_id: str, expected: int, reason: str = "RESTOCK") -> dict[str, Any]:
    return {"input": {"itemId": item_id, "expectedQuantity": expected, "delta": {"quantity": 1}, "reason": reason}}


CASES: dict[str, Callable[[World], tuple[str, dict[str, Any] | None, str | None, dict[str, str]]]] = {
    "node in scope": lambda w: (NODE, {"id": gid("InventoryItem", w.items["a1"][0].id)}, "student", {}),
    "node out of scope is null": lambda w: (NODE, {"id": gid("InventoryItem", w.items["b1"][0].id)}, "student", {}),
    "malformed global id": lambda w: (NODE, {"id": "not-an-id"}, "student", {}),
    "page with to-one fields": lambda w: (PAGE, None, "admin_general", {}),
    "page as a student, in English": lambda w: (PAGE, None, "student", {"accept-language": "en"}),
    "me without a token": lambda w: ("{ me { id } }", None, None, {}),
    "missing variable": lambda w: (NODE, {}, "student", {}),
    "enum value with a suggestion": lambda w: (
        ADJUST,
        adjust(gid("InventoryItem", w.items["a1"][0].id), 0, reason="RESTOK"),
        "admin",
        {},
    ),
    "stale expected quantity (ConflictError)": lambda w: (
        ADJUST,
        adjust(gid("InventoryItem", w.items["a1"][0].id), 999_999),
        "admin",
        {},
    ),
    "mutation out of scope (NotFoundError)": lambda w: (
        ADJUST,
        adjust(gid("InventoryItem", w.items["b1"][0].id), 0),
        "admin",
        {},
    ),
    "over the cost limit": lambda w: (NESTED, {"n": 100}, "student", {"accept-language": "en"}),
    "cost from variables": lambda w: (NESTED, {"n": 2}, "student", {}),
}


@pytest.mark.parametrize("accept", [None, "application/graphql-response+json"])
@pytest.mark.parametrize("case", list(CASES))
async def test_direct_path_answers_like_strawberry(
    client: httpx.AsyncClient, world: World, paths: Paths, case: str, accept: str | None
) -> None:
    query, variables, role, headers = CASES[case](world)
    if accept:
        headers = {**headers, "accept": accept}
    body: dict[str, Any] = {"query": fresh(query)}
    if variables is not None:
        body["variables"] = variables
    first, second = await twice(client, body, world.role(role) if role else None, **headers)
    same(first, second)
    assert first.headers["content-type"].startswith(accept or "application/json")
    assert (paths.strawberry, paths.direct) == (1, 1)


async def test_the_chosen_operation_of_several(client: httpx.AsyncClient, world: World, paths: Paths) -> None:
    query = fresh("query A { me { id } } query B { me { email } }")
    for name in ("A", "B"):
        result = same(*await twice(client, {"query": query, "operationName": name}, world.student))
        assert list(result["data"]["me"]) == [{"A": "id", "B": "email"}[name]]
    # The first request validated the document for both operations.
    assert (paths.strawberry, paths.direct) == (1, 3)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"operationName": "C"}, 400),  # no such operation
        ({}, 200),  # several operations, none chosen: a GraphQL error
        ({"operationName": 1}, 400),  # not a string
        ({"variables": []}, 400),
        ({"extensions": "x"}, 400),
    ],
)
async def test_requests_the_direct_path_does_not_take(
    client: httpx.AsyncClient, world: World, paths: Paths, body: dict[str, Any], status: int
) -> None:
    query = fresh("query A { me { id } } query B { me { email } }")
    await client.post("/graphql", json={"query": query, "operationName": "A"})  # remembered
    paths.strawberry = 0
    first, second = await twice(client, {"query": query, **body}, world.student)
    assert first.status_code == status
    same(first, second)
    assert paths.direct == 0


async def test_batches_and_other_content_types_never_take_the_direct_path(
    client: httpx.AsyncClient, world: World, paths: Paths
) -> None:
    query = fresh("{ me { id } }")
    headers = {"authorization": f"Bearer {world.student.token}"}
    await client.post("/graphql", json={"query": query}, headers=headers)
    assert paths.strawberry == 1
    batch = await client.post("/graphql", json=[{"query": query}], headers=headers)
    text = await client.post(
        "/graphql", content=b'{"query": "{ me { id } }"}', headers={**headers, "content-type": "text/plain"}
    )
    streamed = await client.post("/graphql", json={"query": query}, headers={**headers, "accept": "text/event-stream"})
    assert batch.status_code == 400
    assert text.status_code == 415
    assert streamed.status_code == 406  # no event streams here
    assert paths.direct == 0


async def test_masked_internal_errors_are_the_same(
    client: httpx.AsyncClient, world: World, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise KeyError("/etc/passwd")

    monkeypatch.setattr(Filters, "apply", boom)
    result = same(*await twice(client, {"query": fresh("{ items { totalCount } }")}, world.student))
    assert result["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "prepared-test"}
    assert "passwd" not in str(result)
    assert paths.direct == 1


async def test_unexpected_failure_outside_resolvers_is_masked(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = fresh("{ me { id } }")
    await client.post("/graphql", json={"query": query}, headers={"authorization": f"Bearer {world.student.token}"})

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("executor exploded")

    monkeypatch.setattr("graphql_api.api.core.execution.execute", broken)
    response = await client.post(
        "/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {world.student.token}", "x-request-id": "boom"},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "boom"}
    assert "exploded" not in response.text


@pytest.fixture(scope="module")
async def prod(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with production_client(database_url) as http:
        yield http


async def test_suggestions_stay_hidden_in_production(prod: httpx.AsyncClient, world: World, paths: Paths) -> None:
    variables = adjust(gid("InventoryItem", world.items["a1"][0].id), 0, reason="RESTOK")
    result = same(*await twice(prod, {"query": fresh(ADJUST), "variables": variables}, world.admin))
    assert "Did you mean" not in str(result)
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert paths.direct == 1


def test_the_direct_path_knows_every_schema_extension() -> None:
    from graphql_api.api.schema import build_schema

    for introspection in (True, False):
        schema = build_schema(introspection=introspection)
        assert schema.direct_path_problems() == [], "\n".join(schema.direct_path_problems())


def test_an_unknown_extension_turns_the_direct_path_off_and_says_what_to_do() -> None:
    from graphql import parse
    from strawberry.extensions import SchemaExtension

    from graphql_api.api.core.execution import Schema
    from graphql_api.api.schema import build_schema

    class Tracing(SchemaExtension):
        def on_execute(self) -> Any:
            yield

    base = build_schema()
    schema = Schema(query=base.query, mutation=base.mutation, extensions=[*base.extensions, Tracing])
    [problem] = schema.direct_path_problems()
    assert "Tracing" in problem
    assert "DIRECT_PATH_EXTENSIONS" in problem
    schema.remember("{ me { id } }", parse("{ me { id } }"))
    assert schema.prepared("{ me { id } }", None) is None
