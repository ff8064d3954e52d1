"""Document limits: aliases, fragment amplification, depth, circular fragments, tokens and
directives (catalogue S07-S13). Every rejection must happen before execution.

The witness that nothing executed: the documents are mutations of `createCenter`, sent
anonymously. Executed, each field writes a DENIED audit row (the positive controls show it);
rejected during parsing or validation, nothing is written.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.execution import MAX_TOKENS
from graphql_api.api.core.limits import MAX_ALIASES, MAX_DEPTH
from graphql_api.api.core.validation_rules import MAX_DIRECTIVES
from graphql_api.db import models
from tests.conftest import GraphQLClient, World, error_codes
from tests.security import audit_rows, count_rows

# Sanity bound only (the catalogue wants < 100 ms); generous so a slow CI box never flakes.
REJECTION_SECONDS = 5.0


def create_center(n: int, selection: str = "__typename", directives: str = "") -> str:
    return f'createCenter(input: {{name: "N{n}", code: "K{n}", location: "x"}}) {directives} {{ {selection} }}'


def aliased_mutation(count: int) -> str:
    """One `createCenter` and `count` aliases in all (the rest cheap `__typename`s: 10k aliased
    createCenter fields would not fit the body limit)."""
    aliases = " ".join(f"a{i}: __typename" for i in range(1, count))
    return "mutation { a0: " + create_center(0) + " " + aliases + " }"


async def post(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def assert_nothing_executed(db: async_sessionmaker[AsyncSession]) -> None:
    assert await audit_rows(db) == []
    assert await count_rows(db, models.Center) == 0


def only_error(body: dict[str, Any]) -> str:
    assert body["data"] is None
    assert len(body["errors"]) == 1, body["errors"]
    assert error_codes(body) == ["BAD_REQUEST"]
    message: str = body["errors"][0]["message"]
    return message


def test_limits_are_the_documented_ones() -> None:
    assert (MAX_DEPTH, MAX_ALIASES, MAX_TOKENS, MAX_DIRECTIVES) == (10, 15, 2000, 50)


async def test_positive_control_executed_mutations_leave_audit_rows(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    body = await post(client, aliased_mutation(MAX_ALIASES))
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert [(r.operation, r.outcome, r.error_code) for r in await audit_rows(db)] == [
        ("createCenter", models.AuditOutcome.DENIED, "UNAUTHENTICATED")
    ]


# ---- S07 aliases --------------------------------------------------------------------------------


async def test_s07_fifteen_aliases_are_allowed(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES)) + " }"
    data = await gql.data(query)
    assert data == {f"a{i}": "Query" for i in range(MAX_ALIASES)}


async def test_s07_sixteen_aliases_are_refused(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    assert only_error(await post(client, aliased_mutation(16))) == "16 aliases found. Allowed: 15"
    await assert_nothing_executed(db)


async def test_s07_101_aliases(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    assert only_error(await post(client, aliased_mutation(101))) == "101 aliases found. Allowed: 15"
    await assert_nothing_executed(db)


async def test_s07_10k_aliases_stop_at_the_token_limit(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    query = aliased_mutation(10_000)
    assert len(query.encode()) < 1024 * 1024  # under the body limit: the token limit is what stops it
    started = time.perf_counter()
    body = await post(client, query)
    elapsed = time.perf_counter() - started
    assert only_error(body) == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    assert elapsed < REJECTION_SECONDS
    await assert_nothing_executed(db)


# ---- S08 alias amplification through fragments ---------------------------------------------------


async def test_s08_fragment_alias_amplification(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    fragment = "fragment F on CenterPayload { " + " ".join(f"f{i}: __typename" for i in range(20)) + " }"
    query = (
        "mutation { "
        + " ".join(f"a{i}: {create_center(i, '... on CenterPayload { ...F }')}" for i in range(20))
        + " } "
        + fragment
    )
    assert only_error(await post(client, query)) == "420 aliases found. Allowed: 15"
    await assert_nothing_executed(db)


async def test_s08_query_fragment_amplification(client: httpx.AsyncClient) -> None:
    fragment = "fragment N on Node { " + " ".join(f"f{i}: id" for i in range(20)) + " }"
    query = "{ " + " ".join(f'a{i}: node(id: "x") {{ ...N }}' for i in range(20)) + " } " + fragment
    assert only_error(await post(client, query)) == "420 aliases found. Allowed: 15"


# ---- S09 depth ----------------------------------------------------------------------------------


CENTER_CYCLE = ["environments", "edges", "node", "center"]  # Center -> ... -> Center


def nest(fields: list[str]) -> str:
    return " { ".join(fields) + " { __typename" + " }" * len(fields)


def centers_path(length: int) -> list[str]:
    """`centers { edges { node { environments { edges { node { center { ...` of `length` fields."""
    path = ["centers", "edges", "node"]
    while len(path) < length:
        path.append(CENTER_CYCLE[(len(path) - 3) % len(CENTER_CYCLE)])
    return path[:length]


async def test_s09_depth_ten_is_allowed(gql: GraphQLClient, world: World) -> None:
    # `centers` counts as depth 1: MAX_DEPTH nested fields reach depth 10.
    data = await gql.data("query Deep { " + nest(centers_path(MAX_DEPTH)) + " }", token=world.admin_general)
    assert len(data["centers"]["edges"]) == 2


async def test_s09_depth_eleven_is_refused(gql: GraphQLClient, world: World) -> None:
    result = await gql.execute("query Deep { " + nest(centers_path(MAX_DEPTH + 1)) + " }", token=world.admin_general)
    assert only_error(result) == "'Deep' exceeds maximum operation depth of 10"


async def test_s09_depth_25(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    assert only_error(await post(client, "query Deep { " + nest(centers_path(25)) + " }")) == (
        "'Deep' exceeds maximum operation depth of 10"
    )
    center = ["center", *(CENTER_CYCLE * 6)][:23]
    query = "mutation Deep { " + create_center(1, "... on CenterPayload { " + nest(center) + " }") + " }"
    assert only_error(await post(client, query)) == "'Deep' exceeds maximum operation depth of 10"
    await assert_nothing_executed(db)


async def test_s09_depth_through_fragments_is_counted(client: httpx.AsyncClient) -> None:
    # The same 25 levels spread over fragments: fragments do not hide depth.
    fragments = " ".join(
        f"fragment F{i} on Environment {{ center {{ environments {{ edges {{ node {{ ...F{i + 1} }} }} }} }} }}"
        for i in range(6)
    )
    query = (
        "query Deep { environments { edges { node { ...F0 } } } } " + fragments + " fragment F6 on Environment { id }"
    )
    assert only_error(await post(client, query)) == "'Deep' exceeds maximum operation depth of 10"


# ---- S10 circular fragments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragments", "message"),
    [
        (
            "fragment A on Mutation { ...B } fragment B on Mutation { ...A }",
            "Cannot spread fragment 'A' within itself via 'B'.",
        ),
        ("fragment A on Mutation { ...A }", "Cannot spread fragment 'A' within itself."),
        (
            "fragment A on Mutation { ...B } fragment B on Mutation { ...C } fragment C on Mutation { ...A }",
            "Cannot spread fragment 'A' within itself via 'B', 'C'.",
        ),
    ],
)
async def test_s10_circular_fragments(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], fragments: str, message: str
) -> None:
    fragments = fragments.replace("{ ...A }", "{ " + create_center(1) + " ...A }", 1)
    body = await post(client, "mutation { ...A } " + fragments)
    assert only_error(body) == message
    await assert_nothing_executed(db)


# ---- S11 circular introspection (test mode: introspection on) -------------------------------------


async def test_s11_circular_introspection_is_bounded_even_with_introspection_on(client: httpx.AsyncClient) -> None:
    query = (
        "query cop { __schema { types { fields { type { fields { type { fields { type { fields "
        "{ type { name } } } } } } } } } } }"
    )
    body = await post(client, query)
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["Maximum introspection depth exceeded"]
    assert error_codes(body) == ["BAD_REQUEST"]


# ---- S12 field duplication / tokens -------------------------------------------------------------


async def test_s12_20k_duplicated_fields_stop_at_the_token_limit(client: httpx.AsyncClient) -> None:
    query = "query cop { " + "__typename " * 20_000 + "}"
    started = time.perf_counter()
    body = await post(client, query)
    elapsed = time.perf_counter() - started
    assert only_error(body) == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    assert elapsed < REJECTION_SECONDS


async def test_s12_duplicated_fields_under_the_token_limit_are_bounded(gql: GraphQLClient) -> None:
    # 1998 identical fields fit in 2000 tokens; graphql-core's overlap budget still stops them.
    result = await gql.execute("{ " + "__typename " * (MAX_TOKENS - 2) + "}")
    assert only_error(result) == "Validation aborted."


async def test_s12_token_limit_boundary(gql: GraphQLClient) -> None:
    # Comments are tokens: `{`, `__typename`, N comments and `}` are N + 3 tokens.
    assert await gql.data("{ __typename " + "#c\n" * (MAX_TOKENS - 3) + "}") == {"__typename": "Query"}
    result = await gql.execute("{ __typename " + "#c\n" * (MAX_TOKENS - 2) + "}")
    assert only_error(result) == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."


async def test_s12_whitespace_is_not_a_token(gql: GraphQLClient) -> None:
    # The token limit ignores whitespace; the body limit is its bound (S15).
    assert await gql.data("{ __typename " + " " * 500_000 + "\n\t," * 100_000 + "}") == {"__typename": "Query"}


# ---- S13 directives -----------------------------------------------------------------------------


async def test_s13_ten_unknown_directives(client: httpx.AsyncClient) -> None:
    body = await post(client, "query cop { __typename " + "@aa" * 10 + " }")
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["Unknown directive '@aa'."] * 10
    assert set(error_codes(body)) == {"BAD_REQUEST"}


async def test_s13_errors_are_capped(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    body = await post(client, "mutation cop { " + create_center(1, directives="@aa" * 600) + " }")
    assert body["data"] is None
    assert len(body["errors"]) == 101
    messages = [e["message"] for e in body["errors"]]
    assert messages.count("More than 50 directives.") == 1
    assert messages.count("Unknown directive '@aa'.") == 99
    assert body["errors"][-1]["message"] == "Too many validation errors, error limit reached. Validation aborted."
    assert set(error_codes(body)) == {"BAD_REQUEST"}
    await assert_nothing_executed(db)


async def test_s13_2000_directives_stop_at_the_token_limit(client: httpx.AsyncClient) -> None:
    body = await post(client, "query cop { __typename " + "@aa" * 2000 + " }")
    assert only_error(body) == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."


def included(count: int) -> str:
    return " ".join("... @include(if: true) { __typename }" for _ in range(count))


async def test_s13_fifty_directives_are_allowed(gql: GraphQLClient) -> None:
    assert await gql.data("{ " + included(MAX_DIRECTIVES) + " }") == {"__typename": "Query"}


async def test_s13_more_than_fifty_directives_are_refused(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    body = await post(client, "{ " + included(MAX_DIRECTIVES + 1) + " }")
    assert only_error(body) == "More than 50 directives."
    mutation = "mutation { " + create_center(1) + " " + included(MAX_DIRECTIVES + 1) + " }"
    assert only_error(await post(client, mutation)) == "More than 50 directives."
    await assert_nothing_executed(db)
