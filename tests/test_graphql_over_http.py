"""GraphQL over HTTP (graphql.github.io/graphql-over-http), in process with httpx: Accept
negotiation, the status codes of application/graphql-response+json, application/json as the
default, and every transport-level error as a GraphQL JSON body with `extensions.code`.

Against a real uvicorn and gql's own HTTP transport: tests/server/test_graphql_over_http.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graphql_api.api.core.transport import GRAPHQL_RESPONSE, JSON, negotiate
from tests.conftest import World, without_cost
from tests.security import app_client, production_client

GR_CONTENT_TYPE = "application/graphql-response+json; charset=utf-8"
ACCEPT_GR = {"accept": GRAPHQL_RESPONSE}
ME = "{ me { id } }"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/json; charset=utf-8", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        # both listed: the higher q wins, and on a tie the one the spec prefers
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.9", JSON),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE};q=0.8", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        # a type named beats one reached by a wildcard at the same q
        ("application/json, */*", JSON),
        (f"{GRAPHQL_RESPONSE}, */*", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("text/html, */*;q=0.1", JSON),
        ("application/json, multipart/mixed", JSON),  # GraphiQL's
        # nothing we can send
        ("text/html", None),
        ("application/xml", None),
        ("multipart/mixed", None),
        ("text/event-stream", None),
        ("application/json;q=0", None),
        ("*/*;q=0", None),
        ("application/json;q=abc", None),
        ("application/json;q=2", None),
        ("garbage", None),
    ],
)
def test_accept_negotiation(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


# ---- application/graphql-response+json -----------------------------------------------------------


async def post(client: httpx.AsyncClient, body: Any, token: Any = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token.token}"
    return await client.post("/graphql", json=body, headers=headers)


def request_error(response: httpx.Response, status: int, content_type: str = GR_CONTENT_TYPE) -> dict[str, Any]:
    """A response without `data` whose only error has the code BAD_REQUEST."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == content_type
    body: dict[str, Any] = response.json()
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], body
    assert body["errors"][0]["message"]
    return body


async def test_success_is_200_in_the_media_type_asked_for(client: httpx.AsyncClient, world: World) -> None:
    response = await post(client, {"query": ME}, world.student, **ACCEPT_GR)
    assert response.status_code == 200
    assert response.headers["content-type"] == GR_CONTENT_TYPE
    assert without_cost(response.json()) == {"data": {"me": {"id": world.student.gid}}}


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ me { id "},
        {"query": "{ nope }"},
        {"query": "query ($n: Int!) { items(first: $n) { totalCount } }", "variables": {"n": "x"}},
        {"query": "query ($n: Int!) { items(first: $n) { totalCount } }"},
        {"query": "query A { me { id } } query B { me { id } }"},
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(20)) + " }"},
    ],
    ids=["syntax error", "validation error", "variable coercion", "missing variable", "no operation chosen", "aliases"],
)
async def test_request_errors_are_400_without_data(client: httpx.AsyncClient, world: World, body: Any) -> None:
    request_error(await post(client, body, world.student, **ACCEPT_GR), 400)
    # The legacy default is unchanged: 200, `data: null`.
    legacy = await post(client, body, world.student)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == JSON
    assert legacy.json()["data"] is None


async def test_field_errors_are_200_with_data(client: httpx.AsyncClient) -> None:
    # Execution ran: `me` is non-null, so `data` is null, and it is there.
    response = await post(client, {"query": ME}, **ACCEPT_GR)
    assert response.status_code == 200
    assert response.headers["content-type"] == GR_CONTENT_TYPE
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---- transport-level errors, in both media types --------------------------------------------------


def raw(content: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    return {"content": content, "headers": {"content-type": content_type} if content_type else {}}


TRANSPORT_ERRORS: dict[str, tuple[str, dict[str, Any], int]] = {
    "invalid JSON": ("POST", raw(b'{"query": '), 400),
    "invalid UTF-8": ("POST", raw(b'{"query": "{ __typename \xff }"}'), 400),
    "JSON that is not an object": ("POST", raw(b"1"), 400),
    "batch": ("POST", {"json": [{"query": "{ __typename }"}]}, 400),
    "query is not a string": ("POST", {"json": {"query": 1}}, 400),
    "variables is not an object": ("POST", {"json": {"query": ME, "variables": [1]}}, 400),
    "missing query": ("POST", {"json": {"variables": {}}}, 400),
    "empty query": ("POST", {"json": {"query": ""}}, 400),
    "unknown operation": ("POST", {"json": {"query": "query A { __typename }", "operationName": "B"}}, 400),
    "text/plain": ("POST", raw(b'{"query": "{ __typename }"}', "text/plain"), 415),
    "no content type": ("POST", raw(b'{"query": "{ __typename }"}', None), 415),
    "form": ("POST", {"data": {"query": "{ __typename }"}}, 415),
    "latin-1 JSON": ("POST", raw(b'{"query": "{ __typename }"}', "application/json; charset=latin-1"), 415),
    "GET query": ("GET", {"params": {"query": "{ __typename }"}}, 405),
    "GET mutation": ("GET", {"params": {"query": "mutation { logout { __typename } }"}}, 405),
    "PUT": ("PUT", {"json": {"query": "{ __typename }"}}, 405),
    "DELETE": ("DELETE", {}, 405),
    "too large": ("POST", {"json": {"query": "{ __typename }", "variables": {"pad": "x" * 1_100_000}}}, 413),
}


@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE])
@pytest.mark.parametrize("case", list(TRANSPORT_ERRORS))
async def test_transport_errors_are_graphql_json(client: httpx.AsyncClient, case: str, accept: str | None) -> None:
    method, shared, status = TRANSPORT_ERRORS[case]
    arguments = dict(shared)
    headers = {**arguments.pop("headers", {}), **({"accept": accept} if accept else {})}
    response = await client.request(method, "/graphql", headers=headers, **arguments)
    request_error(response, status, GR_CONTENT_TYPE if accept else JSON)
    if status == 405:
        # GET serves GraphiQL in test mode, so it is one of the allowed methods.
        assert response.headers["allow"] == "GET, POST"


async def test_json_decoder_reason_is_in_the_message(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", **raw(b'{"query": "\\u0000"}'))
    body = request_error(response, 400, JSON)
    message = "Unable to parse request body as JSON: strings may not contain NUL characters"
    assert body["errors"][0]["message"] == message


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/event-stream", "application/json;q=0"])
async def test_unsupported_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await post(client, {"query": "{ __typename }"}, accept=accept)
    request_error(response, 406, JSON)


async def test_graphiql_is_still_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_get_without_a_page_to_render_is_400(client: httpx.AsyncClient) -> None:
    request_error(await client.get("/graphql", headers={"accept": "application/json"}), 400, JSON)


@pytest.fixture(scope="module")
async def prod(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with production_client(database_url) as http:
        yield http


@pytest.mark.parametrize("method", ["GET", "PUT", "OPTIONS", "HEAD"])
async def test_production_allows_post_only(prod: httpx.AsyncClient, method: str) -> None:
    response = await prod.request(method, "/graphql", headers={"accept": "text/html"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    if method != "HEAD":
        request_error(response, 405, JSON)


async def test_the_body_limit_is_the_setting(database_url: str) -> None:
    async with app_client(database_url, MAX_BODY_BYTES="2000") as (http, _):
        small = await http.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": "x" * 1900}})
        large = await http.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": "x" * 2000}})
    assert without_cost(small.json()) == {"data": {"__typename": "Query"}}
    body = request_error(large, 413, JSON)
    assert body["errors"][0]["message"] == "The request body is larger than 2000 bytes."
