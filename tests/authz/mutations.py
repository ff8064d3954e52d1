"""The generated mutation checks: every mutation, called by every caller with out-of-scope
objects (nothing may change, the answer must equal the one for a missing object) and with
in-scope objects (it succeeds exactly for the roles SPEC.md lets in), plus ids of another type,
malformed ids and missing secondary objects."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from graphql_api.api.core.relay import parse_id
from tests.authz import schema
from tests.authz.cases import MutationCase, Outcome
from tests.authz.expect import check_denied, check_outcome, may_call
from tests.authz.queries import NODE_TYPES
from tests.authz.scene import ROLES, Scene, changes
from tests.conftest import gid


def input_id_fields(name: str) -> set[str]:
    return {".".join(path[1:]) for path in schema.id_slots(schema.MUTATION_TYPE.fields[name].args)}


async def run_mutation(scene: Scene, name: str, variables: dict[str, Any], caller: str) -> dict[str, Any]:
    return await scene.gql.execute(schema.mutation_document(name), {"input": variables}, token=scene.actor(caller))


def _attack_targets(scene: Scene, case: MutationCase, caller: str) -> list[str | None]:
    if case.target is None:
        return [None]
    targets: list[str | None] = list(scene.out_of_scope(case.target, caller))
    if caller != "admin_general":
        targets.append(gid(case.target, uuid.uuid4()))  # a missing one answers the same
    return targets


async def mutation_out_of_scope(scene: Scene, name: str, caller: str) -> None:
    case = scene.matrix.case(name)
    allowed = may_call(scene.matrix, "Mutation", name, caller)
    for target in _attack_targets(scene, case, caller):
        variables = await case.attack(scene, caller, target)
        before = await scene.snapshot()
        result = await run_mutation(scene, name, variables, caller)
        diff = changes(before, await scene.snapshot())
        context = f"{name} as {caller} with {variables}"
        if not allowed:
            check_denied(result, caller, context)
            assert diff == [], context
            continue
        check_outcome(result, case.out_of_scope, context)
        if case.self_only:
            # Acting on oneself is fine; nothing of anyone else may change.
            assert {owner for _, _, owner in diff} <= {scene.own_id(caller)}, f"{context}: {diff}"
        else:
            assert diff == [], f"{context}: {diff}"
        if target is not None and caller != "admin_general":
            await _same_as_missing(scene, name, case, caller, result, context)


async def _same_as_missing(
    scene: Scene, name: str, case: MutationCase, caller: str, result: dict[str, Any], context: str
) -> None:
    # Out of scope and missing are indistinguishable, message included.
    assert case.target is not None
    missing = await case.attack(scene, caller, gid(case.target, uuid.uuid4()))
    reference = await run_mutation(scene, name, missing, caller)
    assert result == reference, context


async def mutation_wrong_type(scene: Scene, name: str, caller: str) -> None:
    # The uuid of an in-scope object under another type name must not reach the object.
    case = scene.matrix.case(name)
    assert case.slot is not None
    valid = await case.in_scope(scene, caller, None)
    parsed = parse_id(valid[case.slot])
    assert parsed is not None
    for wrong_type in (t for t in NODE_TYPES if t != case.target):
        before = await scene.snapshot()
        result = await run_mutation(scene, name, {**valid, case.slot: gid(wrong_type, parsed[1])}, caller)
        assert changes(before, await scene.snapshot()) == [], wrong_type
        value = result["data"]["result"]
        # Either answer says "no such object"; a missing object of the right type may be
        # reported as a field error by create* mutations, which is equally uninformative.
        assert value["__typename"] in {"NotFoundError", "ValidationError"}, (wrong_type, value)
        if value["__typename"] == "ValidationError":
            assert [(e["field"], e["code"]) for e in value["fieldErrors"]] == [(case.slot, "NOT_FOUND")]


def acting_caller(scene: Scene, name: str) -> str:
    """ADMIN_GENERAL, or the first role that may call the mutation when it may not."""
    return next(c for c in ("admin_general", *ROLES) if may_call(scene.matrix, "Mutation", name, c))


async def malformed_id_is_a_validation_error(scene: Scene, name: str) -> None:
    case = scene.matrix.case(name)
    assert case.slot is not None
    caller = acting_caller(scene, name)
    valid = await case.in_scope(scene, caller, None)
    assert case.target is not None
    no_colon = base64.b64encode(case.target.encode()).decode()
    for value in ("garbage!!", "", no_colon, "A" * 10_000):
        before = await scene.snapshot()
        result = await run_mutation(scene, name, {**valid, case.slot: value}, caller)
        assert changes(before, await scene.snapshot()) == []
        check_outcome(result, Outcome("ValidationError", ((case.slot, "INVALID_ID"),)), f"{name} {value[:20]!r}")


async def secondary_id_naming_a_missing_object(scene: Scene, name: str, extra_slot: str) -> None:
    case = scene.matrix.case(name)
    caller = acting_caller(scene, name)
    variables = await case.in_scope(scene, caller, None)
    variables[extra_slot] = gid(case.extra_slots[extra_slot], uuid.uuid4())
    before = await scene.snapshot()
    result = await run_mutation(scene, name, variables, caller)
    assert changes(before, await scene.snapshot()) == []
    check_outcome(result, Outcome("ValidationError", ((extra_slot, "NOT_FOUND"),)), name)


async def mutation_in_scope(scene: Scene, name: str, caller: str) -> None:
    case = scene.matrix.case(name)
    variables = await case.in_scope(scene, caller, None)
    before = await scene.snapshot()
    result = await run_mutation(scene, name, variables, caller)
    diff = changes(before, await scene.snapshot())
    context = f"{name} as {caller} with {variables}"
    if not may_call(scene.matrix, "Mutation", name, caller):
        # The role check comes first: even the caller's own objects are refused.
        check_denied(result, caller, context)
        assert diff == [], context
        return
    check_outcome(result, Outcome(case.success), context)
    assert diff, f"{context}: a successful call must change something"
    if case.self_only:
        assert {owner for _, _, owner in diff} == {scene.own_id(caller)}, f"{context}: {diff}"
    if case.payload_names_target:
        assert case.slot is not None
        payload = result["data"]["result"]
        # The object itself, or (a deleted one) its id.
        node_ids = [v["id"] for v in payload.values() if isinstance(v, dict) and "id" in v] + [payload.get("id")]
        assert variables[case.slot] in node_ids, f"{context}: {payload}"
