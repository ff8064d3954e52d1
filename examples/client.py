"""A GraphQL client in Python with gql: sign in, run a query, subscribe to the stock of a room
over a WebSocket, run a mutation whose result is a union (and handle each member), print the
live events it caused, then run a query over the WebSocket.

    .venv/bin/python examples/client.py [--url URL] [--email EMAIL] [--password PASSWORD]

The defaults match `scripts/serve` (http://127.0.0.1:8000/graphql, a demo supervisor). The
mutation adds one unit to a group item, tries again with the quantity it saw before (a
ConflictError: someone changed it meanwhile), then takes the unit back, so the item ends as it
was; the three ledger movements stay.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on AuthPayload { accessToken user { email role } }
    ... on Error { code message }
  }
}
"""

GROUP_ITEMS = """
query GroupItems {
  items(first: 1, where: {itemTypes: [GROUP]}) {
    edges { node { id name quantity environment { id name } } }
  }
}
"""

ADJUST = """
mutation Adjust($input: AdjustItemStockInput!) {
  adjustItemStock(input: $input) {
    __typename
    ... on AdjustItemStockPayload { item { quantity } movement { reason deltaQuantity } }
    ... on Error { code message }
  }
}
"""

ME = "query Me { me { email role } }"

STOCK = """
subscription Stock($environmentId: ID!) {
  itemStockChanged(environmentId: $environmentId) {
    item { name }
    movement { reason deltaQuantity quantityAfter }
  }
}
"""


async def sign_in(url: str, email: str, password: str) -> str:
    async with Client(transport=HTTPXAsyncTransport(url=url)) as session:
        result = await session.execute(
            GraphQLRequest(LOGIN, variable_values={"input": {"email": email, "password": password}})
        )
    login = result["login"]
    if login["__typename"] != "AuthPayload":  # InvalidCredentialsError
        sys.exit(f"sign-in failed: {login['code']}: {login['message']}")
    print(f"signed in as {login['user']['email']} ({login['user']['role']})")
    token: str = login["accessToken"]
    return token


async def adjust(session: Any, item_id: str, expected: int, delta: int, reason: str) -> int | None:
    """One stock change; the new quantity, or None when the result is one of the errors."""
    variables = {
        "input": {
            "itemId": item_id,
            "expectedQuantity": expected,
            "delta": {"quantity": delta},
            "reason": reason,
            "note": "examples/client.py",
        }
    }
    result = (await session.execute(GraphQLRequest(ADJUST, variable_values=variables)))["adjustItemStock"]
    label = f"adjustItemStock {delta:+d} {reason} expecting {expected}"
    if result["__typename"] == "AdjustItemStockPayload":
        quantity: int = result["item"]["quantity"]
        print(f"{label}: AdjustItemStockPayload, quantity now {quantity}")
        return quantity
    # ValidationError, NotFoundError, ConflictError, PermissionDeniedError: all are `Error`.
    print(f"{label}: {result['__typename']} {result['code']}: {result['message']}")
    return None


async def first_group_item(session: Any) -> dict[str, Any]:
    edges = (await session.execute(GraphQLRequest(GROUP_ITEMS)))["items"]["edges"]
    if not edges:
        sys.exit("no group item in scope")
    item: dict[str, Any] = edges[0]["node"]
    print(f"item {item['id']}: {item['name']} in {item['environment']['name']}, quantity {item['quantity']}")
    return item


async def change_stock(session: Any, item: dict[str, Any]) -> None:
    seen = item["quantity"]
    now = await adjust(session, item["id"], seen, +1, "RESTOCK")
    await adjust(session, item["id"], seen, +1, "RESTOCK")  # stale: a ConflictError
    if now is not None:
        await adjust(session, item["id"], now, -1, "CORRECTION")


async def watch(session: Any, environment_id: str, events: int) -> list[str]:
    """The first `events` stock movements of the room, as they are committed."""
    seen: list[str] = []
    request = GraphQLRequest(STOCK, variable_values={"environmentId": environment_id})
    async for event in session.subscribe(request):
        change = event["itemStockChanged"]
        item, movement = change["item"], change["movement"]
        seen.append(
            # The movement's own figure: `item` is the item as it is when the event is delivered,
            # which may already include a later movement.
            f"live: {item['name']} {movement['reason']} {movement['deltaQuantity']:+d}, "
            f"quantity {movement['quantityAfter']}"
        )
        if len(seen) == events:
            break
    return seen


async def run(url: str, token: str) -> None:
    ws_url = "ws" + url.removeprefix("http")  # http -> ws, https -> wss
    http = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    # graphql-transport-ws: browsers cannot set headers on a WebSocket, so the token goes in
    # the connection_init payload.
    socket = WebsocketsTransport(url=ws_url, init_payload={"authorization": f"Bearer {token}"})
    async with Client(transport=http) as over_http, Client(transport=socket) as over_socket:
        item = await first_group_item(over_http)
        live = asyncio.ensure_future(watch(over_socket, item["environment"]["id"], events=2))
        await asyncio.sleep(0.5)  # the subscription is in place before the changes
        await change_stock(over_http, item)
        for line in await asyncio.wait_for(live, timeout=10):  # the conflict moved nothing
            print(line)
        me = (await over_socket.execute(GraphQLRequest(ME)))["me"]
        print(f"over the WebSocket: me is {me['email']} ({me['role']})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--email", default="supervisor.cgmlti@demo.local")
    parser.add_argument("--password", default="Demo12345!")
    args = parser.parse_args()
    token = await sign_in(args.url, args.email, args.password)
    await run(args.url, token)


if __name__ == "__main__":
    asyncio.run(main())
