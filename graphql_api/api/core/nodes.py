"""`node(id:)` and `nodes(ids:)`: every node type's own by-id loader, so an object out of
scope, of an unknown type or with a malformed ID is simply null."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.pagination import MAX_PAGE_SIZE
from graphql_api.api.core.relay import Node, parse_id
from graphql_api.api.core.types import TYPES


async def resolve_node(info: Info, global_id: str) -> Node | None:
    parsed = parse_id(global_id)
    if parsed is None:
        return None
    spec = TYPES.get(parsed[0])
    node_types: Any = getattr(info.schema, "node_types", ())
    if spec is None or spec.loader is None or spec.cls not in node_types:
        return None
    row = await info.context.loaders[spec.loader].load(parsed[1])
    found: Node | None = spec.cls.from_model(row) if row is not None else None  # type: ignore[assignment]
    return found


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global ID; null if it does not exist or is out of scope.",
        extensions=permissions.authenticated(),
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")]
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="Several objects by global ID, in order; null for each one not visible (max 100).",
        extensions=permissions.authenticated(),
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs (max 100).")],
    ) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise GraphQLError(f"At most {MAX_PAGE_SIZE} ids.", extensions={"code": "BAD_REQUEST"})
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))
