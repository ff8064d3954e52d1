"""Nothing in the schema escapes the matrix: every node type, every Query field taking an ID,
every mutation and every table has a case in the authz.py of the domain that owns it, and
no case names something the schema no longer has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from strawberry.types.base import get_object_definition

from graphql_api.api.core.domain import Domain
from graphql_api.api.core.execution import Schema
from tests.authz.discovery import KIT, Matrix
from tests.authz.schema import mutation_fields, node_type_names, query_fields_with_ids

# DomainCases field -> what its keys name, in messages.
KINDS = {"nodes": "node type", "queries": "Query field", "mutations": "mutation"}


def owners(schema: Schema, domains: Sequence[Domain]) -> dict[tuple[str, str], str]:
    """(kind, name) -> the domain whose package defines it (the kit's `node`/`nodes` aside)."""
    convert = schema.config.name_converter
    out: dict[tuple[str, str], str] = {("queries", "node"): KIT, ("queries", "nodes"): KIT}
    for domain in domains:
        for kind, root in (("queries", domain.query), ("mutations", domain.mutation)):
            fields = get_object_definition(root, strict=True).fields if root is not None else []
            out.update({(kind, convert.from_field(f)): domain.name for f in fields})
        out.update({("nodes", get_object_definition(t, strict=True).name): domain.name for t in domain.types})
    return out


def _declared_where(matrix: Matrix, domain: str) -> str:
    return "the kit's fields (tests/authz/cases.py)" if domain == KIT else matrix.path(domain)


def problems_of(kind: str, in_schema: Iterable[str], matrix: Matrix, owner: dict[tuple[str, str], str]) -> list[str]:
    """Missing, stale and misplaced cases of one kind (a DomainCases field)."""
    what, wanted = KINDS[kind], set(in_schema)
    declared = {key for k, key in matrix.declared_by if k == kind}
    found: list[str] = []
    for name in sorted(wanted - declared):
        domain = owner.get((kind, name), "?")
        found.append(f"{what} {name} (domain {domain}) has no case in {_declared_where(matrix, domain)}")
    for name in sorted(declared - wanted):
        where = _declared_where(matrix, matrix.declared_by[(kind, name)])
        found.append(f"{where} has a case for {what} {name}, which the schema does not have (any more)")
    for name in sorted(declared & wanted):
        owned_by, by = owner.get((kind, name)), matrix.declared_by[(kind, name)]
        if owned_by is not None and by != owned_by:
            found.append(f"{what} {name} belongs to domain {owned_by} but its case is in {_declared_where(matrix, by)}")
    return found


def table_problems(tables: Iterable[str], matrix: Matrix) -> list[str]:
    found: list[str] = []
    for table in sorted(set(tables) - set(matrix.tables) - set(matrix.records)):
        found.append(f"table {table} is in no domain's authz.py: add it to `tables` (compared) or `records`")
    for table in sorted((set(matrix.tables) | set(matrix.records)) - set(tables)):
        found.append(f"table {table} of an authz.py does not exist (any more)")
    found.extend(f"table {t} is both compared and recording" for t in sorted(set(matrix.tables) & set(matrix.records)))
    return found


def all_problems(schema: Schema, domains: Sequence[Domain], matrix: Matrix, tables: Iterable[str]) -> list[str]:
    graphql = schema._schema
    owner = owners(schema, domains)
    return [
        *matrix.problems,
        *problems_of("nodes", node_type_names(graphql), matrix, owner),
        *problems_of("queries", query_fields_with_ids(graphql), matrix, owner),
        *problems_of("mutations", mutation_fields(graphql), matrix, owner),
        *table_problems(tables, matrix),
    ]
