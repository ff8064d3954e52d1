"""The matrix keeps its promise to a new domain, checked without a database: a domain of the
domain list without tests/api/<domain>/authz.py, or a node type, Query field or mutation
without a case, is reported (never skipped); a case for something gone is reported; and the
domain's authz.py is the only matrix file a new domain needs, since the core names no domain."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import strawberry
from strawberry.types.base import get_object_definition

from graphql_api.api.core.domain import Domain
from graphql_api.api.core.relay import Node
from graphql_api.api.domains import DOMAINS, PACKAGES
from graphql_api.api.schema import build_schema
from graphql_api.db import models
from tests.authz import AUTHENTICATED, NOT_FOUND, DomainCases, MutationCase, NodeCases, static, with_target
from tests.authz.cases import KIT_TABLES
from tests.authz.coverage import all_problems
from tests.authz.discovery import discover
from tests.conftest import repo_root

TABLES = list(models.Base.metadata.tables)


# ---- a throwaway domain: one node type, a by-id field and a mutation ---------------------


@strawberry.type(description="A label on an item (a throwaway domain).")
class ScratchTag(Node):
    label: str = strawberry.field(description="The label.")


@strawberry.type
class ScratchQuery:
    @strawberry.field(description="One tag by ID.")  # type: ignore[untyped-decorator]
    def scratch_tag(self, id: strawberry.ID) -> ScratchTag | None:
        return None


@strawberry.input(description="A label for an item.")
class TagScratchInput:
    item_id: strawberry.ID = strawberry.field(description="The item.")
    label: str = strawberry.field(description="The label.")


@strawberry.type
class ScratchMutation:
    @strawberry.mutation(description="Attach a label to an item.")  # type: ignore[untyped-decorator]
    def tag_scratch(self, input: TagScratchInput) -> ScratchTag | None:
        return None


SCRATCH = Domain(name="scratch", query=ScratchQuery, mutation=ScratchMutation, types=(ScratchTag,))
WITH_SCRATCH = build_schema(domains=(*DOMAINS, SCRATCH))

SCRATCH_CASES = DomainCases(
    nodes={"ScratchTag": NodeCases(world_b=lambda s: [], in_scope=lambda s, caller: [])},
    queries={"scratchTag": AUTHENTICATED},
    mutations={
        "tagScratch": MutationCase(
            access=AUTHENTICATED,
            target="InventoryItem",
            slot="itemId",
            attack=with_target("itemId", label="x"),
            out_of_scope=NOT_FOUND,
            in_scope=static({"label": "x"}),
            success="TagPayload",
        )
    },
)


def test_the_real_domains_have_no_problem() -> None:
    assert all_problems(build_schema(), DOMAINS, discover(PACKAGES), TABLES) == []


def test_a_new_domain_without_cases_is_reported_not_skipped() -> None:
    problems = all_problems(WITH_SCRATCH, (*DOMAINS, SCRATCH), discover((*PACKAGES, "scratch")), TABLES)
    assert problems == [
        "domain 'scratch' has no authorization-matrix cases: create tests/api/scratch/authz.py"
        " with CASES = DomainCases(...) (see docs/adding-a-domain.md)",
        "node type ScratchTag (domain scratch) has no case in tests/api/scratch/authz.py",
        "Query field scratchTag (domain scratch) has no case in tests/api/scratch/authz.py",
        "mutation tagScratch (domain scratch) has no case in tests/api/scratch/authz.py",
    ]


def test_the_new_domains_own_cases_are_all_it_needs() -> None:
    matrix = discover(PACKAGES)
    matrix.add("scratch", SCRATCH_CASES)
    assert all_problems(WITH_SCRATCH, (*DOMAINS, SCRATCH), matrix, TABLES) == []


def test_cases_for_what_the_schema_does_not_have_are_reported() -> None:
    matrix = discover(PACKAGES)
    matrix.add("scratch", SCRATCH_CASES)
    assert all_problems(build_schema(), DOMAINS, matrix, [*TABLES, "item_tags"]) == [
        "tests/api/scratch/authz.py has a case for node type ScratchTag, which the schema does not have (any more)",
        "tests/api/scratch/authz.py has a case for Query field scratchTag, which the schema does not have (any more)",
        "tests/api/scratch/authz.py has a case for mutation tagScratch, which the schema does not have (any more)",
        "table item_tags is in no domain's authz.py: add it to `tables` (compared) or `records`",
    ]


def test_a_case_declared_twice_or_by_another_domain_is_reported() -> None:
    matrix = discover(PACKAGES)
    matrix.add("scratch", DomainCases(mutations={"login": SCRATCH_CASES.mutations["tagScratch"]}))
    matrix.add("other", SCRATCH_CASES)
    assert all_problems(WITH_SCRATCH, (*DOMAINS, SCRATCH), matrix, TABLES) == [
        "mutations: login is declared twice, in tests/api/auth/authz.py and tests/api/scratch/authz.py",
        "node type ScratchTag belongs to domain scratch but its case is in tests/api/other/authz.py",
        "Query field scratchTag belongs to domain scratch but its case is in tests/api/other/authz.py",
        "mutation tagScratch belongs to domain scratch but its case is in tests/api/other/authz.py",
    ]


# ---- what an authz module must be ----------------------------------------------------------


@pytest.fixture
def scratch_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable package `scratch_matrix_cases/tags/` to hold a domain's authz.py."""
    package = tmp_path / "scratch_matrix_cases" / "tags"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    # Each test writes its own authz.py: the next one must not get this one from the cache.
    for name in [n for n in sys.modules if n.split(".")[0] == "scratch_matrix_cases"]:
        del sys.modules[name]


def test_an_authz_module_without_cases_is_reported(scratch_package: Path) -> None:
    (scratch_package / "authz.py").write_text("CASES = {}\n")
    matrix = discover(("tags",), template="scratch_matrix_cases.{}.authz")
    assert matrix.problems == ["scratch_matrix_cases/tags/authz.py must define CASES = DomainCases(...)"]


def test_an_authz_module_that_fails_to_import_is_an_error_not_a_missing_module(scratch_package: Path) -> None:
    (scratch_package / "authz.py").write_text("import scratch_matrix_no_such_module\n")
    with pytest.raises(ModuleNotFoundError, match="scratch_matrix_no_such_module"):
        discover(("tags",), template="scratch_matrix_cases.{}.authz")


# ---- the core names no domain ---------------------------------------------------------------

CORE = [*sorted((repo_root() / "tests" / "authz").glob("*.py")), repo_root() / "tests" / "test_authorization_matrix.py"]


def _domain_words() -> set[str]:
    """Names only a domain may know: its node types, fields, tables and its name."""
    schema = build_schema()._schema
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    fields = (set(schema.query_type.fields) - {"node", "nodes"}) | set(schema.mutation_type.fields)
    node_types = {get_object_definition(t, strict=True).name for d in DOMAINS for t in d.types}
    # The kit's own tables (the outbox, job runs) are the core's to name.
    return fields | node_types | (set(TABLES) - set(KIT_TABLES)) | set(PACKAGES)


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(tree: ast.Module) -> list[str]:
    """Every string literal but docstrings (which may speak of domains as examples)."""
    docstrings = _docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_matrix_core_names_no_domain(path: Path) -> None:
    words = _domain_words()
    tree = ast.parse(path.read_text())
    named = {word for text in _strings(tree) for word in words if word in text.replace(".", " ").split()}
    # Names the core reads (a domain's module, say); a name it defines, such as a field of
    # its own dataclasses, is its own word even when a domain has the same name.
    named |= {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in words
    }
    assert named == set(), f"{path.name} names {sorted(named)}: that belongs in the domain's authz.py"
