"""The generated query checks: every Query field taking an ID, called by every caller with
objects out of scope (they must look missing) and in scope (they must be returned), and
`node`/by-id fields given malformed ids or ids of another type."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

from graphql import GraphQLList

from graphql_api.api.core.relay import parse_id
from tests.authz import schema
from tests.authz.expect import assert_looks_missing, check_denied, may_call
from tests.authz.scene import Scene
from tests.conftest import gid, without_cost

NODE_TYPES = schema.node_type_names(schema.GRAPHQL)
Call = dict[schema.IdPath, Any]


async def run_query(scene: Scene, field_name: str, call: Call, caller: str) -> dict[str, Any]:
    arguments = schema.query_arguments(field_name, call)
    return await scene.gql.execute(schema.query_document(field_name, arguments), arguments, token=scene.actor(caller))


def query_targets(scene: Scene, field_name: str, pick: Callable[[str], list[str]]) -> list[Call]:
    """One {slot path: value} per call: each ID slot filled with the picked ids of its type."""
    calls: list[Call] = []
    for path in schema.id_slots(schema.QUERY_TYPE.fields[field_name].args):
        type_name = schema.slot_type(field_name, scene.matrix.id_names, path)
        is_list = schema.is_list_slot(field_name, path)
        for t in NODE_TYPES if type_name == "Node" else (type_name,):
            ids = pick(t)
            if not ids:
                continue
            if is_list:
                calls.append({path: ids})
            else:
                calls.extend({path: one} for one in ids)
    return calls


async def query_out_of_scope(scene: Scene, field_name: str, caller: str) -> None:
    calls = query_targets(scene, field_name, lambda t: scene.out_of_scope(t, caller))
    assert calls, f"{field_name}: no out-of-scope object to try"
    missing = query_targets(scene, field_name, lambda t: [gid(t, uuid.uuid4())])
    reference = {path: await run_query(scene, field_name, call, caller) for call in missing for path in call}
    for call in calls:
        result = await run_query(scene, field_name, call, caller)
        context = f"{field_name} as {caller} with {call}"
        if not may_call(scene.matrix, "Query", field_name, caller):
            check_denied(result, caller, context)
            continue
        assert_looks_missing(field_name, result, context)
        # Exactly the answer for an object that does not exist (same shape, same nulls).
        path = next(iter(call))
        if not isinstance(call[path], list):
            assert result == reference[path], context


async def query_in_scope(scene: Scene, field_name: str, caller: str) -> int:
    """Check the caller's answers for in-scope ids; how many answers held objects (a caller
    who sees no object of a type, e.g. an admin no class slot, has none to ask for)."""
    allowed = may_call(scene.matrix, "Query", field_name, caller)
    # A caller refused by role is refused even for real objects (ADMIN_GENERAL's, which exist).
    picker = caller if allowed else "admin_general"
    calls = query_targets(scene, field_name, _in_scope_picker(scene, field_name, picker))
    found = 0
    for call in calls:
        result = await run_query(scene, field_name, call, caller)
        context = f"{field_name} as {caller} with {call}"
        if not allowed:
            check_denied(result, caller, context)
            continue
        assert not result.get("errors"), f"{context}: {result}"
        found += await _check_in_scope_answer(scene, field_name, caller, call, result["data"]["result"], context)
    return found


def _in_scope_picker(scene: Scene, field_name: str, caller: str) -> Callable[[str], list[str]]:
    """The in-scope objects of each type to call `field_name` with: for a connection, those
    its node type declares to filter by (`NodeCases.filter_with`), else each type's own."""
    chosen = {}
    if schema.is_connection(field_name):
        chosen = scene.node(schema.connection_node_type(field_name)).filter_with

    def pick(type_name: str) -> list[str]:
        if type_name in chosen:
            return [gid(type_name, o) for o in chosen[type_name](scene, caller)]
        return scene.in_scope(type_name, caller)

    return pick


async def _check_in_scope_answer(scene: Scene, field_name: str, caller: str, call: Call, data: Any, ctx: str) -> int:
    ((path, value),) = call.items()
    if schema.is_list_of_nodes(field_name):
        assert [node["id"] for node in data] == value, ctx
        return len(value)
    if isinstance(schema.strip_non_null(schema.QUERY_TYPE.fields[field_name].type), GraphQLList):
        # A list about an object in scope shows the caller what it shows one who sees all.
        everything = await run_query(scene, field_name, call, "admin_general")
        assert data == everything["data"]["result"], ctx
        return len(data)
    if schema.is_connection(field_name):
        filter_type = schema.slot_type(field_name, scene.matrix.id_names, path)
        expected: set[str] = set()
        for target in value:
            expected |= await _expected_connection_ids(scene, field_name, filter_type, caller, target)
        assert {edge["node"]["id"] for edge in data["edges"]} == expected, ctx
        assert data["totalCount"] == len(expected)
        return len(expected)
    assert data is not None, ctx
    assert data["id"] == value, f"{ctx}: {data}"
    return 1


async def _expected_connection_ids(
    scene: Scene, field_name: str, filter_type: str, caller: str, target: str
) -> set[str]:
    """Ids a connection filtered by an in-scope object must return (read straight from SQL)."""
    node_name = schema.connection_node_type(field_name)
    parsed = parse_id(target)
    assert parsed is not None
    statement = scene.node(node_name).filtered_by.get(filter_type)
    assert statement is not None, (
        f"{field_name}: NodeCases of {node_name} have no filtered_by[{filter_type!r}] (the rows a filter by a"
        f" {filter_type} returns); add it to its domain's authz.py"
    )
    async with scene.db() as session:
        rows = (await session.scalars(statement(scene, caller, parsed[1]))).all()
    return {gid(node_name, r) for r in rows}


# ---- node(id:) and by-id fields: malformed ids, ids of another type -----------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def malformed_ids(type_name: str, value: uuid.UUID) -> dict[str, str]:
    """Ids that are not the global id of `value` (a visible object of `type_name`), however close."""
    own = f"{type_name}:{value}".encode()
    ids = {
        "garbage": "garbage!!",
        "not-base64": "this is not base64 at all",
        "empty": "",
        "10k-chars": "A" * 10_000,
        "10k-base64": _b64(own + b" " * 7_500),
        "raw-uuid": str(value),
        "no-colon": _b64(type_name.encode()),
        "bad-uuid": _b64(f"{type_name}:not-a-uuid".encode()),
        "unknown-type": _b64(f"Secret:{value}".encode()),
        "lowercase-type": _b64(f"{type_name.lower()}:{value}".encode()),
        "invalid-utf8": _b64(b"\xff\xfe:" + str(value).encode()),
        "trailing-junk": _b64(own) + "!!",
        "int-id": _b64(f"{type_name}:1".encode()),
        "sql": _b64(f"{type_name}:' OR 1=1 --".encode()),
    }
    if _b64(own).endswith("="):  # an id of 3n bytes has no padding to leave out
        ids["unpadded"] = _b64(own).rstrip("=")
    return ids


def _sample(scene: Scene, type_name: str, caller: str) -> uuid.UUID:
    """An object of `type_name` the caller sees (one of world B when it sees none)."""
    ids = scene.in_scope(type_name, caller) or scene.out_of_scope(type_name, caller)
    parsed = parse_id(ids[0])
    assert parsed is not None
    return parsed[1]


async def malformed_ids_are_null(scene: Scene, type_name: str, caller: str) -> None:
    bad = malformed_ids(type_name, _sample(scene, type_name, caller))
    actor = scene.actor(caller)
    for field_name in schema.single_id_fields():
        if not may_call(scene.matrix, "Query", field_name, caller):
            continue
        for label, value in bad.items():
            document = schema.query_document(field_name, {"id": value})
            response = await scene.gql.post(document, {"id": value}, token=actor)
            assert response.status_code == 200, (field_name, label, response.text)
            assert without_cost(response.json()) == {"data": {"result": None}}, (field_name, label, response.json())
    values = list(bad.values())
    data = await scene.gql.data(schema.query_document("nodes", {"ids": values}), {"ids": values}, token=actor)
    assert data == {"result": [None] * len(values)}


def _fields_returning(type_name: str) -> list[str]:
    return [
        name
        for name in schema.single_id_fields()
        if schema.unwrap(schema.QUERY_TYPE.fields[name].type).name in {type_name, "Node"}
    ]


async def another_type_is_null(scene: Scene, type_name: str, caller: str) -> None:
    # Type confusion: a visible object's uuid under another type name resolves to nothing.
    visible = scene.in_scope(type_name, caller)
    if not visible:
        return
    parsed = parse_id(visible[0])
    assert parsed is not None
    actor = scene.actor(caller)
    for field_name in _fields_returning(type_name):
        if not may_call(scene.matrix, "Query", field_name, caller):
            continue
        for wrong in (t for t in NODE_TYPES if t != type_name):
            value = gid(wrong, parsed[1])
            data = await scene.gql.data(schema.query_document(field_name, {"id": value}), {"id": value}, token=actor)
            assert data == {"result": None}, (field_name, wrong, value)
    # ...while the right type name finds it; nodes(ids:) keeps the order and nulls exactly
    # the invisible entries of a mixed list.
    mixed = [gid(type_name, scene.node(type_name).world_b(scene)[0]), visible[0], "garbage!!"]
    data = await scene.gql.data(schema.query_document("nodes", {"ids": mixed}), {"ids": mixed}, token=actor)
    visible_b = caller == "admin_general" and not scene.node(type_name).private
    assert data["result"] == [
        {"__typename": type_name, "id": mixed[0]} if visible_b else None,
        {"__typename": type_name, "id": visible[0]},
        None,
    ]
