"""Validation is linear in the document (issue 10, item 14): shared fragments are expanded once,
never once per path, and an over-large expansion is refused before any other rule runs.

Work is counted, not timed: `work_budget` counts the Python function calls made while a request
is answered (the whole request: HTTP, parsing, validation) and aborts it once they pass a
budget, so a document that would take hours to validate fails fast instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from types import FrameType
from typing import Any

import httpx
import pytest
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Visitor,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
    visit,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.execution import MAX_TOKENS, VALIDATION_RULES
from graphql_api.api.core.limits import MAX_SELECTIONS, DocumentLimits, check_document
from graphql_api.api.core.validation_rules import OneCredentialField
from graphql_api.api.schema import build_schema
from tests.conftest import error_codes, without_cost
from tests.security.test_query_limits import assert_nothing_executed, create_center, only_error, post

# A small request makes ~2 300 calls in all; the 30-level bomb as strawberry's limiters walk it,
# billions.
REQUEST_CALLS = 100_000


class WorkBudgetExceeded(BaseException):
    """Not an Exception: nothing on the request path may catch and mask it."""


@contextlib.contextmanager
def work_budget(calls: int) -> Iterator[list[int]]:
    counted = [0]

    def count(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            counted[0] += 1
            if counted[0] > calls:
                raise WorkBudgetExceeded(f"more than {calls} calls")

    sys.setprofile(count)
    try:
        yield counted
    finally:
        sys.setprofile(None)


def bomb(levels: int, root: str = "Query", base: str = "__typename") -> str:
    """`...F<levels>` stands for 2^levels copies of `base`."""
    fragments = " ".join(f"fragment F{i} on {root} {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1))
    operation = "mutation" if root == "Mutation" else "query"
    # A fresh comment: the text is new to the document cache, so it is really validated.
    return f"{operation} {{ ...F{levels} }} fragment F0 on {root} {{ {base} }} {fragments} # {uuid.uuid4().hex}"


def selections(query: str) -> int:
    """AST selections (fields, spreads, inline fragments) written in the document."""
    count = [0]

    class Count(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            if isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode):
                count[0] += 1

    visit(parse(query), Count())
    return count[0]


async def test_a_small_request_fits_the_work_budget_many_times(client: httpx.AsyncClient) -> None:
    with work_budget(REQUEST_CALLS) as counted:
        body = await post(client, "{ __typename } # " + uuid.uuid4().hex)
    assert without_cost(body) == {"data": {"__typename": "Query"}}
    assert counted[0] < REQUEST_CALLS / 4


async def test_the_fragment_bomb_is_refused_with_linear_work(client: httpx.AsyncClient) -> None:
    query = bomb(30)
    assert len(query.encode()) < 1300
    with work_budget(REQUEST_CALLS):
        body = await post(client, query)
    assert only_error(body) == (
        f"'anonymous' expands to {2**31 + 2**30 - 1} selections through its fragments. Allowed: {MAX_SELECTIONS}"
    )


async def test_a_mutation_bomb_executes_nothing(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    query = bomb(30, "Mutation", create_center(1))
    with work_budget(REQUEST_CALLS):
        body = await post(client, query)
    assert "selections through its fragments" in only_error(body)
    await assert_nothing_executed(db)


async def test_a_bomb_closing_a_cycle_is_refused_with_linear_work(client: httpx.AsyncClient) -> None:
    query = bomb(30, base="...F30")
    with work_budget(REQUEST_CALLS):
        body = await post(client, query)
    assert body["data"] is None
    assert set(error_codes(body)) == {"BAD_REQUEST"}
    for error in body["errors"]:  # once per spread of F0 in F1: graphql-core's NoFragmentCycles
        assert error["message"].startswith("Cannot spread fragment 'F0' within itself via 'F30', 'F29'")


@pytest.mark.parametrize("levels", [10, 20, 30])
def test_each_fragment_is_walked_once(levels: int) -> None:
    query = bomb(levels)
    limits = DocumentLimits(parse(query))
    assert limits.errors()
    # Each selection walked once, each spread combined once more.
    assert limits.visited == selections(query) + 2 * levels + 1


def test_the_largest_document_written_out_in_full_passes() -> None:
    # The expansion limit equals the token limit: fragments may shorten a document, not multiply it.
    assert MAX_SELECTIONS == MAX_TOKENS
    fields = " ".join(["__typename"] * (MAX_SELECTIONS - 1))
    assert DocumentLimits(parse("{ ...F } fragment F on Query { " + fields + " }")).errors() == []
    assert DocumentLimits(parse("{ ...F __typename } fragment F on Query { " + fields + " }")).errors()


def test_graphiql_introspection_passes_the_limits() -> None:
    # Its `ofType` chains nest deeper than MAX_DEPTH: introspection fields do not count for depth.
    schema = build_schema()._schema
    document = parse(get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert check_document(schema, document) == []
    assert validate(schema, document, (*specified_rules, *VALIDATION_RULES)) == []


async def test_an_empty_selection_set_is_answered(client: httpx.AsyncClient) -> None:
    # graphql-core accepts empty selection sets; strawberry's depth limiter took max() of one and
    # its ValueError went out as an error without a code ("max() arg is an empty sequence").
    body = await post(client, "{ __typename ... { } } # " + uuid.uuid4().hex)
    assert without_cost(body) == {"data": {"__typename": "Query"}}


def test_one_credential_field_walks_shared_fragments_once() -> None:
    # 230 mutations spreading one fragment of 200 selections: walked once, not 230 times.
    query = "fragment R on Mutation { " + "... { } " * 200 + "} "
    query += " ".join(f"mutation A{i} {{ ...R }}" for i in range(230))
    schema, document = build_schema()._schema, parse(query, max_tokens=MAX_TOKENS)

    with work_budget(10**7) as visiting:
        assert validate(schema, document, [ASTValidationRule]) == []
    with work_budget(10**7) as checking:
        assert validate(schema, document, [OneCredentialField]) == []
    assert checking[0] - visiting[0] < 3 * selections(query)
