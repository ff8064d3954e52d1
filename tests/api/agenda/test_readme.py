"""The README's Agenda example pastes into GraphiQL as it is."""

from __future__ import annotations

import re

from graphql import parse, validate

from graphql_api.api.schema import build_schema
from tests.conftest import repo_root


def test_the_example_is_a_valid_query() -> None:
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Agenda\n", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert validate(build_schema()._schema, parse(example)) == []
