"""The workloads: their GraphQL documents, the variants measured side by side, and the request
files given to wrk (see bench/wrk/requests.lua for the format)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.baselines.common import encode_id

NODE_QUERY = (
    "query Node($id: ID!) { node(id: $id) { ... on InventoryItem "
    "{ id name internalCode category status quantity quantityAvailable } } }"
)
ITEMS_QUERY = (
    "query Items($first: Int!) { items(first: $first) { edges { node { id name quantityAvailable "
    "environment { name center { name } } movements(first: 3) { totalCount } } } } }"
)
ME_QUERY = "query Me { me { id } }"
ADJUST_MUTATION = (
    "mutation Adjust($input: AdjustItemStockInput!) { adjustItemStock(input: $input) { __typename "
    "... on AdjustItemStockPayload { item { id quantity quantityAvailable } movement { id quantityAfter } } "
    "... on Error { code message } } }"
)
LOGIN_MUTATION = (
    "mutation Login($input: LoginInput!) { login(input: $input) { __typename "
    "... on AuthPayload { accessToken } ... on Error { code message } } }"
)
# The `subscriptions` workload's two documents: what a mobile app and a room's dashboard watch.
STOCK_APP = (
    "subscription Stock($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) { "
    "item { id name quantity quantityAvailable condition } "
    "movement { id reason deltaQuantity quantityAfter createdAt } } }"
)
STOCK_BOARD = (
    "subscription StockBoard($environmentId: ID!) { itemStockChanged(environmentId: $environmentId) { "
    "item { id internalCode quantity quantityDamaged quantityMissing quantityInMaintenance quantityOnLoan "
    "quantityAvailable updatedAt environment { name } } movement { id reason deltaQuantity createdAt } } }"
)
QTY_PLACEHOLDER = 987_654_321  # replaced by __QTY__ after JSON encoding (a number, not a string)

Request = tuple[str, str, str]  # method, path, body ("" for none)


@dataclass(frozen=True)
class Fixtures:
    node_ids: list[uuid.UUID]  # random items (any status) for node(id:)
    stock_pool: list[tuple[uuid.UUID, int]]  # active GROUP items and their quantity, shuffled
    login_emails: list[str]


@dataclass(frozen=True)
class Variant:
    label: str
    server: str  # key of the server that serves it
    kind: str  # node | items | me | mutation
    api: str = "graphql"  # graphql | rest | json_agg
    role: str = "admin"  # admin (ADMIN_GENERAL) | student (STUDENT)
    first: int = 0  # page size of `items`
    side_login: bool = False  # logins at a fixed rate run beside this variant
    count: bool = True  # count statements and transactions per request
    project: bool = False  # the product (as opposed to a baseline)

    @property
    def expect(self) -> str:
        return {"node": "internalCode", "items": "edges", "me": '"me"', "mutation": "AdjustItemStockPayload"}[self.kind]

    @property
    def cas(self) -> bool:
        return self.kind == "mutation"


@dataclass(frozen=True)
class Comparison:
    a: str  # label of the measured variant (the project)
    b: str  # label of its baseline
    baseline: str  # how the table names the baseline


@dataclass
class Workload:
    name: str
    description: str
    variants: list[Variant]
    comparisons: list[Comparison]
    timeout_s: int = 10
    # Slow variants (list1000 at 16 connections takes seconds per request) need a window longer
    # than one round of in-flight requests, and a pause after the warm-up: the server finishes
    # requests wrk abandoned, which would otherwise eat the measured window.
    min_duration_s: float = 0.0
    drain_s: float = 0.0
    count_requests: int = 200
    notes: list[str] = field(default_factory=list)


def _gql(query: str, variables: dict[str, object]) -> str:
    operation = query.split("(", 1)[0].split("{", 1)[0].split()[1]  # "query Node($id: ID!) ..." -> Node
    return orjson.dumps({"query": query, "operationName": operation, "variables": variables}).decode()


def random_requests(variant: Variant, fixtures: Fixtures) -> list[Request]:
    """The requests of a non-mutation variant (wrk picks them at random)."""
    if variant.kind == "node":
        if variant.api == "rest":
            return [("GET", f"/rest/items/{i}", "") for i in fixtures.node_ids]
        return [
            ("POST", "/graphql", _gql(NODE_QUERY, {"id": encode_id("InventoryItem", i)})) for i in fixtures.node_ids
        ]
    if variant.kind == "items":
        if variant.api == "rest":
            return [("GET", f"/rest/items?first={variant.first}", "")]
        if variant.api == "json_agg":
            return [("GET", f"/rest/items-json?first={variant.first}", "")]
        return [("POST", "/graphql", _gql(ITEMS_QUERY, {"first": variant.first}))]
    if variant.kind == "me":
        return [("GET", "/rest/me", "")] if variant.api == "rest" else [("POST", "/graphql", _gql(ME_QUERY, {}))]
    raise ValueError(variant.kind)


def cas_template(variant: Variant) -> Request:
    """The mutation request with __ID__, __UUID__ and __QTY__ placeholders."""
    if variant.api == "rest":
        body = orjson.dumps({"expectedQuantity": QTY_PLACEHOLDER, "delta": {"quantity": 1}, "reason": "RESTOCK"})
        return ("POST", "/rest/items/__UUID__/adjust-stock", body.decode().replace(str(QTY_PLACEHOLDER), "__QTY__"))
    variables = {
        "input": {
            "itemId": "__ID__",
            "expectedQuantity": QTY_PLACEHOLDER,
            "delta": {"quantity": 1},
            "reason": "RESTOCK",
        }
    }
    return ("POST", "/graphql", _gql(ADJUST_MUTATION, variables).replace(str(QTY_PLACEHOLDER), "__QTY__"))


def cas_requests(variant: Variant, items: list[tuple[uuid.UUID, int]], count: int) -> list[Request]:
    """`count` mutation requests over `items`, in the order the Lua script sends them."""
    method, path, body = cas_template(variant)
    out = []
    for index in range(count):
        item_id, quantity = items[index % len(items)]
        qty = str(quantity + index // len(items))
        gid = encode_id("InventoryItem", item_id)
        out.append(
            (
                method,
                path.replace("__UUID__", str(item_id)),
                body.replace("__ID__", gid).replace("__QTY__", qty),
            )
        )
    return out


def write_random_file(path: Path, requests: list[Request]) -> None:
    lines = ["random", *("\t".join(request) for request in requests)]
    path.write_text("\n".join(lines) + "\n")


def write_cas_file(path: Path, variant: Variant, items: list[tuple[uuid.UUID, int]]) -> None:
    lines = ["cas", "\t".join(cas_template(variant))]
    lines += [f"{encode_id('InventoryItem', item_id)}\t{item_id}\t{quantity}" for item_id, quantity in items]
    path.write_text("\n".join(lines) + "\n")


def _trio(kind: str, first: int = 0, *, json_agg: bool = False) -> tuple[list[Variant], list[Comparison]]:
    variants = [
        Variant("project", "project", kind, first=first, project=True),
        Variant("graphql-core", "graphql-core", kind, first=first),
        Variant("rest", "rest", kind, api="rest", first=first),
    ]
    comparisons = [Comparison("project", "graphql-core", "graphql-core"), Comparison("project", "rest", "rest")]
    if json_agg:
        variants.append(Variant("json_agg", "rest", kind, api="json_agg", first=first))
        comparisons.append(Comparison("project", "json_agg", "json_agg"))
    return variants, comparisons


def all_workloads(list_size: int = 1000) -> list[Workload]:
    node_v, node_c = _trio("node")
    page_v, page_c = _trio("items", 100, json_agg=True)
    list_v, list_c = _trio("items", list_size, json_agg=True)
    mut_v, mut_c = _trio("mutation")
    me_v, me_c = _trio("me")
    return [
        Workload("node", "node(id:) on a random item, 7 fields (ADMIN_GENERAL)", node_v, node_c),
        Workload(
            "page",
            "items(first: 100) { environment { name center { name } } quantityAvailable movements { totalCount } }",
            page_v,
            page_c,
            count_requests=100,
        ),
        Workload(
            "list1000",
            f"the page shape with items(first: {list_size}) in one request (ADMIN_GENERAL)",
            list_v,
            list_c,
            timeout_s=30,
            min_duration_s=12.0,
            drain_s=5.0,
            count_requests=20,
        ),
        Workload(
            "scoped",
            "the page as a STUDENT (scope filter) versus as ADMIN_GENERAL",
            [
                Variant("project·STUDENT", "project", "items", role="student", first=100, project=True),
                Variant("project·ADMIN_GENERAL", "project", "items", first=100, project=True),
                Variant("graphql-core·STUDENT", "graphql-core", "items", role="student", first=100),
            ],
            [
                Comparison("project·STUDENT", "project·ADMIN_GENERAL", "project as ADMIN_GENERAL"),
                Comparison("project·STUDENT", "graphql-core·STUDENT", "graphql-core (STUDENT)"),
            ],
            count_requests=100,
        ),
        Workload(
            "mutation",
            "adjustItemStock RESTOCK +1 with expectedQuantity, on a different item each time",
            mut_v,
            mut_c,
            count_requests=100,
        ),
        Workload("me", "me { id }: the floor of the GraphQL layer", me_v, me_c),
        Workload(
            "login",
            "node while logins run at a fixed rate in another process (hashing must stay off the loop)",
            [
                Variant("project+login", "project", "node", side_login=True, count=False, project=True),
                Variant("project", "project", "node", count=False, project=True),
            ],
            [Comparison("project+login", "project", "node without logins")],
        ),
        Workload(
            "burst",
            "/health/live and me (20/s each) while 40 clients send items(first: 100) { movements(first: 100) }",
            [],
            [],
        ),
        Workload(
            "subscriptions",
            "itemStockChanged of one room: 100 and 1 000 subscribers on one worker over WebSockets, "
            "fed by adjustItemStock, beside a plain Starlette broadcast of the same JSON",
            [],
            [],
        ),
        Workload(
            "workers",
            "the page with 2 uvicorn workers versus 1",
            [
                Variant("project·2 workers", "project-2w", "items", first=100, count=False, project=True),
                Variant("project·1 worker", "project", "items", first=100, count=False, project=True),
            ],
            [Comparison("project·2 workers", "project·1 worker", "project, 1 worker")],
        ),
    ]
