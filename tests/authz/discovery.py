"""Finding every domain's cases: `tests.api.<name>.authz` for each name of the domain list,
merged into one `Matrix`. Nothing here raises for a domain without cases: every problem is
collected, and the matrix's structure tests fail with all of them at once."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.authz.cases import (
    KIT_QUERIES,
    KIT_TABLES,
    Access,
    Check,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Table,
)

TEMPLATE = "tests.api.{}.authz"
KIT = "the kit"
# The DomainCases mappings whose keys name one thing each (a second declaration is a mistake).
MERGED = ("nodes", "id_names", "queries", "mutations", "tables", "records")


@dataclass
class Matrix:
    """Every domain's declarations merged; `declared_by[(kind, key)]` is the declaring domain."""

    template: str = TEMPLATE
    domains: dict[str, DomainCases] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    declared_by: dict[tuple[str, str], str] = field(default_factory=dict)
    nodes: dict[str, NodeCases] = field(default_factory=dict)
    id_names: dict[str, str] = field(default_factory=dict)
    queries: dict[str, Access] = field(default_factory=dict)
    mutations: dict[str, MutationCase] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    nested: list[Nested] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)

    def path(self, domain: str) -> str:
        return self.template.format(domain).replace(".", "/") + ".py"

    def node(self, type_name: str) -> NodeCases:
        cases = self.nodes.get(type_name)
        if cases is None:
            pytest.fail(f"node type {type_name} has no NodeCases in its domain's authz.py")
        return cases

    def case(self, name: str) -> MutationCase:
        case = self.mutations.get(name)
        if case is None:
            pytest.fail(f"mutation {name} has no MutationCase: add one to its domain's authz.py")
        return case

    def access(self, root: str, field_name: str) -> Access:
        if root == "Mutation":
            return self.case(field_name).access
        if field_name not in self.queries:
            pytest.fail(f"Query.{field_name} takes an ID but no authz.py gives its access per SPEC.md")
        return self.queries[field_name]

    def add(self, name: str, cases: DomainCases) -> None:
        self.domains[name] = cases
        for kind in MERGED:
            self._merge(kind, name, getattr(cases, kind))
        if cases.nested is not None:
            self.nested.append(cases.nested)
        self.checks.update({f"{name}.{check}": run for check, run in cases.checks.items()})

    def _merge(self, kind: str, domain: str, declared: Mapping[str, Any]) -> None:
        merged: dict[str, Any] = getattr(self, kind)
        for key, value in declared.items():
            earlier = self.declared_by.setdefault((kind, key), domain)
            if earlier != domain and kind == "id_names" and merged.get(key) == value:
                continue  # an argument name that means the same type in several domains
            if earlier != domain:
                where = f"{self.path(earlier)} and {self.path(domain)}"
                self.problems.append(f"{kind}: {key} is declared twice, in {where}")
                continue
            merged[key] = value


def discover(packages: Iterable[str], template: str = TEMPLATE) -> Matrix:
    """The cases of every domain package named in `packages` (graphql_api.api.domains.PACKAGES)."""
    matrix = Matrix(template=template)
    for key in KIT_QUERIES:
        matrix.declared_by[("queries", key)] = KIT
    matrix.queries.update(KIT_QUERIES)
    matrix.tables.update(KIT_TABLES)
    for name in packages:
        cases = _load(matrix, name)
        if cases is not None:
            matrix.add(name, cases)
    return matrix


def _load(matrix: Matrix, name: str) -> DomainCases | None:
    module_name = matrix.template.format(name)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # Only the module itself (or its package) missing; a broken import inside it is a bug.
        if error.name is None or not (module_name == error.name or module_name.startswith(error.name + ".")):
            raise
        matrix.problems.append(
            f"domain {name!r} has no authorization-matrix cases: create {matrix.path(name)}"
            " with CASES = DomainCases(...) (see docs/adding-a-domain.md)"
        )
        return None
    cases = getattr(module, "CASES", None)
    if not isinstance(cases, DomainCases):
        matrix.problems.append(f"{matrix.path(name)} must define CASES = DomainCases(...)")
        return None
    return cases
