"""Authorization matrix (BOLA / BFLA), generated from the schema.

Which fields are exercised is read from the built schema, not listed by hand:

* every root Query field with an `ID`/`[ID!]` argument, or an input object holding one;
* every root Mutation field;

and each is called by every role of world A (plus an anonymous caller) with objects that are
out of that caller's scope: world B's objects, or, for ADMIN_GENERAL who sees everything,
objects that do not exist. The answer must look exactly like a missing object (null, an empty
list, a `NotFoundError` member; or FORBIDDEN / UNAUTHENTICATED when the role may not use the
field at all, which reveals nothing about the object), and the business tables must be
byte-for-byte unchanged (tables that record attempts, like the audit log, are declared so).
The same fields are then called with in-scope objects and must succeed for the roles that
may act; who may act is written from SPEC.md and checked against each field's directive.

How to call what, and which objects are in or out of scope, each domain declares in its own
tests/api/<domain>/authz.py, found through graphql_api.api.domains.PACKAGES (tests/authz/):
a domain without one, or anything of the schema without a case, fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.api.domains import DOMAINS, PACKAGES
from graphql_api.db import models
from tests.authz import NOT_FOUND, mutations, nested, queries
from tests.authz.coverage import owners, problems_of, table_problems
from tests.authz.discovery import discover
from tests.authz.expect import for_each_caller, may_call
from tests.authz.scene import ROLES, Scene, changes
from tests.authz.schema import (
    GRAPHQL,
    QUERY_TYPE,
    SCHEMA,
    directives,
    id_slots,
    mutation_fields,
    query_fields_with_ids,
    single_id_fields,
    slot_type,
)
from tests.conftest import Factory, GraphQLClient, World

MATRIX = discover(PACKAGES)
OWNERS = owners(SCHEMA, DOMAINS)
ACCESS = directives()
QUERY_FIELDS_WITH_IDS = query_fields_with_ids(GRAPHQL)
MUTATION_FIELDS = mutation_fields(GRAPHQL)
NODE_TYPES = queries.NODE_TYPES
TARGETED = [n for n in MUTATION_FIELDS if n in MATRIX.mutations and MATRIX.mutations[n].target]
EXTRA_SLOTS = [(n, s) for n, c in MATRIX.mutations.items() for s in c.extra_slots]


@pytest.fixture
async def scene(
    world: World, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], engine: AsyncEngine, factory: Factory
) -> Scene:
    s = Scene(world=world, gql=gql, db=db, engine=engine, factory=factory, matrix=MATRIX)
    for cases in MATRIX.domains.values():
        if cases.setup is not None:
            await cases.setup(s)
    return s


# ---- structure: every domain has cases, nothing in the schema escapes them ----------------


def test_every_domain_of_the_domain_list_has_its_cases() -> None:
    assert MATRIX.problems == []
    assert set(MATRIX.domains) == set(PACKAGES)


@pytest.mark.parametrize(
    ("kind", "in_schema"),
    [("nodes", NODE_TYPES), ("queries", QUERY_FIELDS_WITH_IDS), ("mutations", MUTATION_FIELDS)],
    ids=["node types", "query fields with ids", "mutations"],
)
def test_everything_of_the_schema_has_a_case_in_its_domain(kind: str, in_schema: list[str]) -> None:
    assert in_schema, f"the generator found no {kind}: the matrix would be vacuous"
    assert problems_of(kind, in_schema, MATRIX, OWNERS) == []


def test_every_table_is_compared_or_declared_recording() -> None:
    assert table_problems(models.Base.metadata.tables, MATRIX) == []


def test_generated_field_lists_are_the_real_schema() -> None:
    assert {"node", "nodes"} <= set(QUERY_FIELDS_WITH_IDS)
    assert set(ACCESS) == {("Query", n) for n in QUERY_TYPE.fields} | {("Mutation", n) for n in MUTATION_FIELDS}


@pytest.mark.parametrize(
    "key",
    [("Query", n) for n in QUERY_FIELDS_WITH_IDS] + [("Mutation", n) for n in MUTATION_FIELDS],
    ids=lambda k: f"{k[0]}.{k[1]}",
)
def test_declared_directive_matches_the_spec(key: tuple[str, str]) -> None:
    # BFLA: the permission on the field is exactly the one SPEC.md gives the operation.
    assert ACCESS[key] == MATRIX.access(*key)


@pytest.mark.parametrize("name", MUTATION_FIELDS)
def test_mutation_entry_names_every_id_of_its_input(name: str) -> None:
    # A new ID field in an input (an object reference) must be covered by the matrix.
    case = MATRIX.case(name)
    declared = ({case.slot} if case.slot else set()) | set(case.extra_slots)
    assert mutations.input_id_fields(name) == declared
    assert (case.target is None) == (case.slot is None)
    # A mutation on the caller's own rows (self_only) may name one of them (a notification):
    # another user's must then look missing.
    if case.self_only and case.target is not None:
        assert case.out_of_scope == NOT_FOUND


@pytest.mark.parametrize("name", QUERY_FIELDS_WITH_IDS)
def test_query_id_slots_name_known_types(name: str) -> None:
    for path in id_slots(QUERY_TYPE.fields[name].args):
        assert slot_type(name, MATRIX.id_names, path) in (*NODE_TYPES, "Node")


# ---- queries -----------------------------------------------------------------------------


@pytest.mark.parametrize("field_name", QUERY_FIELDS_WITH_IDS)
async def test_query_with_out_of_scope_ids_looks_like_not_found(scene: Scene, field_name: str) -> None:
    before = await scene.snapshot()
    await for_each_caller(lambda caller: queries.query_out_of_scope(scene, field_name, caller))
    assert changes(before, await scene.snapshot()) == []


@pytest.mark.parametrize("field_name", QUERY_FIELDS_WITH_IDS)
async def test_query_with_in_scope_ids_returns_them(scene: Scene, field_name: str) -> None:
    found: list[int] = []

    async def check(caller: str) -> None:
        found.append(await queries.query_in_scope(scene, field_name, caller))

    await for_each_caller(check)
    # Not vacuous: some caller's in-scope ids (or filters by them) found objects.
    assert sum(found), f"{field_name}: no caller's in-scope ids matched anything"


@pytest.mark.parametrize("type_name", NODE_TYPES)
async def test_malformed_ids_are_null_never_an_error(scene: Scene, type_name: str) -> None:
    # Every field taking `id:` takes no other ID, so none escapes this test.
    by_id = {name for name in QUERY_FIELDS_WITH_IDS if "id" in QUERY_TYPE.fields[name].args}
    assert "node" in by_id
    assert set(single_id_fields()) == by_id
    await for_each_caller(lambda caller: queries.malformed_ids_are_null(scene, type_name, caller), ROLES)


@pytest.mark.parametrize("type_name", NODE_TYPES)
async def test_an_id_of_another_type_is_null(scene: Scene, type_name: str) -> None:
    await for_each_caller(lambda caller: queries.another_type_is_null(scene, type_name, caller), ROLES)


# ---- mutations ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", MUTATION_FIELDS)
async def test_mutation_with_out_of_scope_object_changes_nothing(scene: Scene, name: str) -> None:
    await for_each_caller(lambda caller: mutations.mutation_out_of_scope(scene, name, caller))


@pytest.mark.parametrize("name", TARGETED)
async def test_mutation_with_an_id_of_another_type_is_not_found(scene: Scene, name: str) -> None:
    callers = tuple(c for c in ROLES if may_call(MATRIX, "Mutation", name, c))
    assert callers
    await for_each_caller(lambda caller: mutations.mutation_wrong_type(scene, name, caller), callers)


@pytest.mark.parametrize("name", TARGETED)
async def test_mutation_with_a_malformed_id_is_a_validation_error(scene: Scene, name: str) -> None:
    await mutations.malformed_id_is_a_validation_error(scene, name)


@pytest.mark.parametrize(("name", "extra_slot"), EXTRA_SLOTS)
async def test_secondary_ids_naming_missing_objects_change_nothing(scene: Scene, name: str, extra_slot: str) -> None:
    await mutations.secondary_id_naming_a_missing_object(scene, name, extra_slot)


@pytest.mark.parametrize("name", MUTATION_FIELDS)
async def test_mutation_with_in_scope_object(scene: Scene, name: str) -> None:
    # The in-scope objects of different callers are independent (different rows, or refused
    # calls that change nothing), so the callers run one after the other on one world.
    await for_each_caller(lambda caller: mutations.mutation_in_scope(scene, name, caller))


# ---- nested paths and the domains' own checks ----------------------------------------------


async def test_nested_paths_never_reach_world_b(scene: Scene) -> None:
    assert MATRIX.nested, "no domain declares a nested query"
    world_b = await nested.world_b_objects(scene)
    await for_each_caller(lambda caller: nested.nested_paths(scene, caller, world_b), ROLES)


@pytest.mark.parametrize("name", sorted(MATRIX.checks))
async def test_domain_check(scene: Scene, name: str) -> None:
    await MATRIX.checks[name](scene)
