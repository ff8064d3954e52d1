"""The authorization matrix (BOLA / BFLA), generated from the schema; it names no domain.

Each domain declares its cases in tests/api/<domain>/authz.py (`CASES = DomainCases(...)`,
see cases.py); discovery.py finds them through graphql_api.api.domains.PACKAGES, coverage.py
fails for anything of the schema without a case, and tests/test_authorization_matrix.py
drives the checks of queries.py, mutations.py and nested.py.
"""

from tests.authz.cases import (
    AG_ONLY,
    AUTHENTICATED,
    NOT_FOUND,
    PUBLIC,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Outcome,
    Reached,
    Table,
    in_scope_of,
    on_own_object,
    static,
    unique,
    with_target,
)
from tests.authz.expect import for_each_caller
from tests.authz.scene import ANONYMOUS, CALLERS, ROLES, Scene, changes

__all__ = [
    "AG_ONLY",
    "ANONYMOUS",
    "AUTHENTICATED",
    "CALLERS",
    "NOT_FOUND",
    "PUBLIC",
    "ROLES",
    "DomainCases",
    "MutationCase",
    "Nested",
    "NodeCases",
    "Outcome",
    "Reached",
    "Scene",
    "Table",
    "changes",
    "for_each_caller",
    "in_scope_of",
    "on_own_object",
    "static",
    "unique",
    "with_target",
]
