"""What answers must look like: refused, missing, or the expected union member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLList

from tests.authz.cases import AUTHENTICATED, PUBLIC, Outcome
from tests.authz.discovery import Matrix
from tests.authz.scene import ANONYMOUS, CALLERS, ROLE_OF
from tests.authz.schema import QUERY_TYPE, is_connection, is_list_of_nodes, strip_non_null
from tests.conftest import error_codes


def may_call(matrix: Matrix, root: str, field_name: str, caller: str) -> bool:
    access = matrix.access(root, field_name)
    if access == PUBLIC:
        return True
    if caller == ANONYMOUS:
        return False
    return access == AUTHENTICATED or ROLE_OF[caller] in access


def denial_code(caller: str) -> str:
    return "UNAUTHENTICATED" if caller == ANONYMOUS else "FORBIDDEN"


def check_denied(result: dict[str, Any], caller: str, context: str) -> None:
    # Non-null fields null the whole `data`; nullable ones are null themselves.
    assert result["data"] in (None, {"result": None}), f"{context}: {result}"
    assert error_codes(result) == [denial_code(caller)], f"{context}: {result}"


def check_outcome(result: dict[str, Any], expected: Outcome, context: str) -> None:
    assert not result.get("errors"), f"{context}: {result}"
    value = result["data"]["result"]
    assert value["__typename"] == expected.typename, f"{context}: {value}"
    if expected.typename == "NotFoundError":
        assert value["code"] == "NOT_FOUND"
    if expected.typename == "ValidationError":
        got = tuple((e["field"], e["code"]) for e in value["fieldErrors"])
        assert got == expected.field_errors, f"{context}: {value}"


def assert_looks_missing(field_name: str, result: dict[str, Any], context: str) -> None:
    assert not result.get("errors"), f"{context}: {result}"
    value = result["data"]["result"]
    if is_list_of_nodes(field_name):
        assert value, context
        assert all(v is None for v in value), f"{context}: {value}"
    elif isinstance(strip_non_null(QUERY_TYPE.fields[field_name].type), GraphQLList):
        # A list about the objects given: nothing, or nothing at the place of each id asked for.
        assert all(v is None for v in value), f"{context}: {value}"
    elif is_connection(field_name):
        assert value == {"totalCount": 0, "edges": []}, f"{context}: {value}"
    else:
        assert value is None, f"{context}: {value}"


async def for_each_caller(check: Callable[[str], Awaitable[None]], callers: tuple[str, ...] = CALLERS) -> None:
    """Run `check` for every caller and report every failing caller, not just the first."""
    failures: list[str] = []
    for caller in callers:
        try:
            await check(caller)
        except AssertionError as error:
            failures.append(f"[{caller}] {error}")
    assert not failures, "\n\n".join(failures)
