"""Baseline: graphql-core executed directly, over asyncpg, on a Starlette route.

The schema subset the benchmark uses (Query.node/items/me, Mutation.adjustItemStock, and the
types they reach) is written by hand with GraphQLObjectTypes. Root resolvers load everything
their subtree needs (same SQL as `common`) and return plain dicts, so nested fields go through
graphql-core's default resolver. Parsed and validated documents are cached per query string,
like the product's ParserCache/ValidationCache. What the project costs beyond this baseline is
the price of strawberry, SQLAlchemy and our code.

    uvicorn bench.baselines.graphql_core_app:app --loop uvloop --http httptools
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.baselines import common

MAX_CACHED_DOCUMENTS = 1000


def NN(type_: Any) -> GraphQLNonNull:  # noqa: N802 - reads like the SDL's "!"
    return GraphQLNonNull(type_)


def _typename(value: Any, *_: Any) -> str:
    return str(value["__typename"])


def _enum(name: str, values: list[str]) -> GraphQLEnumType:
    return GraphQLEnumType(name, {value: value for value in values})


ItemCategory = _enum(
    "ItemCategory", ["COMPUTER", "PROJECTOR", "KEYBOARD", "MOUSE", "TV", "CAMERA", "MICROPHONE", "TABLET", "OTHER"]
)
ItemStatus = _enum("ItemStatus", ["ACTIVE", "RETIRED"])
MovementReason = _enum(
    "MovementReason",
    [
        "INITIAL",
        "RESTOCK",
        "CORRECTION",
        "VERIFICATION_FINDING",
        "LOAN_OUT",
        "LOAN_RETURN",
        "MAINTENANCE_OUT",
        "MAINTENANCE_RETURN",
        "LOSS",
        "RETIRE",
    ],
)
Node = GraphQLInterfaceType("Node", {"id": GraphQLField(NN(GraphQLID))}, resolve_type=_typename)
Error = GraphQLInterfaceType(
    "Error", {"message": GraphQLField(NN(GraphQLString)), "code": GraphQLField(NN(GraphQLString))}
)
Center = GraphQLObjectType(
    "Center", {"id": GraphQLField(NN(GraphQLID)), "name": GraphQLField(NN(GraphQLString))}, interfaces=[Node]
)
Environment = GraphQLObjectType(
    "Environment",
    {
        "id": GraphQLField(NN(GraphQLID)),
        "name": GraphQLField(NN(GraphQLString)),
        "isWarehouse": GraphQLField(NN(GraphQLBoolean)),
        "center": GraphQLField(NN(Center)),
    },
    interfaces=[Node],
)
PAGE_ARGS = {
    "first": GraphQLArgument(GraphQLInt),
    "after": GraphQLArgument(GraphQLString),
    "last": GraphQLArgument(GraphQLInt),
    "before": GraphQLArgument(GraphQLString),
}
MovementConnection = GraphQLObjectType("InventoryMovementConnection", {"totalCount": GraphQLField(NN(GraphQLInt))})
InventoryItem = GraphQLObjectType(
    "InventoryItem",
    {
        "id": GraphQLField(NN(GraphQLID)),
        "name": GraphQLField(NN(GraphQLString)),
        "internalCode": GraphQLField(NN(GraphQLString)),
        "category": GraphQLField(NN(ItemCategory)),
        "status": GraphQLField(NN(ItemStatus)),
        "quantity": GraphQLField(NN(GraphQLInt)),
        "quantityAvailable": GraphQLField(NN(GraphQLInt)),
        "environment": GraphQLField(NN(Environment)),
        "movements": GraphQLField(NN(MovementConnection), args=PAGE_ARGS),
    },
    interfaces=[Node],
)
InventoryMovement = GraphQLObjectType(
    "InventoryMovement",
    {"id": GraphQLField(NN(GraphQLID)), "quantityAfter": GraphQLField(NN(GraphQLInt))},
    interfaces=[Node],
)
ItemEdge = GraphQLObjectType("InventoryItemEdge", {"node": GraphQLField(NN(InventoryItem))})
ItemConnection = GraphQLObjectType("InventoryItemConnection", {"edges": GraphQLField(NN(GraphQLList(NN(ItemEdge))))})
User = GraphQLObjectType("User", {"id": GraphQLField(NN(GraphQLID))}, interfaces=[Node])


def _error_type(name: str) -> GraphQLObjectType:
    fields = {"message": GraphQLField(NN(GraphQLString)), "code": GraphQLField(NN(GraphQLString))}
    return GraphQLObjectType(name, fields, interfaces=[Error])


AdjustItemStockPayload = GraphQLObjectType(
    "AdjustItemStockPayload",
    {"item": GraphQLField(NN(InventoryItem)), "movement": GraphQLField(NN(InventoryMovement))},
)
AdjustItemStockResult = GraphQLUnionType(
    "AdjustItemStockResult",
    [
        AdjustItemStockPayload,
        _error_type("ValidationError"),
        _error_type("NotFoundError"),
        _error_type("ConflictError"),
        _error_type("PermissionDeniedError"),
    ],
    resolve_type=_typename,
)
StockDeltaInput = GraphQLInputObjectType(
    "StockDeltaInput",
    {
        "quantity": GraphQLInputField(NN(GraphQLInt), default_value=0),
        "damaged": GraphQLInputField(NN(GraphQLInt), default_value=0),
        "missing": GraphQLInputField(NN(GraphQLInt), default_value=0),
    },
)
AdjustItemStockInput = GraphQLInputObjectType(
    "AdjustItemStockInput",
    {
        "itemId": GraphQLInputField(NN(GraphQLID)),
        "expectedQuantity": GraphQLInputField(NN(GraphQLInt)),
        "delta": GraphQLInputField(NN(StockDeltaInput)),
        "reason": GraphQLInputField(NN(MovementReason)),
        "note": GraphQLInputField(GraphQLString),
    },
)


def _principal(info: Any) -> common.Principal:
    principal = info.context["principal"]
    if principal is None:
        raise GraphQLError("Sign in first.", extensions={"code": "UNAUTHENTICATED"})
    return principal  # type: ignore[no-any-return]


async def resolve_node(_root: Any, info: Any, id: str) -> dict[str, Any] | None:
    principal = _principal(info)
    item_id = common.decode_id(id, "InventoryItem")
    return await common.item_node(info.context["conn"], principal, item_id) if item_id else None


async def resolve_items(_root: Any, info: Any, first: int | None = None, **_: Any) -> dict[str, Any]:
    principal = _principal(info)
    return {"edges": await common.item_edges(info.context["conn"], principal, 20 if first is None else first)}


def resolve_me(_root: Any, info: Any) -> dict[str, Any]:
    principal = _principal(info)
    return {"__typename": "User", "id": common.encode_id("User", principal.id)}


async def resolve_adjust(_root: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    principal = _principal(info)
    try:
        return await common.adjust_stock(
            info.context["conn"],
            principal,
            common.decode_id(input["itemId"], "InventoryItem"),
            expected_quantity=input["expectedQuantity"],
            delta=input["delta"],
            reason=input["reason"],
            note=input.get("note"),
            meta=info.context["meta"],
        )
    except common.Forbidden:
        raise GraphQLError("Not allowed.", extensions={"code": "FORBIDDEN"}) from None


Query = GraphQLObjectType(
    "Query",
    {
        "node": GraphQLField(Node, args={"id": GraphQLArgument(NN(GraphQLID))}, resolve=resolve_node),
        "items": GraphQLField(NN(ItemConnection), args=PAGE_ARGS, resolve=resolve_items),
        "me": GraphQLField(NN(User), resolve=resolve_me),
    },
)
Mutation = GraphQLObjectType(
    "Mutation",
    {
        "adjustItemStock": GraphQLField(
            NN(AdjustItemStockResult),
            args={"input": GraphQLArgument(NN(AdjustItemStockInput))},
            resolve=resolve_adjust,
        )
    },
)
schema = GraphQLSchema(query=Query, mutation=Mutation, types=[InventoryItem, User, Center, Environment])
_documents: dict[str, DocumentNode] = {}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _bad_request(message: str) -> Response:
    return _json({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, 400)


def _document(query: str) -> DocumentNode | list[GraphQLError]:
    document = _documents.get(query)
    if document is not None:
        return document
    try:
        document = parse(query)
    except GraphQLError as error:
        return [error]
    errors = validate(schema, document)
    if errors:
        return errors
    if len(_documents) < MAX_CACHED_DOCUMENTS:
        _documents[query] = document
    return document


async def graphql_endpoint(request: Request) -> Response:
    try:
        body = orjson.loads(await request.body())
        query = body["query"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return _bad_request("Send a JSON body with a query.")
    document = _document(query)
    if isinstance(document, list):
        return _json({"errors": [error.formatted for error in document]})
    meta = {
        "client_ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300] or None,
        "request_id": uuid.uuid4().hex,
    }
    async with request.app.state.pool.acquire() as conn:
        principal = await common.authenticate(conn, request.headers.get("authorization"))
        result = execute(
            schema,
            document,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
            context_value={"conn": conn, "principal": principal, "meta": meta},
        )
        if inspect.isawaitable(result):
            result = await result
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return _json(payload)


async def live(_: Request) -> Response:
    return _json({"status": "ok"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await common.create_pool()
    yield
    await app.state.pool.close()


app = Starlette(
    routes=[Route("/graphql", graphql_endpoint, methods=["POST"]), Route("/health/live", live)],
    lifespan=lifespan,
)
