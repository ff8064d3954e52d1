"""Centers and environments: administration by ADMIN_GENERAL, reads within each role's scope."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import GraphQLClient, World, error_codes, gid

ERROR_FIELDS = """
    ... on Error { __typename code message }
    ... on ValidationError { fieldErrors { field code } }
"""
CENTER_FIELDS = "id name code location description isActive"
ENVIRONMENT_FIELDS = "id name code location capacity description isWarehouse isActive center { id code }"


def center_mutation(name: str, input_type: str) -> str:
    return f"""
    mutation($input: {input_type}!) {{
      {name}(input: $input) {{ __typename ... on CenterPayload {{ center {{ {CENTER_FIELDS} }} }} {ERROR_FIELDS} }}
    }}
    """


def environment_mutation(name: str, input_type: str) -> str:
    return f"""
    mutation($input: {input_type}!) {{
      {name}(input: $input) {{
        __typename ... on EnvironmentPayload {{ environment {{ {ENVIRONMENT_FIELDS} }} }} {ERROR_FIELDS}
      }}
    }}
    """


CREATE_CENTER = center_mutation("createCenter", "CreateCenterInput")
UPDATE_CENTER = center_mutation("updateCenter", "UpdateCenterInput")
DEACTIVATE_CENTER = center_mutation("deactivateCenter", "CenterIdInput")
ACTIVATE_CENTER = center_mutation("activateCenter", "CenterIdInput")
CREATE_ENVIRONMENT = environment_mutation("createEnvironment", "CreateEnvironmentInput")
UPDATE_ENVIRONMENT = environment_mutation("updateEnvironment", "UpdateEnvironmentInput")
DEACTIVATE_ENVIRONMENT = environment_mutation("deactivateEnvironment", "EnvironmentIdInput")
ACTIVATE_ENVIRONMENT = environment_mutation("activateEnvironment", "EnvironmentIdInput")

ENVIRONMENTS = """
query($where: EnvironmentWhere, $orderBy: EnvironmentOrder) {
  environments(where: $where, orderBy: $orderBy, first: 100) {
    totalCount edges { node { id code isWarehouse center { id } } }
  }
}
"""
CENTERS = """
query($where: CenterWhere, $orderBy: CenterOrder) {
  centers(where: $where, orderBy: $orderBy, first: 100) { totalCount edges { node { id code } } }
}
"""


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


async def run(gql: GraphQLClient, query: str, values: dict[str, Any], actor: Any) -> dict[str, Any]:
    data = await gql.data(query, {"input": values}, token=actor)
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def count(db: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---- centers -----------------------------------------------------------------------------------


async def test_create_center(gql: GraphQLClient, world: World) -> None:
    result = await run(
        gql,
        CREATE_CENTER,
        {"name": " Centro Norte ", "code": "CN", "location": "Medellín", "description": "New"},
        world.admin_general,
    )
    assert result["__typename"] == "CenterPayload", result
    center = result["center"]
    assert {k: v for k, v in center.items() if k != "id"} == {
        "name": "Centro Norte",
        "code": "CN",
        "location": "Medellín",
        "description": "New",
        "isActive": True,
    }
    data = await gql.data(
        "query($id: ID!) { center(id: $id) { code } }", {"id": center["id"]}, token=world.admin_general
    )
    assert data["center"] == {"code": "CN"}


@pytest.mark.parametrize("role", ["student", "instructor", "supervisor", "admin"])
async def test_center_and_environment_writes_are_admin_general_only(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, role: str
) -> None:
    actor = world.role(role)
    centers, environments = await count(db, models.Center), await count(db, models.Environment)
    attempts = [
        (CREATE_CENTER, {"name": "X", "code": "X", "location": "Y"}),
        (UPDATE_CENTER, {"id": gid("Center", world.center_a.id), "name": "Hacked"}),
        (DEACTIVATE_CENTER, {"id": gid("Center", world.center_a.id)}),
        (ACTIVATE_CENTER, {"id": gid("Center", world.center_a.id)}),
        (CREATE_ENVIRONMENT, {"centerId": gid("Center", world.center_a.id), "name": "X", "code": "X", "location": "Y"}),
        (UPDATE_ENVIRONMENT, {"id": gid("Environment", world.a1.id), "name": "Hacked"}),
        (DEACTIVATE_ENVIRONMENT, {"id": gid("Environment", world.a1.id)}),
        (ACTIVATE_ENVIRONMENT, {"id": gid("Environment", world.a1.id)}),
    ]
    for query, values in attempts:
        result = await gql.execute(query, {"input": values}, token=actor)
        assert error_codes(result) == ["FORBIDDEN"], query
        assert result["data"] is None
    assert (await count(db, models.Center), await count(db, models.Environment)) == (centers, environments)
    async with db() as session:
        center = await session.get(models.Center, world.center_a.id)
        environment = await session.get(models.Environment, world.a1.id)
    assert center is not None
    assert environment is not None
    assert (center.name, center.is_active) == (world.center_a.name, True)
    assert (environment.name, environment.is_active) == (world.a1.name, True)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": "", "code": "OK", "location": "L"}, [("name", "BLANK")]),
        ({"name": "N", "code": "   ", "location": "L"}, [("code", "BLANK")]),
        ({"name": "N", "code": "C" * 31, "location": "L"}, [("code", "TOO_LONG")]),
        ({"name": "N" * 101, "code": "OK", "location": ""}, [("name", "TOO_LONG"), ("location", "BLANK")]),
        ({"name": "N", "code": "CA", "location": "L"}, [("code", "CODE_TAKEN")]),  # the world's center A
    ],
)
async def test_create_center_validation(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    world: World,
    values: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    before = await count(db, models.Center)
    result = await run(gql, CREATE_CENTER, values, world.admin_general)
    assert field_errors(result) == expected
    assert await count(db, models.Center) == before


async def test_update_center_changes_only_sent_fields(gql: GraphQLClient, world: World) -> None:
    center_id = gid("Center", world.center_b.id)
    created = await run(
        gql, CREATE_CENTER, {"name": "Sur", "code": "SUR", "location": "Cali", "description": "d"}, world.admin_general
    )
    new_id = created["center"]["id"]
    result = await run(gql, UPDATE_CENTER, {"id": new_id, "name": "Sur II"}, world.admin_general)
    assert result["center"] == {
        "id": new_id,
        "name": "Sur II",
        "code": "SUR",
        "location": "Cali",
        "description": "d",
        "isActive": True,
    }
    cleared = await run(gql, UPDATE_CENTER, {"id": new_id, "description": None, "code": "SUR2"}, world.admin_general)
    assert (cleared["center"]["description"], cleared["center"]["code"], cleared["center"]["name"]) == (
        None,
        "SUR2",
        "Sur II",
    )
    duplicate = await run(gql, UPDATE_CENTER, {"id": new_id, "code": "CB"}, world.admin_general)
    assert field_errors(duplicate) == [("code", "CODE_TAKEN")]
    # Keeping the own code is not a duplicate.
    same = await run(gql, UPDATE_CENTER, {"id": center_id, "code": "CB"}, world.admin_general)
    assert same["__typename"] == "CenterPayload"
    blank = await run(gql, UPDATE_CENTER, {"id": new_id, "name": " "}, world.admin_general)
    assert field_errors(blank) == [("name", "BLANK")]
    null_name = await gql.execute(UPDATE_CENTER, {"input": {"id": new_id, "name": None}}, token=world.admin_general)
    assert error_codes(null_name) == ["BAD_REQUEST"]
    data = await gql.data(
        "query($id: ID!) { center(id: $id) { name code } }", {"id": new_id}, token=world.admin_general
    )
    assert data["center"] == {"name": "Sur II", "code": "SUR2"}


async def test_update_unknown_center_is_not_found(gql: GraphQLClient, world: World) -> None:
    for center_id in (gid("Center", uuid.uuid4()), gid("Environment", world.a1.id)):
        result = await run(gql, UPDATE_CENTER, {"id": center_id, "name": "X"}, world.admin_general)
        assert (result["__typename"], result["code"]) == ("NotFoundError", "NOT_FOUND")
    garbage = await run(gql, UPDATE_CENTER, {"id": "garbage", "name": "X"}, world.admin_general)
    assert field_errors(garbage) == [("id", "INVALID_ID")]


async def test_deactivate_and_activate_center(gql: GraphQLClient, world: World) -> None:
    center_id = gid("Center", world.center_b.id)
    off = await run(gql, DEACTIVATE_CENTER, {"id": center_id}, world.admin_general)
    assert off["center"]["isActive"] is False
    again = await run(gql, DEACTIVATE_CENTER, {"id": center_id}, world.admin_general)
    assert (again["__typename"], again["code"], again["message"]) == (
        "ConflictError",
        "CONFLICT",
        "El recurso ya está en ese estado.",
    )
    on = await run(gql, ACTIVATE_CENTER, {"id": center_id}, world.admin_general)
    assert on["center"]["isActive"] is True
    again = await run(gql, ACTIVATE_CENTER, {"id": center_id}, world.admin_general)
    assert again["__typename"] == "ConflictError"
    missing = await run(gql, ACTIVATE_CENTER, {"id": gid("Center", uuid.uuid4())}, world.admin_general)
    assert missing["__typename"] == "NotFoundError"


async def test_inactive_centers_are_kept_and_filterable(gql: GraphQLClient, world: World) -> None:
    await run(gql, DEACTIVATE_CENTER, {"id": gid("Center", world.center_b.id)}, world.admin_general)

    async def codes(where: dict[str, Any] | None) -> list[str]:
        data = await gql.data(CENTERS, {"where": where}, token=world.admin_general)
        return sorted(edge["node"]["code"] for edge in data["centers"]["edges"])

    assert await codes(None) == ["CA", "CB"]
    assert await codes({"isActive": True}) == ["CA"]
    assert await codes({"isActive": False}) == ["CB"]
    assert await codes({"search": "cb"}) == ["CB"]
    assert await codes({"search": "%"}) == []


# ---- environments ------------------------------------------------------------------------------


async def test_create_environment(gql: GraphQLClient, world: World) -> None:
    result = await run(
        gql,
        CREATE_ENVIRONMENT,
        {
            "centerId": gid("Center", world.center_b.id),
            "name": "Lab 3",
            "code": "B3",
            "location": "Floor 2",
            "capacity": 25,
            "isWarehouse": False,
        },
        world.admin_general,
    )
    assert result["__typename"] == "EnvironmentPayload", result
    env = result["environment"]
    assert {k: v for k, v in env.items() if k != "id"} == {
        "name": "Lab 3",
        "code": "B3",
        "location": "Floor 2",
        "capacity": 25,
        "description": None,
        "isWarehouse": False,
        "isActive": True,
        "center": {"id": gid("Center", world.center_b.id), "code": "CB"},
    }
    # Defaults: capacity 30, a room.
    default = await run(
        gql,
        CREATE_ENVIRONMENT,
        {"centerId": gid("Center", world.center_b.id), "name": "Lab 4", "code": "B4", "location": "Floor 2"},
        world.admin_general,
    )
    assert (default["environment"]["capacity"], default["environment"]["isWarehouse"]) == (30, False)
    # A new room of center B does not widen the scope of center B's student.
    data = await gql.data(ENVIRONMENTS, {}, token=world.student_b)
    assert [e["node"]["code"] for e in data["environments"]["edges"]] == ["B1"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"code": "A1"}, [("code", "CODE_TAKEN")]),  # codes are unique across centers too
        ({"capacity": -1}, [("capacity", "MIN_VALUE")]),
        ({"capacity": 10_001}, [("capacity", "MAX_VALUE")]),
        ({"name": ""}, [("name", "BLANK")]),
        ({"centerId": "garbage"}, [("centerId", "INVALID_ID")]),
    ],
)
async def test_create_environment_validation(
    gql: GraphQLClient,
    db: async_sessionmaker[AsyncSession],
    world: World,
    values: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    before = await count(db, models.Environment)
    base = {"centerId": gid("Center", world.center_b.id), "name": "Lab", "code": "NEW", "location": "L"}
    result = await run(gql, CREATE_ENVIRONMENT, {**base, **values}, world.admin_general)
    assert field_errors(result) == expected
    assert await count(db, models.Environment) == before


async def test_create_environment_in_unknown_center(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World
) -> None:
    before = await count(db, models.Environment)
    base = {"name": "Lab", "code": "NEW", "location": "L"}
    unknown = await run(gql, CREATE_ENVIRONMENT, {**base, "centerId": gid("Center", uuid.uuid4())}, world.admin_general)
    assert field_errors(unknown) == [("centerId", "NOT_FOUND")]
    wrong_type = await run(
        gql, CREATE_ENVIRONMENT, {**base, "centerId": gid("Environment", world.a1.id)}, world.admin_general
    )
    assert wrong_type["__typename"] == "NotFoundError"
    assert await count(db, models.Environment) == before


async def test_update_environment_changes_only_sent_fields(gql: GraphQLClient, world: World) -> None:
    env_id = gid("Environment", world.a2.id)
    result = await run(
        gql, UPDATE_ENVIRONMENT, {"id": env_id, "capacity": 12, "description": "Quiet"}, world.admin_general
    )
    assert result["environment"] == {
        "id": env_id,
        "name": world.a2.name,
        "code": "A2",
        "location": world.a2.location,
        "capacity": 12,
        "description": "Quiet",
        "isWarehouse": False,
        "isActive": True,
        "center": {"id": gid("Center", world.center_a.id), "code": "CA"},
    }
    moved = await run(
        gql,
        UPDATE_ENVIRONMENT,
        {"id": env_id, "centerId": gid("Center", world.center_b.id), "isWarehouse": True, "description": None},
        world.admin_general,
    )
    env = moved["environment"]
    assert (env["center"]["code"], env["isWarehouse"], env["description"], env["capacity"]) == ("CB", True, None, 12)
    # Moved to center B: center A's supervisor no longer sees it.
    supervisor = await gql.data(
        "query($id: ID!) { environment(id: $id) { id } }", {"id": env_id}, token=world.supervisor
    )
    assert supervisor["environment"] is None

    duplicate = await run(gql, UPDATE_ENVIRONMENT, {"id": env_id, "code": "B1"}, world.admin_general)
    assert field_errors(duplicate) == [("code", "CODE_TAKEN")]
    bad_center = await run(
        gql, UPDATE_ENVIRONMENT, {"id": env_id, "centerId": gid("Center", uuid.uuid4())}, world.admin_general
    )
    assert field_errors(bad_center) == [("centerId", "NOT_FOUND")]
    for field in ("capacity", "isWarehouse", "centerId", "name"):
        null = await gql.execute(UPDATE_ENVIRONMENT, {"input": {"id": env_id, field: None}}, token=world.admin_general)
        assert error_codes(null) == ["BAD_REQUEST"], field
    data = await gql.data(
        "query($id: ID!) { environment(id: $id) { code capacity isWarehouse } }",
        {"id": env_id},
        token=world.admin_general,
    )
    assert data["environment"] == {"code": "A2", "capacity": 12, "isWarehouse": True}


async def test_update_unknown_environment_is_not_found(gql: GraphQLClient, world: World) -> None:
    result = await run(
        gql, UPDATE_ENVIRONMENT, {"id": gid("Environment", uuid.uuid4()), "name": "X"}, world.admin_general
    )
    assert result["__typename"] == "NotFoundError"


async def test_deactivate_and_activate_environment(gql: GraphQLClient, world: World) -> None:
    env_id = gid("Environment", world.b1.id)
    off = await run(gql, DEACTIVATE_ENVIRONMENT, {"id": env_id}, world.admin_general)
    assert off["environment"]["isActive"] is False
    again = await run(gql, DEACTIVATE_ENVIRONMENT, {"id": env_id}, world.admin_general)
    assert (again["__typename"], again["code"]) == ("ConflictError", "CONFLICT")
    # An inactive environment is still visible (history), and filterable.
    data = await gql.data(ENVIRONMENTS, {"where": {"isActive": False}}, token=world.admin_general)
    assert [e["node"]["code"] for e in data["environments"]["edges"]] == ["B1"]
    data = await gql.data(ENVIRONMENTS, {}, token=world.student_b)
    assert [e["node"]["code"] for e in data["environments"]["edges"]] == ["B1"]
    on = await run(gql, ACTIVATE_ENVIRONMENT, {"id": env_id}, world.admin_general)
    assert on["environment"]["isActive"] is True
    again = await run(gql, ACTIVATE_ENVIRONMENT, {"id": env_id}, world.admin_general)
    assert again["__typename"] == "ConflictError"
    missing = await run(gql, DEACTIVATE_ENVIRONMENT, {"id": gid("Environment", uuid.uuid4())}, world.admin_general)
    assert missing["__typename"] == "NotFoundError"


# ---- reads in scope ----------------------------------------------------------------------------

SCOPES = {
    "student": (["A1"], ["CA"]),
    "instructor": (["A1", "AW"], ["CA"]),
    "supervisor": (["A1", "A2", "AW"], ["CA"]),
    "admin": (["AW"], ["CA"]),
    "admin_general": (["A1", "A2", "AW", "B1", "BW"], ["CA", "CB"]),
    "student_b": (["B1"], ["CB"]),
    "admin_b": (["BW"], ["CB"]),
}


@pytest.mark.parametrize("role", list(SCOPES))
async def test_reads_are_limited_to_scope(gql: GraphQLClient, world: World, role: str) -> None:
    actor = world.role(role)
    environments, centers = SCOPES[role]
    data = await gql.data(ENVIRONMENTS, {"orderBy": {"field": "CODE"}}, token=actor)
    assert [e["node"]["code"] for e in data["environments"]["edges"]] == environments
    assert data["environments"]["totalCount"] == len(environments)
    data = await gql.data(CENTERS, {"orderBy": {"field": "CODE"}}, token=actor)
    assert [e["node"]["code"] for e in data["centers"]["edges"]] == centers

    by_id = """
    query($env: ID!, $center: ID!) {
      environment(id: $env) { code } center(id: $center) { code }
      envNode: node(id: $env) { id } centerNode: node(id: $center) { id }
    }
    """
    for name in ("a1", "a2", "aw", "b1", "bw"):
        env = getattr(world, name)
        center = world.center_a if env.center_id == world.center_a.id else world.center_b
        variables = {"env": gid("Environment", env.id), "center": gid("Center", center.id)}
        data = await gql.data(by_id, variables, token=actor)
        env_visible = env.code in environments
        center_visible = center.code in centers
        assert (data["environment"] is not None, data["envNode"] is not None) == (env_visible, env_visible), name
        assert (data["center"] is not None, data["centerNode"] is not None) == (center_visible, center_visible), name


async def test_center_environments_and_environment_center(gql: GraphQLClient, world: World) -> None:
    query = """
    query($id: ID!) { center(id: $id) { code environments(first: 50) { totalCount edges { node {
      code center { code }
    } } } } }
    """
    center_a = gid("Center", world.center_a.id)

    async def codes(actor: Any, center_id: str = center_a) -> list[str]:
        data = await gql.data(query, {"id": center_id}, token=actor)
        if data["center"] is None:
            return []
        envs = data["center"]["environments"]
        assert envs["totalCount"] == len(envs["edges"])
        assert {e["node"]["center"]["code"] for e in envs["edges"]} <= {data["center"]["code"]}
        return sorted(e["node"]["code"] for e in envs["edges"])

    assert await codes(world.admin_general) == ["A1", "A2", "AW"]
    assert await codes(world.supervisor) == ["A1", "A2", "AW"]
    # A center's environments are still limited to the caller's scope.
    assert await codes(world.student) == ["A1"]
    assert await codes(world.instructor) == ["A1", "AW"]
    assert await codes(world.admin) == ["AW"]
    assert await codes(world.student_b) == []
    assert await codes(world.admin_general, gid("Center", world.center_b.id)) == ["B1", "BW"]


async def test_environments_filters(gql: GraphQLClient, world: World) -> None:
    async def codes(where: dict[str, Any], actor: Any = world.admin_general) -> list[str]:
        data = await gql.data(ENVIRONMENTS, {"where": where, "orderBy": {"field": "CODE"}}, token=actor)
        assert data["environments"]["totalCount"] == len(data["environments"]["edges"])
        return [e["node"]["code"] for e in data["environments"]["edges"]]

    center_a, center_b = gid("Center", world.center_a.id), gid("Center", world.center_b.id)
    assert await codes({"isWarehouse": True}) == ["AW", "BW"]
    assert await codes({"isWarehouse": False}) == ["A1", "A2", "B1"]
    assert await codes({"centerIds": [center_b]}) == ["B1", "BW"]
    assert await codes({"centerIds": [center_a, center_b], "isWarehouse": True}) == ["AW", "BW"]
    assert await codes({"centerIds": []}) == []
    assert await codes({"centerIds": ["garbage", gid("Environment", world.a1.id)]}) == []
    assert await codes({"search": "aw"}) == ["AW"]
    assert await codes({"search": "block a"}) == ["A1", "A2", "AW", "B1", "BW"]  # location
    assert await codes({"search": world.b1.name}) == ["B1"]  # name
    assert await codes({"search": "_"}) == []
    # Filters narrow the scope, never widen it.
    assert await codes({"centerIds": [center_b]}, world.supervisor) == []
    assert await codes({"isWarehouse": True}, world.instructor) == ["AW"]
    assert await codes({"isWarehouse": True}, world.student) == []


async def test_environment_order_by(gql: GraphQLClient, world: World) -> None:
    for direction, expected in (("ASC", ["A1", "A2", "AW", "B1", "BW"]), ("DESC", ["BW", "B1", "AW", "A2", "A1"])):
        data = await gql.data(
            ENVIRONMENTS, {"orderBy": {"field": "CODE", "direction": direction}}, token=world.admin_general
        )
        assert [e["node"]["code"] for e in data["environments"]["edges"]] == expected
    data = await gql.data(ENVIRONMENTS, {"orderBy": {"field": "CREATED_AT"}}, token=world.admin_general)
    # The world creates them in this order.
    assert [e["node"]["code"] for e in data["environments"]["edges"]] == ["A1", "A2", "AW", "B1", "BW"]


async def test_reads_require_authentication(gql: GraphQLClient, world: World) -> None:
    for query in (ENVIRONMENTS, CENTERS):
        result = await gql.execute(query)
        assert error_codes(result) == ["UNAUTHENTICATED"]
