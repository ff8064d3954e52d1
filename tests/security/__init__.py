"""Security catalogue tests (shared/reference/security-and-faults.md S01-S20, S35-S37, §1.2).

Helpers shared by the modules of this package: extra in-process apps built with other settings
(production mode, CORS, trusted proxies) and direct reads of the tables a request may write.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.app import create_app
from graphql_api.db import models
from tests.conftest import make_settings

PROD_SECRETS = {
    "SECRET_KEY": "prod-test-secret-key-0123456789-abcdefghijklmnop",
    "QR_SECRET_KEY": "prod-test-qr-key-0123456789-abcdefghijklmnopqrstu",
}
PEER = ("10.1.2.3", 4321)


@contextlib.asynccontextmanager
async def app_client(
    database_url: str, *, peer: tuple[str, int] = PEER, **env: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A second app on the test database with `env` over the test settings, and a client for it."""
    app = create_app(make_settings(DATABASE_URL=database_url, **env))
    transport = httpx.ASGITransport(app=app, client=peer)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app
    finally:
        await app.state.engine.dispose()


@contextlib.asynccontextmanager
async def production_client(database_url: str, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(database_url, APP_ENV="production", **PROD_SECRETS, **env) as (http, app):
        settings = app.state.settings
        assert settings.is_production
        assert not settings.graphql_ide
        assert not settings.graphql_introspection
        yield http


async def audit_rows(db: async_sessionmaker[AsyncSession]) -> list[models.AuditLog]:
    async with db() as session:
        rows = (await session.scalars(select(models.AuditLog).order_by(models.AuditLog.created_at))).all()
    return list(rows)


async def count_rows(db: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with db() as session:
        value = await session.scalar(select(func.count()).select_from(model))
    return int(value or 0)


def failing_login(email: str = "nobody@test.local") -> str:
    return 'mutation { login(input: {email: "%s", password: "Wrong-Password-1"}) { __typename } }' % email  # noqa: UP031


def transport_error(response: httpx.Response) -> tuple[int, str]:
    """(status, message) of a transport-level refusal: a GraphQL JSON body without `data`
    whose only error has the code BAD_REQUEST, never text/plain."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert list(body) == ["errors"], body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}, body
    return response.status_code, error["message"]
