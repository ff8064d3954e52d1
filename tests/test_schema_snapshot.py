"""`schema.graphql` is the checked-in API surface: it must equal the schema the code builds."""

from __future__ import annotations

import difflib
from pathlib import Path

from graphql import build_schema as build_sdl_schema

from graphql_api.api.schema import build_schema, printed_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
HINT = "schema.graphql is stale: run `graphql-api export-schema` and commit the result"


def test_checked_in_schema_equals_the_printed_schema() -> None:
    expected = printed_schema()
    actual = SCHEMA_FILE.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "schema.graphql (checked in)",
                "printed_schema() (from the code)",
                n=2,
            )
        )
        raise AssertionError(f"{HINT}.\n{diff[:6000]}")


def test_printed_schema_is_stable_and_ends_with_one_newline() -> None:
    # Two builds print the same bytes (no ordering that depends on dict/set iteration).
    first, second = printed_schema(), printed_schema()
    assert first == second
    assert first.endswith("}\n")
    assert not first.endswith("\n\n")


def test_checked_in_schema_is_valid_sdl_with_the_code_root_fields() -> None:
    # The file is not only equal text: it parses into a schema with the same root fields.
    sdl_schema = build_sdl_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    code_schema = build_schema()._schema
    assert sdl_schema.query_type is not None
    assert sdl_schema.mutation_type is not None
    for root in ("query_type", "mutation_type", "subscription_type"):
        sdl_root, code_root = getattr(sdl_schema, root), getattr(code_schema, root)
        assert (sdl_root is None) == (code_root is None), root
        if sdl_root is not None:
            assert sorted(sdl_root.fields) == sorted(code_root.fields)
