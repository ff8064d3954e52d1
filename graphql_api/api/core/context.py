"""Per-request context: the caller, the request's database handle, loaders, metadata.

Authentication is lazy: the view only decodes the bearer token (no I/O); the first field that
needs the caller (a permission check) loads the user row, once per request. Requests that
fail before execution, and public operations such as `login`, never touch the database for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from graphql_api.api.core.database import RequestDatabase
from graphql_api.api.core.pagination import BigPageSlot
from graphql_api.auth import tokens
from graphql_api.auth.scope import Principal
from graphql_api.auth.tokens import AccessClaims
from graphql_api.services.audit import RequestMeta
from graphql_api.settings import Settings

if TYPE_CHECKING:
    from graphql_api.api.core.loaders import Loaders


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    db: RequestDatabase
    language: str
    meta: RequestMeta
    loaders: Loaders
    claims: AccessClaims | None = None
    principal: Principal | None = None
    # Why authentication failed when the cause was not the token (the database was
    # unreachable): permissions report DB_UNAVAILABLE instead of UNAUTHENTICATED.
    auth_error: BaseException | None = None
    # The mutation's transaction while a mutation resolver runs.
    session: AsyncSession | None = None
    # The caller's user row (a `reads` row), loaded with the principal.
    principal_row: Any = None
    # Set by strawberry from the WebSocket `connection_init` payload.
    connection_params: object = None
    _authenticated: asyncio.Future[Principal | None] | None = None
    # The request's turn for big pages (pagination.BIG_PAGES_AT_ONCE), released when it ends.
    big_pages: BigPageSlot = field(default_factory=BigPageSlot)

    async def authenticate(self) -> Principal | None:
        """The caller, loaded at most once per request. The first caller loads it in its own
        task (a mutation does so inside its transaction, whose connection only its task may
        use); concurrent callers wait for that result."""
        if self._authenticated is not None:
            # shield: a cancelled waiter must not cancel the shared result for the others.
            return await asyncio.shield(self._authenticated)
        future = self._authenticated = asyncio.get_running_loop().create_future()
        try:
            principal = await self._load_principal()
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # retrieved here: waiters (if any) see it when they await
            raise
        future.set_result(principal)
        return principal

    async def _load_principal(self) -> Principal | None:
        from graphql_api.services import auth

        if self.claims is None:
            return None
        try:
            found = await auth.load_principal(self.db, self.claims)
        except Exception as error:
            self.auth_error = error
            return None
        if found is None:
            return None
        principal, user = found
        self.principal = principal
        self.principal_row = user
        if principal.language:
            self.language = principal.language
        return principal

    async def sign_in(self, access_token: str) -> None:
        """Go on as the user of a token this request has just issued (login, register,
        refresh): the rest of the request sees what that user may see."""
        self.claims = tokens.decode_access_token(self.settings, access_token)
        self._authenticated = None
        self.principal = None
        self.principal_row = None
        self.loaders.clear()
        await self.authenticate()

    def derive(self, request_id: str) -> Context:
        """A fresh context for the same caller (its own connection and loaders): one per
        operation on a WebSocket, and per event rendered for a subscription."""
        from graphql_api.api.core.loaders import Loaders

        db = self.db.fresh()
        context = Context(
            request=self.request,
            response=None,
            settings=self.settings,
            db=db,
            language=self.language,
            meta=dataclasses.replace(self.meta, request_id=request_id),
            loaders=None,  # type: ignore[arg-type]  # set just below; it needs the context
            claims=self.claims,
            principal=self.principal,
            principal_row=self.principal_row,
        )
        context.loaders = Loaders(db, lambda: (context.principal, context.principal_row))
        authenticated = asyncio.get_running_loop().create_future()
        authenticated.set_result(self.principal)
        context._authenticated = authenticated
        return context

    def now(self) -> datetime:
        """The time in the application's zone (APP_TIMEZONE): the local dates of checks,
        classes and loans are taken from it."""
        return datetime.now(self.settings.timezone)

    def require_principal(self) -> Principal:
        # Permissions run before resolvers, so this only fails on a missing permission.
        assert self.principal is not None, "field lacks @isAuthenticated"
        return self.principal

    def require_session(self) -> AsyncSession:
        assert self.session is not None, "mutation field lacks the transaction extension"
        return self.session


Info = strawberry.Info[Context, None]
