"""Shared fixtures: one embedded PostgreSQL per test run, the app in process, factories.

Each test starts from empty tables (TRUNCATE before the test). The database is built with
`alembic upgrade head`, so every run also tests the migrations.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.app import create_app
from graphql_api.auth import tokens
from graphql_api.auth.scope import Principal
from graphql_api.db import models
from graphql_api.db.engine import statement_counter
from graphql_api.db.migrate import upgrade
from graphql_api.services import items, organization, schedules, users
from graphql_api.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from graphql_api.db.embedded import EmbeddedPostgres

PASSWORD = "Correct-Horse-9"
TEST_ENV = {
    "APP_ENV": "test",
    "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
    "QR_SECRET_KEY": "test-qr-key-0123456789-abcdefghijklmnopqrst",
    "BCRYPT_ROUNDS": "4",
    "SEED_DEMO": "false",
    "DB_POOL_SIZE": "10",
    "DB_MAX_OVERFLOW": "10",
}
TABLES = [table.name for table in reversed(models.Base.metadata.sorted_tables)]


def make_settings(**overrides: str) -> Settings:
    return Settings.from_env({**TEST_ENV, **overrides})


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", fast_unsafe=True)
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def database_url(postgres: EmbeddedPostgres) -> str:
    name = f"test_{os.getpid()}"
    postgres.create_database(name)
    url = postgres.url(name)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(DATABASE_URL=database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture(scope="session")
def engine(app: Any) -> AsyncEngine:
    engine: AsyncEngine = app.state.engine
    return engine


@pytest.fixture(scope="session")
def db(app: Any) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return sessionmaker


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> None:
    if "database_url" not in request.fixturenames and "app" not in request.fixturenames:
        return
    engine = request.getfixturevalue("engine")
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL to the in-process app; `token` may be a token string or an Actor."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token is not None:
            value = token.token if isinstance(token, Actor) else token
            all_headers["authorization"] = f"Bearer {value}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post("/graphql", json=body, headers=all_headers)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no top-level errors."""
        result = await self.execute(query, variables, token=token, headers=headers)
        assert not result.get("errors"), result["errors"]
        data: dict[str, Any] = result["data"]
        return data


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@dataclass
class StatementCount:
    value: int = 0
    transactions: int = 0


@pytest.fixture
def count_statements() -> Any:
    """`with count_statements() as counted: ...; counted.value` = SQL statements sent."""

    @contextlib.contextmanager
    def counting() -> Iterator[StatementCount]:
        cell = [0, 0]
        result = StatementCount()
        reset = statement_counter.set(cell)
        try:
            yield result
        finally:
            statement_counter.reset(reset)
            result.value, result.transactions = cell

    return counting


# ---- factories -------------------------------------------------------------------------------


@dataclass
class Actor:
    user: models.User
    token: str
    principal: Principal

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def gid(self) -> str:
        return gid("User", self.user.id)


def gid(type_name: str, value: uuid.UUID) -> str:
    from graphql_api.api.core.relay import encode_id

    return str(encode_id(type_name, value))


class Factory:
    """Creates rows through the services (so ledger rows and invariants are real)."""

    def __init__(self, db: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._n = 0
        self._system: Actor | None = None

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def center(self, **values: Any) -> models.Center:
        n = self._next()
        async with self.db.begin() as session:
            return await organization.create_center(
                session,
                name=values.get("name", f"Center {n}"),
                code=values.get("code", f"C{n}"),
                location=values.get("location", "Bogotá"),
                description=None,
            )

    async def environment(self, center: models.Center, **values: Any) -> models.Environment:
        n = self._next()
        async with self.db.begin() as session:
            return await organization.create_environment(
                session,
                center_id=center.id,
                name=values.get("name", f"Room {n}"),
                code=values.get("code", f"E{n}"),
                location=values.get("location", "Block A"),
                capacity=values.get("capacity", 30),
                is_warehouse=values.get("is_warehouse", False),
                description=None,
            )

    async def user(self, role: models.Role, environment: models.Environment | None = None, **values: Any) -> Actor:
        n = self._next()
        async with self.db.begin() as session:
            user = await users.create_user(
                session,
                self.settings,
                email=values.get("email", f"user{n}@test.local"),
                password=values.get("password", PASSWORD),
                role=role,
                first_name=values.get("first_name", f"First{n}"),
                last_name=values.get("last_name", f"Last{n}"),
                environment_id=environment.id if environment else None,
            )
        return self.actor(user, environment)

    def actor(self, user: models.User, environment: models.Environment | None) -> Actor:
        token, _ = tokens.issue_access_token(
            self.settings, user_id=user.id, role=user.role, token_version=user.token_version
        )
        principal = Principal(
            user.id,
            user.role,
            user.environment_id,
            environment.center_id if environment else None,
            "es",
            user.token_version,
        )
        return Actor(user, token, principal)

    async def item(
        self,
        environment: models.Environment,
        *,
        quantity: int = 1,
        damaged: int = 0,
        missing: int = 0,
        item_type: models.ItemType | None = None,
        **values: Any,
    ) -> models.InventoryItem:
        n = self._next()
        kind = item_type or (models.ItemType.INDIVIDUAL if quantity == 1 else models.ItemType.GROUP)
        system = await self.system()
        async with self.db.begin() as session:
            return await items.create_item(
                session,
                system.principal,
                environment_id=environment.id,
                item_type=kind,
                category=values.get("category", models.ItemCategory.COMPUTER),
                quantity=quantity,
                quantity_damaged=damaged,
                quantity_missing=missing,
                name=values.get("name", f"Item {n}"),
                internal_code=values.get("internal_code", f"IC-{n:05d}"),
                serial_number=values.get("serial_number"),
            )

    async def system(self) -> Actor:
        """An ADMIN_GENERAL who makes the objects tests need."""
        if self._system is None:
            self._system = await self.user(models.Role.ADMIN_GENERAL, email="system@test.local")
        return self._system

    async def schedule(
        self, environment: models.Environment, instructor: Actor, *, weekday: int | None = None, **values: Any
    ) -> models.Schedule:
        """An active class slot, valid this year; by default today, 08:00-10:00 (local)."""
        today = datetime.now(self.settings.timezone).date()
        system = await self.system()
        async with self.db.begin() as session:
            return await schedules.create_schedule(
                session,
                system.principal,
                environment_id=environment.id,
                instructor_id=instructor.id,
                weekday=weekday or today.isoweekday(),
                start_time=values.get("start_time", time(8, 0)),
                end_time=values.get("end_time", time(10, 0)),
                valid_from=values.get("valid_from", today - timedelta(days=30)),
                valid_until=values.get("valid_until", today + timedelta(days=180)),
                program=values.get("program", "Software development"),
                group_number=values.get("group_number", "2758341"),
                topic=values.get("topic"),
                student_count=values.get("student_count", 25),
            )


@pytest.fixture
def factory(db: async_sessionmaker[AsyncSession], settings: Settings) -> Factory:
    return Factory(db, settings)


@dataclass
class World:
    """Two centers. A: rooms a1, a2 and warehouse aw; B: room b1 and warehouse bw.
    One user per role homed in A (admin in aw), plus a student and an admin in B.
    Two items in each environment."""

    center_a: models.Center
    center_b: models.Center
    a1: models.Environment
    a2: models.Environment
    aw: models.Environment
    b1: models.Environment
    bw: models.Environment
    student: Actor
    instructor: Actor
    supervisor: Actor
    admin: Actor
    admin_general: Actor
    student_b: Actor
    admin_b: Actor
    items: dict[str, list[models.InventoryItem]] = field(default_factory=dict)

    def role(self, name: str) -> Actor:
        actor: Actor = getattr(self, name)
        return actor


@pytest.fixture
async def world(factory: Factory) -> World:
    center_a, center_b = await factory.center(code="CA"), await factory.center(code="CB")
    a1 = await factory.environment(center_a, code="A1")
    a2 = await factory.environment(center_a, code="A2")
    aw = await factory.environment(center_a, code="AW", is_warehouse=True)
    b1 = await factory.environment(center_b, code="B1")
    bw = await factory.environment(center_b, code="BW", is_warehouse=True)
    w = World(
        center_a=center_a,
        center_b=center_b,
        a1=a1,
        a2=a2,
        aw=aw,
        b1=b1,
        bw=bw,
        student=await factory.user(models.Role.STUDENT, a1),
        instructor=await factory.user(models.Role.INSTRUCTOR, a1),
        supervisor=await factory.user(models.Role.SUPERVISOR, a1),
        admin=await factory.user(models.Role.ADMIN, aw),
        admin_general=await factory.user(models.Role.ADMIN_GENERAL),
        student_b=await factory.user(models.Role.STUDENT, b1),
        admin_b=await factory.user(models.Role.ADMIN, bw),
    )
    for name in ("a1", "a2", "aw", "b1", "bw"):
        env = getattr(w, name)
        w.items[name] = [await factory.item(env), await factory.item(env, quantity=10)]
    return w


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """A response body without `extensions.cost` (every operation that runs reports its estimated
    cost and the limit there), for comparing the rest of it whole."""
    extensions = {key: value for key, value in (body.get("extensions") or {}).items() if key != "cost"}
    rest = {key: value for key, value in body.items() if key != "extensions"}
    return {**rest, "extensions": extensions} if extensions else rest
