"""`node(id:)` and `nodes(ids:)`: the same scoped loaders as every other path, so an object
out of scope, of an unknown type or with a malformed ID is simply null."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from graphql_api.api.audit.types import AuditLogEntry
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.loaders import Loaders
from graphql_api.api.core.pagination import MAX_PAGE_SIZE
from graphql_api.api.core.relay import Node, parse_id
from graphql_api.api.items.types import InventoryItem, InventoryMovement
from graphql_api.api.organization.types import Center, Environment
from graphql_api.api.users.types import User

# type name -> (loader of that type, GraphQL type)
NODE_TYPES: dict[str, tuple[Callable[[Loaders], Any], Any]] = {
    "Center": (lambda loaders: loaders.center_by_id, Center),
    "Environment": (lambda loaders: loaders.environment_by_id, Environment),
    "User": (lambda loaders: loaders.user_by_id, User),
    "InventoryItem": (lambda loaders: loaders.item_by_id, InventoryItem),
    "InventoryMovement": (lambda loaders: loaders.movement_by_id, InventoryMovement),
    "AuditLogEntry": (lambda loaders: loaders.audit_log_by_id, AuditLogEntry),
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    parsed = parse_id(global_id)
    if parsed is None or parsed[0] not in NODE_TYPES:
        return None
    loader, node_type = NODE_TYPES[parsed[0]]
    row = await loader(info.context.loaders).load(parsed[1])
    return node_type.from_model(row) if row is not None else None


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
        import asyncio

        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))
