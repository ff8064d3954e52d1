"""Smoke suite against a real uvicorn process and PostgreSQL, with the gql client over HTTP.

Also the WebSocket handshake (graphql-transport-ws) and the transport limits of F16/F17
(body size, invalid UTF-8, alias flood) as the real server answers them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from websockets.asyncio.client import connect as ws_connect

from graphql_api.db.embedded import free_port
from tests.conftest import PASSWORD, gid, without_cost
from tests.server.conftest import Seeded, ServerProcess, process_env, uvicorn_command

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(server_db: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(
        uvicorn_command(port),
        process_env(DATABASE_URL=server_db.url),
        port,
        tmp_path_factory.mktemp("smoke") / "uvicorn.log",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def anonymous(server: ServerProcess) -> AsyncIterator[Any]:
    async with Client(transport=HTTPXAsyncTransport(url=server.graphql_url, timeout=30)) as session:
        yield session


async def signed_in(server: ServerProcess, token: str) -> Client:
    transport = HTTPXAsyncTransport(url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(transport=transport)


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    __typename
    ... on AuthPayload { accessToken user { id email role } }
    ... on Error { code message }
  }
}
"""


async def login(session: Any, email: str) -> str:
    result = await session.execute(GraphQLRequest(LOGIN, variable_values={"email": email, "password": PASSWORD}))
    payload = result["login"]
    assert payload["__typename"] == "AuthPayload", payload
    assert payload["user"]["email"] == email
    token: str = payload["accessToken"]
    return token


async def test_login_me_and_items_connection(server: ServerProcess, server_db: Seeded, anonymous: Any) -> None:
    token = await login(anonymous, server_db.supervisor.user.email)
    async with await signed_in(server, token) as session:
        me = await session.execute(GraphQLRequest("{ me { id email role } }"))
        assert me["me"] == {
            "id": server_db.supervisor.gid,
            "email": server_db.supervisor.user.email,
            "role": "SUPERVISOR",
        }
        query = """
        query Items($where: ItemWhere) {
          items(first: 10, where: $where) {
            totalCount
            pageInfo { hasNextPage endCursor }
            edges { node {
              id name quantity quantityDamaged
              environment { id code center { id code } }
              movements(first: 5) { totalCount edges { node { reason deltaQuantity quantityAfter } } }
            } }
          }
        }
        """
        variables = {"where": {"environmentIds": [gid("Environment", server_db.environment.id)]}}
        data = await session.execute(GraphQLRequest(query, variable_values=variables))
    nodes = {edge["node"]["id"]: edge["node"] for edge in data["items"]["edges"]}
    seeded = nodes[gid("InventoryItem", server_db.item.id)]
    assert seeded["environment"]["code"] == server_db.environment.code
    assert seeded["environment"]["center"]["id"] == gid("Center", server_db.environment.center_id)
    assert seeded["quantityDamaged"] == 1
    assert seeded["movements"]["totalCount"] >= 1
    first_movement = seeded["movements"]["edges"][0]["node"]
    assert first_movement["reason"] == "INITIAL"
    assert data["items"]["totalCount"] >= 1


async def test_anonymous_me_is_a_top_level_unauthenticated_error(anonymous: Any) -> None:
    with pytest.raises(TransportQueryError) as raised:
        await anonymous.execute(GraphQLRequest("{ me { id } }"))
    errors = raised.value.errors or []
    assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]


async def test_create_item_adjust_stock_and_stale_conflict(server: ServerProcess, server_db: Seeded) -> None:
    create = """
    mutation Create($input: CreateItemInput!) {
      createItem(input: $input) {
        __typename
        ... on ItemPayload { item { id quantity quantityAvailable movements { totalCount } } }
        ... on Error { code message }
      }
    }
    """
    adjust = """
    mutation Adjust($input: AdjustItemStockInput!) {
      adjustItemStock(input: $input) {
        __typename
        ... on AdjustItemStockPayload { item { id quantity } movement { reason deltaQuantity quantityAfter } }
        ... on Error { code message }
      }
    }
    """
    code = f"SMOKE-{uuid.uuid4().hex[:8]}"
    async with await signed_in(server, server_db.supervisor.token) as session:
        created = await session.execute(
            GraphQLRequest(
                create,
                variable_values={
                    "input": {
                        "environmentId": gid("Environment", server_db.environment.id),
                        "name": "Smoke projector kit",
                        "internalCode": code,
                        "category": "PROJECTOR",
                        "itemType": "GROUP",
                        "quantity": 4,
                    }
                },
            )
        )
        payload = created["createItem"]
        assert payload["__typename"] == "ItemPayload", payload
        item = payload["item"]
        assert (item["quantity"], item["quantityAvailable"], item["movements"]["totalCount"]) == (4, 4, 1)

        def adjust_vars(expected: int) -> dict[str, Any]:
            return {
                "input": {
                    "itemId": item["id"],
                    "expectedQuantity": expected,
                    "delta": {"quantity": 3},
                    "reason": "RESTOCK",
                    "note": "smoke",
                }
            }

        adjusted = await session.execute(GraphQLRequest(adjust, variable_values=adjust_vars(4)))
        assert adjusted["adjustItemStock"] == {
            "__typename": "AdjustItemStockPayload",
            "item": {"id": item["id"], "quantity": 7},
            "movement": {"reason": "RESTOCK", "deltaQuantity": 3, "quantityAfter": 7},
        }
        stale = await session.execute(GraphQLRequest(adjust, variable_values=adjust_vars(4)))
        assert stale["adjustItemStock"]["__typename"] == "ConflictError", stale
        assert stale["adjustItemStock"]["code"]
        after = await session.execute(
            GraphQLRequest(
                "query($id: ID!) { node(id: $id) { ... on InventoryItem { quantity movements { totalCount } } } }",
                variable_values={"id": item["id"]},
            )
        )
    assert after["node"] == {"quantity": 7, "movements": {"totalCount": 2}}


async def test_health_endpoints_are_json(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
    assert live.status_code == 200
    assert live.headers["content-type"].startswith("application/json")
    assert live.json() == {"status": "ok", "worker": server.pid}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "head"}


async def test_graphiql_served_to_browsers_in_test_mode(server: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(server.graphql_url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


# ---- WebSocket handshake (graphql-transport-ws) ----------------------------------------------


async def test_websocket_without_token_is_closed_4403(server: ServerProcess) -> None:
    async with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-transport-ws"
        await ws.send(json.dumps({"type": "connection_init"}))
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4403


async def test_websocket_with_token_is_acknowledged(server: ServerProcess, server_db: Seeded) -> None:
    async with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {server_db.supervisor.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        message = json.loads(await ws.recv())
        assert message["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"


async def test_websocket_with_bad_token_is_closed_4403(server: ServerProcess) -> None:
    async with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer not-a-jwt"}}))
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4403


async def test_websocket_queries_have_their_cost_checked(server: ServerProcess, server_db: Seeded) -> None:
    # Queries over graphql-transport-ws go through strawberry's path: the same cost gate. (Raw
    # frames: the gql client refuses the server's binary frames.)
    nested = "movements(first: 100) { edges { node { item { movements(first: 100) { totalCount } } } } }"
    queries = {
        "1": "{ items(first: 3) { totalCount } }",
        "2": "{ items(first: 100) { edges { node { " + nested + " } } } }",
    }
    async with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {server_db.supervisor.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        answers = {}
        for id_, query in queries.items():
            await ws.send(json.dumps({"id": id_, "type": "subscribe", "payload": {"query": query}}))
            answers[id_] = json.loads(await ws.recv())
            assert json.loads(await ws.recv()) == {"id": id_, "type": "complete"}
    assert answers["1"]["payload"]["extensions"] == {"cost": {"estimated": 3, "limit": 25_000}}
    refused = answers["2"]["payload"]
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "cost": 1_010_100, "limit": 25_000}


# ---- F16 / F17 against the real transport ----------------------------------------------------


async def assert_still_serving(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


async def test_f16_five_megabyte_body_is_413(server: ServerProcess) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * (5 * 1024 * 1024)}}).encode()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413
        await assert_still_serving(http)


async def test_f16_invalid_utf8_is_400(server: ServerProcess) -> None:
    body = b'{"query": "{ __typename \xff\xfe }"}'
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        await assert_still_serving(http)


async def test_f17_ten_thousand_aliases_rejected_quickly(server: ServerProcess) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(10_000)) + " }"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        started = time.monotonic()
        response = await http.post("/graphql", json={"query": query})
        elapsed = time.monotonic() - started
        assert response.status_code in {200, 400}
        result = response.json()
        assert result.get("data") is None
        assert result["errors"]
        assert {e["extensions"]["code"] for e in result["errors"]} == {"BAD_REQUEST"}
        # The catalogue says "rejected before execution"; 5 s is a bound for a loaded 2-core box.
        assert elapsed < 5, elapsed
        await assert_still_serving(http)


def test_server_log_has_no_tracebacks(server: ServerProcess) -> None:
    # Runs last in this module: nothing above may have produced an unexpected server error.
    assert "Traceback" not in server.log(limit=200_000), server.log()
