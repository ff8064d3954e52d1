"""Per-request context: the caller, a session *factory*, loaders, and request metadata.

Sibling fields resolve concurrently and an AsyncSession must not be shared between tasks, so
the context holds a factory: each query resolver and each loader batch opens a short session,
and each mutation runs in the one transaction `session` points to while it executes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from graphql_api.auth.scope import Principal
from graphql_api.services.audit import RequestMeta
from graphql_api.settings import Settings

if TYPE_CHECKING:
    from graphql_api.api.loaders import Loaders


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    db: async_sessionmaker[AsyncSession]
    principal: Principal | None
    language: str
    meta: RequestMeta
    loaders: Loaders
    # Why authentication failed when it failed for a reason other than a bad token
    # (the database was unreachable): permissions report it instead of UNAUTHENTICATED.
    auth_error: BaseException | None = None
    session: AsyncSession | None = None
    # Set by strawberry from the WebSocket `connection_init` payload.
    connection_params: object = None
    extras: dict[str, Any] = field(default_factory=dict)

    def require_principal(self) -> Principal:
        # Permissions run before resolvers, so this only fails on a missing permission.
        assert self.principal is not None, "field lacks @isAuthenticated"
        return self.principal

    def require_session(self) -> AsyncSession:
        assert self.session is not None, "mutation field lacks the transaction extension"
        return self.session


Info = strawberry.Info[Context, None]
