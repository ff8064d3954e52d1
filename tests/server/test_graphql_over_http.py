"""GraphQL over HTTP against a real uvicorn: gql's own HTTP transport sees the code of every
transport-level error (a GraphQL body, so TransportQueryError) instead of a bare
TransportServerError, in both media types; raw httpx checks statuses and headers on the wire,
including a body streamed without Content-Length past the limit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from graphql_api.db.embedded import free_port
from tests.server.conftest import Seeded, ServerProcess, process_env, uvicorn_command

pytestmark = pytest.mark.server

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
def server(server_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(
        uvicorn_command(port),
        process_env(DATABASE_URL=server_db.url, MAX_BODY_BYTES="4096"),
        port,
        tmp_path_factory.mktemp("over-http") / "uvicorn.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(params=[None, GRAPHQL_RESPONSE], ids=["default", "graphql-response+json"])
async def session(server: ServerProcess, server_db: Seeded, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    headers = {"Authorization": f"Bearer {server_db.supervisor.token}"}
    if request.param:
        headers["Accept"] = request.param
    async with Client(transport=HTTPXAsyncTransport(url=server.graphql_url, headers=headers, timeout=30)) as client:
        yield client


async def codes_of(session: Any, request: GraphQLRequest) -> list[str]:
    with pytest.raises(TransportQueryError) as raised:
        await session.execute(request)
    return [error["extensions"]["code"] for error in raised.value.errors or []]


async def test_gql_sees_the_code_of_a_body_over_the_limit(session: Any) -> None:
    request = GraphQLRequest("{ __typename }", variable_values={"pad": "x" * 5000})
    assert await codes_of(session, request) == ["BAD_REQUEST"]


async def test_gql_sees_the_code_of_an_unknown_operation(session: Any) -> None:
    request = GraphQLRequest("query A { __typename }", operation_name="B")
    assert await codes_of(session, request) == ["BAD_REQUEST"]


async def test_gql_sees_the_code_of_a_request_error(session: Any) -> None:
    assert await codes_of(session, GraphQLRequest("{ itemz { id } }")) == ["BAD_REQUEST"]
    request = GraphQLRequest("query ($n: Int!) { items(first: $n) { totalCount } }", variable_values={"n": "x"})
    assert await codes_of(session, request) == ["BAD_REQUEST"]


async def test_gql_still_gets_data(session: Any, server_db: Seeded) -> None:
    assert await session.execute(GraphQLRequest("{ me { id } }")) == {"me": {"id": server_db.supervisor.gid}}


# ---- on the wire ---------------------------------------------------------------------------------


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        yield client


def refusal(response: httpx.Response, status: int, content_type: str = "application/json") -> str:
    assert (response.status_code, response.headers["content-type"]) == (status, content_type), response.text
    body = response.json()
    assert list(body) == ["errors"], body
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    message: str = body["errors"][0]["message"]
    return message


async def test_request_errors_are_400_in_graphql_response_json(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE})
    refusal(response, 400, f"{GRAPHQL_RESPONSE}; charset=utf-8")
    legacy = await http.post("/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None


async def test_body_streamed_past_the_limit_is_a_json_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename'
        for _ in range(10):
            yield b" " * 1000
        yield b'}"}'

    response = await http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert refusal(response, 413) == "The request body is larger than 4096 bytes."


async def test_declared_length_past_the_limit_is_a_json_413(http: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 5000}})
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    refusal(response, 413)


@pytest.mark.parametrize(
    ("method", "arguments", "status"),
    [
        ("POST", {"content": b'{"query": ', "headers": {"content-type": "application/json"}}, 400),
        ("POST", {"content": b'{"query": "{ __typename }"}', "headers": {"content-type": "text/plain"}}, 415),
        ("POST", {"json": {"query": "{ __typename }"}, "headers": {"accept": "text/html"}}, 406),
        ("GET", {"params": {"query": "mutation { logout { __typename } }"}}, 405),
        ("PUT", {"json": {"query": "{ __typename }"}}, 405),
    ],
    ids=["invalid JSON", "text/plain", "Accept text/html", "GET mutation", "PUT"],
)
async def test_transport_errors_on_the_wire(
    http: httpx.AsyncClient, method: str, arguments: dict[str, Any], status: int
) -> None:
    response = await http.request(method, "/graphql", **arguments)
    refusal(response, status)
    if status == 405:
        assert response.headers["allow"] == "GET, POST"


def test_server_log_has_no_tracebacks(server: ServerProcess) -> None:
    # Runs last in this module.
    assert "Traceback" not in server.log(limit=1_000_000), server.log()
