"""Transport-level hardening: introspection, IDE, suggestions, GET/CSRF, batching, CORS,
client IP and request ids, the graphql-cop checks (catalogue S01-S06, §1.2)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.core.view import client_ip
from graphql_api.db import models
from graphql_api.settings import SettingsError
from tests.conftest import GraphQLClient, error_codes, make_settings, without_cost
from tests.security import app_client, audit_rows, count_rows, failing_login, production_client, transport_error

ORIGIN = "https://app.example"
EVIL = "https://evil.example"
JSON = {"content-type": "application/json"}
IDE_MARKERS = ("GraphiQL", "graphiql.min.css", "GraphQL Playground", "graphql-playground")
CREATE_CENTER = 'mutation { createCenter(input: {name: "Evil", code: "EVIL", location: "x"}) { __typename } }'


@pytest.fixture(scope="module")
async def prod(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with production_client(database_url) as http:
        yield http


@pytest.fixture(scope="module")
async def cors(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(database_url, CORS_ORIGINS=ORIGIN) as (http, _):
        yield http


@pytest.fixture(scope="module")
async def behind_proxy(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Peer 10.1.2.3 is inside TRUSTED_PROXIES."""
    async with app_client(database_url, TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.1") as (http, _):
        yield http


@pytest.fixture(scope="module")
async def untrusted_peer(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Same TRUSTED_PROXIES, but the peer (198.51.100.20) is not one of them."""
    async with app_client(database_url, peer=("198.51.100.20", 5555), TRUSTED_PROXIES="10.0.0.0/8") as (http, _):
        yield http


@pytest.fixture(params=["client", "prod"])
def any_mode(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """The test-mode app (IDE and introspection on) and the production-mode app."""
    client: httpx.AsyncClient = request.getfixturevalue(request.param)
    return client


def no_ide(response: httpx.Response) -> None:
    assert "text/html" not in response.headers.get("content-type", "")
    for marker in IDE_MARKERS:
        assert marker not in response.text


# ---- S01 introspection --------------------------------------------------------------------------


async def test_s01_introspection_disabled_in_production(prod: httpx.AsyncClient) -> None:
    response = await prod.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == (
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."
    )
    assert set(error_codes(body)) == {"BAD_REQUEST"}

    by_type = (await prod.post("/graphql", json={"query": '{ __type(name: "User") { fields { name } } }'})).json()
    assert by_type["data"] is None
    assert by_type["errors"][0]["message"] == (
        "GraphQL introspection has been disabled, but the requested query contained the field '__type'."
    )
    # __typename is not introspection of the schema and keeps working.
    assert without_cost((await prod.post("/graphql", json={"query": "{ __typename }"})).json()) == {
        "data": {"__typename": "Query"}
    }


async def test_s01_introspection_enabled_in_test_mode(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ __schema { queryType { name } types { name } } }"})).json()
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"] == {"name": "Query"}
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "User", "InventoryItem"} <= names


def test_s01_s02_defaults_per_environment() -> None:
    for env in ("development", "test"):
        settings = make_settings(APP_ENV=env)
        assert (settings.graphql_introspection, settings.graphql_ide) == (True, True)
    production = make_settings(APP_ENV="production", SECRET_KEY="s" * 40, QR_SECRET_KEY="q" * 40)
    assert (production.graphql_introspection, production.graphql_ide) == (False, False)


# ---- S02 GraphiQL -------------------------------------------------------------------------------


async def test_s02_graphiql_served_in_test_mode(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in response.text


@pytest.mark.parametrize("path", ["/graphql", "/graphiql", "/playground", "/"])
async def test_s02_no_graphiql_in_production(prod: httpx.AsyncClient, path: str) -> None:
    response = await prod.get(path, headers={"accept": "text/html"})
    assert response.status_code == (405 if path == "/graphql" else 404)
    no_ide(response)


# ---- S03 suggestions ------------------------------------------------------------------------------

TYPOS = [
    ("{ itemz { totalCount } }", "Cannot query field 'itemz' on type 'Query'."),
    ("{ items { edges { node { nam } } } }", "Cannot query field 'nam' on type 'InventoryItem'."),
    ("{ items(frist: 1) { totalCount } }", "Unknown argument 'frist' on field 'Query.items'."),
    (
        '{ items(where: {serach: "a"}) { totalCount } }',
        "Expected value of type 'ItemWhere' not to include unknown field 'serach'. Found: { serach: \"a\" }.",
    ),
    (
        "{ items(where: {categories: [COMPUTR]}) { totalCount } }",
        "Value 'COMPUTR' does not exist in 'ItemCategory' enum.",
    ),
    ("query ($w: ItemWher) { items(where: $w) { totalCount } }", "Unknown type 'ItemWher'."),
]


@pytest.mark.parametrize(("query", "message"), TYPOS)
async def test_s03_no_suggestions_in_production(prod: httpx.AsyncClient, query: str, message: str) -> None:
    body = (await prod.post("/graphql", json={"query": query})).json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == message
    assert "Did you mean" not in str(body)
    assert set(error_codes(body)) == {"BAD_REQUEST"}


async def test_s03_no_suggestions_in_variable_coercion_in_production(prod: httpx.AsyncClient) -> None:
    # Coercion of variables happens at execution, not validation; the hint must go there too.
    # (The field is authenticated, but variables are coerced before any resolver runs.)
    query = "query ($w: ItemWhere) { items(where: $w) { totalCount } }"
    body = (await prod.post("/graphql", json={"query": query, "variables": {"w": {"serach": "a"}}})).json()
    assert body["data"] is None
    assert "serach" in body["errors"][0]["message"]
    assert "Did you mean" not in str(body)
    assert error_codes(body) == ["BAD_REQUEST"]


async def test_s03_suggestions_kept_in_test_mode(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": TYPOS[0][0]})).json()
    assert body["errors"][0]["message"] == "Cannot query field 'itemz' on type 'Query'. Did you mean 'item' or 'items'?"


# ---- S04 GET --------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["query cop { __typename }", "mutation cop { __typename }"])
async def test_s04_get_is_refused_in_test_mode(client: httpx.AsyncClient, query: str) -> None:
    # GET serves GraphiQL here, and never runs an operation (GraphQL over HTTP: 405).
    response = await client.get("/graphql", params={"query": query})
    assert transport_error(response) == (405, "GraphQL operations are executed over POST only.")
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("query", ["query cop { __typename }", "mutation cop { __typename }"])
async def test_s04_get_is_refused_in_production(prod: httpx.AsyncClient, query: str) -> None:
    # The production route accepts POST only: GET never reaches GraphQL at all.
    response = await prod.get("/graphql", params={"query": query})
    assert transport_error(response)[0] == 405
    assert response.headers["allow"] == "POST"
    assert "__typename" not in response.text


async def test_s04_get_mutation_executes_nothing(
    any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    response = await any_mode.get("/graphql", params={"query": failing_login()})
    assert response.status_code in {400, 405}
    assert await audit_rows(db) == []


# ---- S05 non-JSON POST (CSRF "simple requests") --------------------------------------------------


def simple_request(kind: str) -> dict[str, Any]:
    """A body a browser may send cross-origin without a preflight, carrying a real mutation."""
    query = failing_login()
    as_json = json.dumps({"query": query})
    return {
        "form": {"data": {"query": query}},
        "text-plain": {"content": as_json, "headers": {"content-type": "text/plain"}},
        "text-plain-json-param": {
            "content": as_json,
            "headers": {"content-type": "text/plain; charset=application/json"},
        },
        "multipart": {"files": {"operations": (None, as_json), "map": (None, "{}")}},
        "application-graphql": {"content": query, "headers": {"content-type": "application/graphql"}},
        "no-content-type": {"content": as_json},
    }[kind]


@pytest.mark.parametrize(
    "kind", ["form", "text-plain", "text-plain-json-param", "multipart", "application-graphql", "no-content-type"]
)
async def test_s05_non_json_post_is_refused(
    any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], kind: str
) -> None:
    response = await any_mode.post("/graphql", **simple_request(kind))
    assert transport_error(response) == (415, "The request body must be JSON (Content-Type: application/json).")
    assert await audit_rows(db) == []


# ---- S06 batching --------------------------------------------------------------------------------


async def test_s06_array_batch_is_refused(any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    response = await any_mode.post("/graphql", json=[{"query": "{ __typename }"}] * 10)
    assert transport_error(response) == (400, "Batching is not enabled")
    mutations = [{"query": failing_login(f"user{i}@test.local")} for i in range(5)]
    response = await any_mode.post("/graphql", json=mutations)
    assert transport_error(response) == (400, "Batching is not enabled")
    assert await audit_rows(db) == []


# ---- graphql-cop (§1.2), against the production app ------------------------------------------------


class TestGraphQLCop:
    """Each check sends graphql-cop's request and applies its exact "flagged if" condition."""

    @staticmethod
    def json_or_none(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    async def test_introspection(self, prod: httpx.AsyncClient) -> None:
        body = self.json_or_none(
            await prod.post("/graphql", json={"query": "query cop { __schema { types { name fields { name } } } }"})
        )
        flagged = bool(((body or {}).get("data") or {}).get("__schema", {}).get("types"))
        assert not flagged
        assert body["data"] is None
        assert "introspection has been disabled" in body["errors"][0]["message"]

    async def test_detect_graphiql(self, prod: httpx.AsyncClient) -> None:
        response = await prod.get("/graphql", headers={"accept": "text/html"})
        assert not any(marker in response.text for marker in IDE_MARKERS)

    async def test_field_suggestions(self, prod: httpx.AsyncClient) -> None:
        body = (await prod.post("/graphql", json={"query": "query cop { __schema { directive } }"})).json()
        assert "Did you mean" not in body["errors"][0]["message"]
        assert all("Did you mean" not in e["message"] for e in body["errors"])

    async def test_get_method_support(self, prod: httpx.AsyncClient) -> None:
        response = await prod.get("/graphql", params={"query": "query cop {__typename}"})
        assert not ((self.json_or_none(response) or {}).get("data") or {}).get("__typename")
        assert response.status_code == 405

    async def test_get_based_mutation(self, prod: httpx.AsyncClient) -> None:
        response = await prod.get("/graphql", params={"query": "mutation cop {__typename}"})
        assert not ((self.json_or_none(response) or {}).get("data") or {}).get("__typename")
        assert response.status_code == 405

    async def test_post_based_csrf(self, prod: httpx.AsyncClient) -> None:
        response = await prod.post("/graphql", data={"query": "query cop {__typename}"})
        assert transport_error(response)[0] == 415  # and no `data`: nothing ran

    async def test_alias_overloading(self, prod: httpx.AsyncClient) -> None:
        query = "query cop { " + " ".join(f"alias{i}:__typename" for i in range(101)) + " }"
        body = (await prod.post("/graphql", json={"query": query})).json()
        assert "alias100" not in (body.get("data") or {})
        assert body == {
            "data": None,
            "errors": [{"message": "101 aliases found. Allowed: 15", "extensions": {"code": "BAD_REQUEST"}}],
        }

    async def test_batch_query(self, prod: httpx.AsyncClient) -> None:
        response = await prod.post("/graphql", json=[{"query": "query cop { __typename }"}] * 10)
        body = self.json_or_none(response)
        assert not (isinstance(body, list) and len(body) >= 10)
        assert response.status_code == 400

    async def test_directive_overloading(self, prod: httpx.AsyncClient) -> None:
        # graphql-cop flags exactly 10 errors back; our bound is that errors stay <= 100
        # however many directives are sent (the token limit and the 50-directive rule cap them).
        body = (await prod.post("/graphql", json={"query": "query cop { __typename " + "@aa" * 10 + " }"})).json()
        assert body["data"] is None
        assert len(body["errors"]) <= 100
        assert set(error_codes(body)) == {"BAD_REQUEST"}

    async def test_circular_query_introspection(self, prod: httpx.AsyncClient) -> None:
        query = (
            "query cop { __schema { types { fields { type { fields { type { fields { type { fields "
            "{ type { name } } } } } } } } } } }"
        )
        body = (await prod.post("/graphql", json={"query": query})).json()
        assert body["data"] is None
        messages = [e["message"] for e in body["errors"]]
        assert "Maximum introspection depth exceeded" in messages
        assert any("introspection has been disabled" in m for m in messages)

    async def test_trace_mode(self, prod: httpx.AsyncClient) -> None:
        body = (await prod.post("/graphql", json={"query": "query cop { __typename }"})).json()
        assert without_cost(body) == {"data": {"__typename": "Query"}}
        failing = (await prod.post("/graphql", json={"query": "query cop { nope }"})).json()
        assert "tracing" not in failing["errors"][0].get("extensions", {})
        assert "extensions" not in failing

    async def test_unhandled_error_detection(self, prod: httpx.AsyncClient) -> None:
        body = (await prod.post("/graphql", json={"query": "qwerty cop { abc }"})).json()
        assert "exception" not in body["errors"][0].get("extensions", {})
        assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


# ---- CORS ----------------------------------------------------------------------------------------


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
    }


async def test_cors_preflight_allowed_origin(cors: httpx.AsyncClient) -> None:
    response = await cors.options("/graphql", headers=preflight(ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert allowed == {"GET", "POST", "OPTIONS"}


async def test_cors_preflight_disallowed_origin(cors: httpx.AsyncClient) -> None:
    response = await cors.options("/graphql", headers=preflight(EVIL))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_actual_request(cors: httpx.AsyncClient) -> None:
    allowed = await cors.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-origin"] != "*"
    denied = await cors.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": EVIL})
    assert "access-control-allow-origin" not in denied.headers
    # A lookalike origin is not a match.
    lookalike = await cors.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ORIGIN + ".evil"})
    assert "access-control-allow-origin" not in lookalike.headers


async def test_no_cors_headers_without_cors_origins(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers=preflight(ORIGIN))
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ORIGIN})
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_cors_wildcard_is_refused() -> None:
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        make_settings(CORS_ORIGINS="*")


# ---- client IP -----------------------------------------------------------------------------------


def fake_request(peer: str | None, forwarded: str | None = None) -> Any:
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    return SimpleNamespace(client=SimpleNamespace(host=peer) if peer else None, headers=headers)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.1.2.3", "203.0.113.7", (), "10.1.2.3"),
        ("198.51.100.1", "203.0.113.7", ("10.0.0.0/8",), "198.51.100.1"),
        ("10.1.2.3", "203.0.113.7", ("10.0.0.0/8",), "203.0.113.7"),
        ("10.1.2.3", "6.6.6.6, 203.0.113.7", ("10.0.0.0/8",), "203.0.113.7"),
        ("10.1.2.3", "203.0.113.7, 10.9.9.9", ("10.0.0.0/8",), "203.0.113.7"),
        ("10.1.2.3", "10.9.9.9, 10.8.8.8", ("10.0.0.0/8",), "10.1.2.3"),
        ("10.1.2.3", "", ("10.0.0.0/8",), "10.1.2.3"),
        ("10.1.2.3", None, ("10.0.0.0/8",), "10.1.2.3"),
        ("192.168.1.1", "203.0.113.7", ("192.168.1.1",), "203.0.113.7"),
        ("10.1.2.3", "203.0.113.7", ("not-a-network",), "10.1.2.3"),
        ("testclient", "203.0.113.7", ("10.0.0.0/8",), "testclient"),
        (None, "203.0.113.7", ("10.0.0.0/8",), None),
        ("10.1.2.3", "x" * 500, ("10.0.0.0/8",), "x" * 64),
        ("::1", "2001:db8::5", ("::1/128",), "2001:db8::5"),
    ],
)
def test_client_ip(peer: str | None, forwarded: str | None, trusted: tuple[str, ...], expected: str | None) -> None:
    assert client_ip(fake_request(peer, forwarded), trusted) == expected


async def login_row(http: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], **headers: str) -> models.AuditLog:
    response = await http.post("/graphql", json={"query": failing_login()}, headers=headers)
    assert without_cost(response.json()) == {"data": {"login": {"__typename": "InvalidCredentialsError"}}}
    rows = await audit_rows(db)
    assert len(rows) == 1
    assert (rows[0].operation, rows[0].outcome) == ("login", models.AuditOutcome.FAILURE)
    return rows[0]


async def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    row = await login_row(client, db, **{"x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8"})
    assert row.client_ip == "10.1.2.3"


async def test_forwarded_for_from_untrusted_peer_is_ignored(
    untrusted_peer: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    row = await login_row(untrusted_peer, db, **{"x-forwarded-for": "203.0.113.7"})
    assert row.client_ip == "198.51.100.20"


async def test_forwarded_for_from_trusted_proxy_is_used(
    behind_proxy: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    row = await login_row(behind_proxy, db, **{"x-forwarded-for": "6.6.6.6, 203.0.113.7"})
    # The nearest hop that is not a trusted proxy; what the client wrote further left is not believed.
    assert row.client_ip == "203.0.113.7"


# ---- X-Request-ID ----------------------------------------------------------------------------------


async def test_sane_request_id_is_recorded(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    row = await login_row(client, db, **{"x-request-id": "req-2026.11_25-ABC"})
    assert row.request_id == "req-2026.11_25-ABC"


@pytest.mark.parametrize("given", ["has space", "a" * 200, "bad\nid", "semi;colon", "ünï", "a" * 65])
async def test_unsafe_request_id_is_replaced(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], given: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": failing_login()}, headers=[("x-request-id", given.encode("utf-8"))]
    )
    assert response.status_code == 200
    rows = await audit_rows(db)
    assert len(rows) == 1
    assert rows[0].request_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", rows[0].request_id)


async def test_missing_request_id_is_generated(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
    row = await login_row(client, db)
    assert row.request_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", row.request_id)


# ---- user agent in the audit row (S36) --------------------------------------------------------------


async def test_user_agent_is_sanitised_and_truncated(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    agent = "evil\nline\x1b[31mred\r\t" + "u" * 400
    response = await client.post(
        "/graphql",
        json={"query": failing_login()},
        headers=[(b"user-agent", agent.encode()), (b"x-request-id", b"ua-test")],
    )
    assert response.status_code == 200
    rows = await audit_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert row.user_agent == ("evil?line?[31mred??" + "u" * 400)[:300]
    assert len(row.user_agent) == 300
    for value in (row.operation, row.user_agent, row.request_id, row.client_ip, row.error_code):
        assert value is not None
        assert value.isprintable(), repr(value)


# ---- error language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "message"),
    [
        ("en", "You must sign in."),
        ("en-US,en;q=0.9", "You must sign in."),
        ("es", "Debes iniciar sesión."),
        ("fr-FR, en;q=0.5, es;q=0.8", "Debes iniciar sesión."),
        ("de", "Debes iniciar sesión."),
        (None, "Debes iniciar sesión."),
    ],
)
async def test_error_language_follows_accept_language(gql: GraphQLClient, accept: str | None, message: str) -> None:
    headers = {"accept-language": accept} if accept else None
    result = await gql.execute("{ me { id } }", headers=headers)
    assert result["data"] is None
    assert [e["message"] for e in result["errors"]] == [message]
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_error_codes_do_not_change_with_language(gql: GraphQLClient, world: Any) -> None:
    queries = [
        ("{ me { id } }", None),
        ("{ items(first: 1000) { totalCount } }", world.student),
        ("{ users { totalCount } }", world.student),
        ("{ nope }", None),
    ]
    for query, token in queries:
        english = await gql.execute(query, token=token, headers={"accept-language": "en"})
        spanish = await gql.execute(query, token=token, headers={"accept-language": "es"})
        assert error_codes(english) == error_codes(spanish)
        assert error_codes(english)[0] in {"UNAUTHENTICATED", "FORBIDDEN", "BAD_REQUEST"}


async def test_no_side_effects_from_refused_requests(
    any_mode: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    """Every transport-level refusal above leaves the database untouched."""
    for kwargs, status in (
        ({"data": {"query": CREATE_CENTER}}, 415),
        ({"json": [{"query": CREATE_CENTER}]}, 400),
        ({"content": json.dumps({"query": CREATE_CENTER})[:-1], "headers": JSON}, 400),  # truncated JSON
    ):
        response = await any_mode.post("/graphql", **kwargs)
        assert transport_error(response)[0] == status
    assert await count_rows(db, models.Center) == 0
    assert await audit_rows(db) == []
