"""Error masking, hostile bodies and input: catalogue S14-S20, S35-S37."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import tomllib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.view import MAX_JSON_DEPTH
from graphql_api.db import models
from graphql_api.services import auth
from graphql_api.services.filtering import Filters
from tests.conftest import Factory, GraphQLClient, World, error_codes, repo_root, without_cost
from tests.security import audit_rows, count_rows, failing_login, production_client, transport_error

JSON = {"content-type": "application/json"}
BAD_JSON = "Unable to parse request body as JSON"
LEAKS = ("passwd", "KeyError", "Traceback", 'File "', "stacktrace", "exception", "graphql_api")
CREATE_CENTER = (
    'mutation ($name: String!) { createCenter(input: {name: $name, code: "NUL1", location: "x"}) { __typename } }'
)


@pytest.fixture(scope="module")
async def prod(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with production_client(database_url) as http:
        yield http


@pytest.fixture(params=["client", "prod"])
def any_mode(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.getfixturevalue(request.param)
    return client


def raise_key_error(*_: Any, **__: Any) -> Any:
    raise KeyError("/etc/passwd")


async def raw(client: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    return await client.post("/graphql", content=body, headers={**JSON, **headers})


def assert_bad_json(response: httpx.Response) -> None:
    # The decoder's reason follows BAD_JSON ("...: JSON nested too deeply").
    status, message = transport_error(response)
    assert (status, message.partition(":")[0]) == (400, BAD_JSON), message


async def nothing_written(db: async_sessionmaker[AsyncSession]) -> None:
    assert await audit_rows(db) == []
    assert await count_rows(db, models.Center) == 0


# ---- S14 error leakage ------------------------------------------------------------------------


async def test_s14_unexpected_error_is_masked(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Filters, "apply", raise_key_error)
    with caplog.at_level(logging.ERROR, logger="graphql_api.errors"):
        response = await gql.post(
            "{ items { totalCount } }", token=world.student, headers={"x-request-id": "s14-items"}
        )
    assert response.status_code == 200
    assert without_cost(response.json()) == {
        "data": None,
        "errors": [
            {
                "message": "Error inesperado.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["items"],
                "extensions": {"code": "INTERNAL", "requestId": "s14-items"},
            }
        ],
    }
    for leak in LEAKS:
        assert leak not in response.text
    # The details go to the log, with the request id that the client was given.
    logged = [r for r in caplog.records if "s14-items" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is KeyError


async def test_s14_masked_message_follows_the_users_language(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = await gql.data("mutation { updateMySettings(input: {language: EN}) { __typename } }", token=world.student)
    assert data == {"updateMySettings": {"__typename": "SettingsPayload"}}
    monkeypatch.setattr(Filters, "apply", raise_key_error)
    result = await gql.execute("{ items { totalCount } }", token=world.student)
    assert [e["message"] for e in result["errors"]] == ["Unexpected error."]
    assert error_codes(result) == ["INTERNAL"]


async def test_s14_masked_in_a_mutation_in_both_modes(
    any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "login", raise_key_error)
    response = await any_mode.post(
        "/graphql", json={"query": failing_login()}, headers={"x-request-id": "s14-login", "accept-language": "en"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("Unexpected error.", {"code": "INTERNAL", "requestId": "s14-login"})
    ]
    for leak in LEAKS:
        assert leak not in response.text
    rows = await audit_rows(db)
    assert [(r.operation, r.outcome, r.error_code, r.request_id) for r in rows] == [
        ("login", models.AuditOutcome.FAILURE, "INTERNAL", "s14-login")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "qwerty cop { abc }",
        "{ __typename",
        "{ " + "__typename " * 2500 + "}",
        '{ __typename(arg: "unterminated) }',
    ],
)
async def test_s14_parse_errors_carry_a_code(any_mode: httpx.AsyncClient, query: str) -> None:
    body = (await any_mode.post("/graphql", json={"query": query})).json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["message"].startswith("Syntax Error: ")
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


# ---- S15 / S16 body size ------------------------------------------------------------------------


async def test_s15_5mb_query_is_413(any_mode: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename' + b" " * 5_000_000 + b'}"}'
    response = await raw(any_mode, body)
    assert response.status_code == 413
    assert "data" not in response.text


async def test_s15_body_just_under_the_limit_is_served(client: httpx.AsyncClient) -> None:
    padding = 1024 * 1024 - 100
    response = await raw(client, b'{"query": "{ __typename' + b" " * padding + b'}"}')
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


async def test_s15_streamed_body_without_length_is_limited(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename'
        for _ in range(40):
            yield b" " * 65536
        yield b'}"}'

    response = await client.post("/graphql", content=chunks(), headers=JSON)
    assert transport_error(response) == (413, "The request body is larger than 1048576 bytes.")


async def test_s16_10mb_variables_are_413(any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    response = await any_mode.post("/graphql", json={"query": CREATE_CENTER, "variables": {"name": "a" * 10_000_000}})
    assert response.status_code == 413
    await nothing_written(db)


# ---- S17 / S18 malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typ',
        b'{"query": "{ __typename }"} trailing',
        b"",
        b"   ",
        b"{'query': '{ __typename }'}",
        b'{"query": "{ __typename }",}',
        b'{"query": NaN}',
        b"\xef\xbb\xbf" + b'{"query": "{ __typename }"}',
        b"null",
        b"123",
        b'"{ __typename }"',
        b"true",
    ],
)
async def test_s17_malformed_json_is_400(any_mode: httpx.AsyncClient, body: bytes) -> None:
    response = await raw(any_mode, body)
    assert_bad_json(response)


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }\xff\xfe"}',
        b'{"query": "{ __typename }", "variables": {"a": "\xc0\xaf"}}',
        b'{"query": "{ __typename }", "variables": {"a": "\xed\xa0\x80"}}',
        b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}',
        b'\xff\xfe{\x00"\x00}\x00',
    ],
)
async def test_s18_invalid_utf8_is_400(any_mode: httpx.AsyncClient, body: bytes) -> None:
    response = await raw(any_mode, body)
    assert_bad_json(response)


# ---- S19 deep JSON -----------------------------------------------------------------------------------


def nested_variables(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return b'{"query": "{ __typename }", "variables": {"a": ' + open_ * depth + close * depth + b"}}"


async def test_s19_100k_deep_json_is_400(any_mode: httpx.AsyncClient) -> None:
    response = await raw(any_mode, nested_variables(100_000))
    assert_bad_json(response)


async def test_s19_deep_objects_are_400(client: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename }", "extensions": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"
    response = await raw(client, body)
    assert_bad_json(response)


async def test_s19_depth_boundary(client: httpx.AsyncClient) -> None:
    assert MAX_JSON_DEPTH == 32
    # The body object is level 0, `variables` level 1, the outermost list of `a` level 2.
    for depth, status in ((10, 200), (MAX_JSON_DEPTH - 1, 200), (MAX_JSON_DEPTH, 400), (40, 400)):
        response = await raw(client, nested_variables(depth))
        assert response.status_code == status, depth
        if status == 200:
            assert without_cost(response.json()) == {"data": {"__typename": "Query"}}
        else:
            assert_bad_json(response)


# ---- S20 wrong shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"query": "{ __typename }", "variables": [1, 2]},
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        (
            {"query": "{ __typename }", "variables": "x"},
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        ({"query": 123}, "The GraphQL operation's `query` must be a string or null, if provided."),
        ({"query": ["{ __typename }"]}, "The GraphQL operation's `query` must be a string or null, if provided."),
        ({"variables": {}}, "No GraphQL query found in the request"),
        ({"query": ""}, "No GraphQL query found in the request"),
        ({"query": None}, "No GraphQL query found in the request"),
        ({}, "No GraphQL query found in the request"),
        (
            {"query": "{ __typename }", "extensions": "x"},
            "The GraphQL operation's `extensions` must be an object or null, if provided.",
        ),
        ({"query": "query A { __typename }", "operationName": "B"}, 'Unknown operation named "B".'),
    ],
)
async def test_s20_wrong_shapes_are_400(any_mode: httpx.AsyncClient, payload: dict[str, Any], message: str) -> None:
    response = await any_mode.post("/graphql", json=payload)
    assert transport_error(response) == (400, message)


async def test_s20_variable_of_the_wrong_type_is_bad_request(gql: GraphQLClient, world: World) -> None:
    query = "query ($n: Int) { items(first: $n) { totalCount } }"
    for value in ("abc", 2**40, [1], {"a": 1}):
        result = await gql.execute(query, {"n": value}, token=world.student)
        assert result["data"] is None
        assert error_codes(result) == ["BAD_REQUEST"]
        assert result["errors"][0]["message"].startswith("Variable '$n' got invalid value") or result["errors"][0][
            "message"
        ].startswith("Variable '$n' has invalid value")


# ---- S35 injection-shaped input and NUL -----------------------------------------------------------

ITEM_NAMES = ["Cable 100% cobre", "USB_C hub", "Kit O'Brien", "Ruta C:\\temp", "Plain monitor"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["Cable 100% cobre"]),
        ("_", ["USB_C hub"]),
        ("'", ["Kit O'Brien"]),
        ("\\", ["Ruta C:\\temp"]),
        ("C:\\t", ["Ruta C:\\temp"]),
        ("' OR 1=1 --", []),
        ("'; DROP TABLE inventory_items; --", []),
        ('" OR ""="', []),
        ("%%", []),
        ("__", []),
        ("\\%", []),
        ("usb_c", ["USB_C hub"]),
        ("monitor", ["Plain monitor"]),
        ("x" * 10_000, []),
    ],
)
async def test_s35_search_is_literal(gql: GraphQLClient, factory: Factory, search: str, expected: list[str]) -> None:
    center = await factory.center()
    room = await factory.environment(center)
    for name in ITEM_NAMES:
        await factory.item(room, name=name)
    admin = await factory.user(models.Role.ADMIN_GENERAL)
    query = "query ($s: String) { items(first: 100, where: {search: $s}) { edges { node { name } } } }"
    data = await gql.data(query, {"s": search}, token=admin)
    assert sorted(e["node"]["name"] for e in data["items"]["edges"]) == expected
    # The table is intact whatever was sent.
    assert await count_rows(factory.db, models.InventoryItem) == len(ITEM_NAMES)


@pytest.mark.parametrize("search", ["'", "%", "_", "\\", "' OR 1=1 --"])
async def test_s35_other_searches_never_error(gql: GraphQLClient, world: World, search: str) -> None:
    query = """query ($s: String) {
        users(where: {search: $s}) { totalCount }
        centers(where: {search: $s}) { totalCount }
        environments(where: {search: $s}) { totalCount }
    }"""
    data = await gql.data(query, {"s": search}, token=world.admin_general)
    assert data == {"users": {"totalCount": 0}, "centers": {"totalCount": 0}, "environments": {"totalCount": 0}}


@pytest.mark.parametrize("value", ["' OR 1=1 --", "SW52ZW50b3J5SXRlbTonIE9SIDE9MSAtLQ==", "%", ""])
async def test_s35_injection_shaped_ids_find_nothing(gql: GraphQLClient, world: World, value: str) -> None:
    data = await gql.data(
        "query ($id: ID!) { item(id: $id) { id } node(id: $id) { id } }", {"id": value}, token=world.admin_general
    )
    assert data == {"item": None, "node": None}


async def test_s35_nul_in_a_variable_is_400(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    response = await gql.post(CREATE_CENTER, {"name": "evil\x00name"}, token=world.admin_general)
    assert_bad_json(response)
    assert await audit_rows(db) == []
    assert await count_rows(db, models.Center) == 2  # the world's two


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "{ __typename }", "variables": {"evil\x00key": 1}},
        {"query": "{ __typename }", "operationName": "A\x00"},
        {"query": "{ __typename }\x00"},
        {"query": "{ __typename }", "extensions": {"a": ["\x00"]}},
    ],
)
async def test_s35_nul_anywhere_in_the_body_is_400(any_mode: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    response = await any_mode.post("/graphql", json=payload)
    assert_bad_json(response)


@pytest.mark.parametrize(
    "query",
    [
        'mutation { createCenter(input: {name: "evil\\u0000", code: "NUL2", location: "x"}) { __typename } }',
        'mutation ($c: String! = "\\u0000") '
        '{ createCenter(input: {name: "n", code: $c, location: "x"}) { __typename } }',
        'mutation { createCenter(input: {name: "n", code: "NUL3", location: "x", description: "a\\u0000b"}) '
        "{ __typename } }",
    ],
)
async def test_s35_nul_in_a_graphql_string_is_bad_request(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], query: str
) -> None:
    result = await gql.execute(query, token=world.admin_general)
    assert result["data"] is None
    assert [e["message"] for e in result["errors"]] == ["Strings may not contain NUL characters."]
    assert error_codes(result) == ["BAD_REQUEST"]
    assert await audit_rows(db) == []
    assert await count_rows(db, models.Center) == 2


async def test_s35_nul_in_search_is_bad_request(gql: GraphQLClient, world: World) -> None:
    result = await gql.execute('{ items(where: {search: "a\\u0000b"}) { totalCount } }', token=world.admin_general)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]


# ---- S36 log injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation_name",
    ["A\nINFO forged line", "A\x1b[31mred\x1b[0m", "A\r\n\r\nHTTP/1.1 200 OK", "X" * 10_240],
)
async def test_s36_hostile_operation_name(
    any_mode: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    operation_name: str,
) -> None:
    payload = {"query": failing_login().replace("mutation", "mutation Real", 1), "operationName": operation_name}
    with caplog.at_level(logging.DEBUG):
        response = await any_mode.post("/graphql", json=payload)
    status, message = transport_error(response)
    assert status == 400
    assert message.startswith("Unknown operation named")
    assert await audit_rows(db) == []
    for record in caplog.records:
        assert "\x1b" not in record.getMessage()
        assert "forged line" not in record.getMessage()


async def test_s36_long_operation_name_and_hostile_headers_leave_a_clean_audit_row(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    name = "Op" + "x" * 10_000
    response = await client.post(
        "/graphql",
        json={"query": failing_login().replace("mutation", f"mutation {name}", 1), "operationName": name},
        headers=[
            (b"user-agent", b"curl\n2026-11-25 INFO admin logged in\x1b[31m"),
            (b"x-request-id", b"id\r\nx"),
            (b"x-forwarded-for", b"1.2.3.4\n5.6.7.8"),
        ],
    )
    assert without_cost(response.json()) == {"data": {"login": {"__typename": "InvalidCredentialsError"}}}
    rows = await audit_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert row.operation == "login"
    assert row.user_agent == "curl?2026-11-25 INFO admin logged in?[31m"
    assert row.client_ip == "10.1.2.3"
    assert row.request_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", row.request_id)
    text_fields = [row.operation, row.user_agent, row.request_id, row.client_ip, row.error_code, row.entity_type]
    for value in text_fields:
        assert value is None or value.isprintable(), repr(value)
    assert all(ch.isprintable() for ch in json.dumps(row.changes))


# ---- S37 dependency floors --------------------------------------------------------------------------

FLOORS = {
    "strawberry-graphql": (0, 327, 2),
    "starlette": (1, 6, 0),
    "pyjwt": (2, 15, 1),
    "bcrypt": (5, 0, 0),
    "uvicorn": (0, 54),
}


def release(version: str) -> tuple[int, ...]:
    """The leading numeric release of a version string ("0.341.2", "1.10.0rc1" -> (1, 10, 0))."""
    parts: list[int] = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.group() != piece:
            break
    return tuple(parts)


def at_least(version: tuple[int, ...], floor: tuple[int, ...]) -> bool:
    width = max(len(version), len(floor))
    return version + (0,) * (width - len(version)) >= floor + (0,) * (width - len(floor))


def test_release_parsing() -> None:
    assert release("0.341.2") == (0, 341, 2)
    assert release("1.10.0rc1") == (1, 10, 0)
    assert release("2.15.1.post1") == (2, 15, 1)
    assert at_least((0, 54, 0), (0, 54))
    assert at_least((0, 327, 10), (0, 327, 2))
    assert not at_least((0, 53, 9), (0, 54))
    assert not at_least((0, 327, 1), (0, 327, 2))
    assert not at_least((1, 5, 99), (1, 6, 0))


@pytest.mark.parametrize(("package", "floor"), FLOORS.items())
def test_s37_installed_versions_meet_the_floors(package: str, floor: tuple[int, ...]) -> None:
    installed = importlib.metadata.version(package)
    assert at_least(release(installed), floor), f"{package} {installed} is below {floor}"


@pytest.mark.parametrize(("package", "floor"), FLOORS.items())
def test_s37_declared_floors(package: str, floor: tuple[int, ...]) -> None:
    pyproject = tomllib.loads((repo_root() / "pyproject.toml").read_text())
    declared = {}
    for requirement in pyproject["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)", requirement.strip())
        if match:
            declared[match.group(1).lower()] = release(match.group(3))
    assert package in declared, f"{package} has no >= floor in pyproject.toml"
    assert at_least(declared[package], floor)


def test_s37_no_unverified_jwt_decoding() -> None:
    sources = sorted((repo_root() / "graphql_api").rglob("*.py"))
    assert len(sources) > 20
    offenders = [
        str(path.relative_to(repo_root()))
        for path in sources
        if re.search(r"verify_signature|get_unverified|algorithms\s*=\s*None", path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "mutation { updateMySettings(input: {theme: null}) { __typename } }"}, "'theme'"),
        ({"query": "mutation { updateMe(input: {firstName: null}) { __typename } }"}, "'firstName'"),
        (
            {
                "query": "mutation ($i: UpdateMySettingsInput!) { updateMySettings(input: $i) { __typename } }",
                "variables": {"i": {"language": None}},
            },
            "This field",
        ),
    ],
)
async def test_null_for_a_non_nullable_update_field_is_a_plain_bad_request(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {world.student.token}"})
    result = response.json()
    assert error_codes(result) == ["BAD_REQUEST"]
    message = result["errors"][0]["message"]
    assert message == f"{field} cannot be null; leave it out to keep the current value."
    assert "Strawberry" not in response.text
    assert "Maybe[" not in response.text


async def test_several_operations_need_an_operation_name(gql: GraphQLClient, world: World) -> None:
    document = "query A { me { id } } query B { __typename }"
    result = await gql.execute(document, token=world.student)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    assert "operation name" in result["errors"][0]["message"]
    response = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers={"authorization": f"Bearer {world.student.token}"},
    )
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}
