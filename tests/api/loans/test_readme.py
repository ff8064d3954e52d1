"""The README's loan walk-through pastes into GraphiQL as it is: every GraphQL block of its
Loans section parses and validates against the schema."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from graphql_api.api.schema import build_schema
from tests.conftest import repo_root


def _blocks() -> list[str]:
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Loans\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```graphql\n(.*?)```", section, re.DOTALL)
    inline = re.findall(r"`(subscription \{.*?\})`", section)
    return [*blocks, *inline]


def test_the_section_has_the_walk_through() -> None:
    assert len(_blocks()) == 9


@pytest.mark.parametrize("document", _blocks())
def test_each_block_is_a_valid_operation(document: str) -> None:
    schema = build_schema()._schema
    assert validate(schema, parse(document)) == []
