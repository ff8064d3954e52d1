"""Sign-up, sign-in, throttling, refresh-token rotation, logout, JWT forgery (S21), token
revocation on password change (S22), refresh reuse (S23), long passwords (S24/S25),
enumeration (S26) and credential batching (S27), all through the GraphQL endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.app import create_app
from graphql_api.auth import passwords, tokens
from graphql_api.db import models
from graphql_api.settings import Settings
from tests.conftest import (
    PASSWORD,
    TEST_ENV,
    Factory,
    GraphQLClient,
    World,
    error_codes,
    gid,
    make_settings,
    without_cost,
)
from tests.test_tokens_and_passwords import FORGED_TOKENS, CountingBcrypt, claims, sign

Sessions = async_sessionmaker[AsyncSession]

AUTH_RESULT = """
    __typename
    ... on AuthPayload {
      accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
      user { id email role firstName lastName phone program ficha isActive lastLoginAt environment { id } }
    }
    ... on Error { code message }
"""
WITH_FIELD_ERRORS = AUTH_RESULT + "... on ValidationError { fieldErrors { field message code } }"
REGISTER = f"mutation ($input: RegisterInput!) {{ register(input: $input) {{ {WITH_FIELD_ERRORS} }} }}"
LOGIN = f"mutation ($input: LoginInput!) {{ login(input: $input) {{ {AUTH_RESULT} }} }}"
REFRESH = f"mutation ($input: RefreshTokenInput!) {{ refreshToken(input: $input) {{ {AUTH_RESULT} }} }}"
CHANGE_PASSWORD = (
    f"mutation ($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {WITH_FIELD_ERRORS} }} }}"
)
LOGOUT = "mutation ($input: LogoutInput!) { logout(input: $input) { ok } }"
ME = "{ me { id email role } }"

INVALID_CREDENTIALS = {
    "__typename": "InvalidCredentialsError",
    "code": "INVALID_CREDENTIALS",
    "message": "Correo o contraseña incorrectos.",
}
INVALID_REFRESH = {
    "__typename": "InvalidCredentialsError",
    "code": "INVALID_CREDENTIALS",
    "message": "La sesión expiró o no es válida; inicia sesión de nuevo.",
}
CREDENTIAL_FIELD_MESSAGE = (
    "At most one credential-checking field (login, refreshToken, changePassword, register) per request."
)


# ---- helpers ---------------------------------------------------------------------------------


def registration(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "new.student@test.local",
        "password": PASSWORD,
        "firstName": "Ana",
        "lastName": "Pérez",
    }
    values.update(overrides)
    return {"input": values}


async def register(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(REGISTER, registration(**overrides)))["register"]
    return result


async def login(gql: GraphQLClient, email: str, password: str = PASSWORD, **kwargs: Any) -> dict[str, Any]:
    data = await gql.data(LOGIN, {"input": {"email": email, "password": password}}, **kwargs)
    result: dict[str, Any] = data["login"]
    return result


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(REFRESH, {"input": {"refreshToken": token}}))["refreshToken"]
    return result


async def me_codes(gql: GraphQLClient, token: str) -> list[str]:
    """[] when `token` is accepted for `me`, else the top-level error codes."""
    result = await gql.execute(ME, token=token)
    if result.get("errors"):
        assert result["data"] is None
        return error_codes(result)
    return []


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    assert result["code"] == "VALIDATION_FAILED"
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


async def user_by_email(db: Sessions, email: str) -> models.User:
    async with db() as session:
        user = await session.scalar(select(models.User).where(models.User.email == email))
    assert user is not None
    return user


async def count(db: Sessions, model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def audit_rows(db: Sessions, operation: str | None = None) -> list[models.AuditLog]:
    async with db() as session:
        stmt = select(models.AuditLog).order_by(models.AuditLog.created_at, models.AuditLog.id)
        if operation is not None:
            stmt = stmt.where(models.AuditLog.operation == operation)
        return list((await session.scalars(stmt)).all())


async def throttle_rows(db: Sessions) -> dict[str, models.LoginThrottle]:
    async with db() as session:
        rows = (await session.scalars(select(models.LoginThrottle))).all()
    return {row.key: row for row in rows}


async def refresh_rows(db: Sessions, user_id: uuid.UUID) -> list[models.RefreshToken]:
    async with db() as session:
        stmt = select(models.RefreshToken).where(models.RefreshToken.user_id == user_id)
        return list((await session.scalars(stmt.order_by(models.RefreshToken.created_at))).all())


async def set_active_in_db(db: Sessions, user_id: uuid.UUID, active: bool) -> None:
    """Flip is_active without touching tokens, so the login/refresh checks are tested alone."""
    async with db.begin() as session:
        await session.execute(update(models.User).where(models.User.id == user_id).values(is_active=active))


@contextlib.asynccontextmanager
async def other_app(settings: Settings, ip: str = "1.2.3.4", **env: str) -> AsyncIterator[GraphQLClient]:
    """The app built with different settings, on the test database, seen from client `ip`."""
    app = create_app(make_settings(DATABASE_URL=str(settings.database_url), **env))
    try:
        transport = httpx.ASGITransport(app=app, client=(ip, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http)
    finally:
        await app.state.engine.dispose()


@contextlib.asynccontextmanager
async def client_from(app: Any, ip: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


@pytest.fixture
def bcrypt_calls(monkeypatch: pytest.MonkeyPatch) -> CountingBcrypt:
    counting = CountingBcrypt()
    monkeypatch.setattr(passwords, "bcrypt", counting)
    return counting


def rate_limited(result: dict[str, Any]) -> int:
    """Assert a top-level RATE_LIMITED error and return its retryAfterSeconds."""
    assert result["data"] is None, result
    assert len(result["errors"]) == 1, result
    error = result["errors"][0]
    seconds = error["extensions"]["retryAfterSeconds"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": seconds}
    assert isinstance(seconds, int)
    assert error["message"] == f"Demasiados intentos. Inténtalo de nuevo en {seconds} segundos."
    return seconds


# ---- register --------------------------------------------------------------------------------


async def test_register_creates_a_student_without_environment_and_signs_in(gql: GraphQLClient, db: Sessions) -> None:
    result = await register(gql, email="  Ana.Perez@Test.LOCAL ", firstName=" Ana ", phone="300 123")
    assert result["__typename"] == "AuthPayload"
    user = result["user"]
    assert user["email"] == "ana.perez@test.local"
    assert (user["role"], user["environment"], user["isActive"]) == ("STUDENT", None, True)
    assert (user["firstName"], user["lastName"], user["phone"]) == ("Ana", "Pérez", "300 123")

    # The access token works, and so does the refresh token.
    assert (await gql.data(ME, token=result["accessToken"]))["me"] == {
        "id": user["id"],
        "email": "ana.perez@test.local",
        "role": "STUDENT",
    }
    assert (await refresh(gql, result["refreshToken"]))["__typename"] == "AuthPayload"

    row = await user_by_email(db, "ana.perez@test.local")
    assert gid("User", row.id) == user["id"]
    assert (row.role, row.environment_id, row.token_version) == (models.Role.STUDENT, None, 1)
    assert row.password_hash.startswith("$2b$04$")
    assert await passwords.verify_password(PASSWORD, row.password_hash, 4)
    async with db() as session:
        user_settings = await session.get(models.UserSettings, row.id)
    assert user_settings is not None
    assert user_settings.language is models.Language.ES


async def test_register_token_lifetimes(gql: GraphQLClient) -> None:
    result = await register(gql)
    raw = jwt.decode(result["accessToken"], TEST_ENV["SECRET_KEY"], algorithms=["HS256"], audience="inventory-api")
    assert raw["exp"] - raw["iat"] == 15 * 60
    assert raw["role"] == "STUDENT"
    access = datetime.fromisoformat(result["accessTokenExpiresAt"])
    refresh_at = datetime.fromisoformat(result["refreshTokenExpiresAt"])
    assert refresh_at - access == timedelta(days=14) - timedelta(minutes=15)
    assert int(access.timestamp()) == raw["exp"]


async def test_register_with_language_stores_it(gql: GraphQLClient, db: Sessions) -> None:
    result = await register(gql, language="EN")
    data = await gql.data("{ mySettings { language } }", token=result["accessToken"])
    assert data["mySettings"] == {"language": "EN"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"email": "not-an-email"}, [("email", "INVALID_EMAIL")]),
        ({"email": "a@b"}, [("email", "INVALID_EMAIL")]),
        ({"email": ""}, [("email", "INVALID_EMAIL")]),
        ({"email": "two@@test.local"}, [("email", "INVALID_EMAIL")]),
        ({"email": "x" * 250 + "@test.local"}, [("email", "INVALID_EMAIL")]),
        ({"firstName": "   "}, [("firstName", "BLANK")]),
        ({"lastName": ""}, [("lastName", "BLANK")]),
        ({"firstName": "x" * 101}, [("firstName", "TOO_LONG")]),
        ({"password": "Abc-123"}, [("password", "PASSWORD_TOO_SHORT")]),
        ({"password": ""}, [("password", "PASSWORD_TOO_SHORT")]),
        ({"password": "a" * 73}, [("password", "PASSWORD_TOO_LONG")]),
        ({"password": "é" * 37}, [("password", "PASSWORD_TOO_LONG")]),
        (
            {"email": "bad", "password": "short", "firstName": " ", "lastName": " "},
            [
                ("email", "INVALID_EMAIL"),
                ("password", "PASSWORD_TOO_SHORT"),
                ("firstName", "BLANK"),
                ("lastName", "BLANK"),
            ],
        ),
    ],
)
async def test_register_validation(
    gql: GraphQLClient, db: Sessions, overrides: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    result = await register(gql, **overrides)
    assert field_errors(result) == expected
    assert result["message"] == "Los datos enviados no son válidos."
    assert await count(db, models.User) == 0
    assert await count(db, models.RefreshToken) == 0
    [row] = await audit_rows(db)
    assert (row.operation, row.outcome, row.error_code, row.actor_id) == (
        "register",
        models.AuditOutcome.FAILURE,
        "VALIDATION_FAILED",
        None,
    )


async def test_register_password_length_messages(gql: GraphQLClient) -> None:
    too_long = await register(gql, password="é" * 37)
    assert too_long["fieldErrors"] == [
        {
            "field": "password",
            "code": "PASSWORD_TOO_LONG",
            "message": "La contraseña admite como máximo 72 bytes (UTF-8).",
        }
    ]
    too_short = await register(gql, password="1234567")
    assert too_short["fieldErrors"][0]["message"] == "La contraseña debe tener al menos 8 bytes."


@pytest.mark.parametrize("password", ["a" * 72, "é" * 36, "12345678", "Ñandú 72 bytes? " * 3 + "abcdefghijklmnopqr"])
async def test_register_accepts_passwords_of_8_to_72_bytes(gql: GraphQLClient, password: str) -> None:
    assert 8 <= len(password.encode()) <= 72
    result = await register(gql, password=password)
    assert result["__typename"] == "AuthPayload", result
    assert (await login(gql, "new.student@test.local", password))["__typename"] == "AuthPayload"


async def test_register_duplicate_email_is_case_insensitive(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    await factory.user(models.Role.INSTRUCTOR, email="taken@test.local")
    result = await register(gql, email="  TAKEN@Test.Local")
    assert result["fieldErrors"] == [
        {"field": "email", "code": "EMAIL_TAKEN", "message": "Ya existe una cuenta con este correo."}
    ]
    assert await count(db, models.User) == 1


async def test_concurrent_registrations_of_one_email_create_one_account(gql: GraphQLClient, db: Sessions) -> None:
    results = await asyncio.gather(*(gql.data(REGISTER, registration(email="race@test.local")) for _ in range(4)))
    kinds = sorted(r["register"]["__typename"] for r in results)
    assert kinds == ["AuthPayload", "ValidationError", "ValidationError", "ValidationError"]
    for result in results:
        if result["register"]["__typename"] == "ValidationError":
            assert field_errors(result["register"]) == [("email", "EMAIL_TAKEN")]
    assert await count(db, models.User) == 1


async def test_register_cannot_choose_a_role(gql: GraphQLClient, db: Sessions) -> None:
    variables = registration(role="ADMIN_GENERAL")
    result = await gql.execute(REGISTER, variables)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    assert "role" in result["errors"][0]["message"]
    inline = await gql.execute(
        f'mutation {{ register(input: {{email: "x@test.local", password: "{PASSWORD}", firstName: "a",'
        ' lastName: "b", role: ADMIN_GENERAL}) { __typename } }'
    )
    assert inline["data"] is None
    assert error_codes(inline) == ["BAD_REQUEST"]
    assert await count(db, models.User) == 0
    assert await audit_rows(db) == []


async def test_register_disabled(settings: Settings, db: Sessions) -> None:
    async with other_app(settings, ALLOW_SELF_REGISTRATION="false") as gql:
        result = (await gql.data(REGISTER, registration()))["register"]
        english = (await gql.data(REGISTER, registration(), headers={"accept-language": "en"}))["register"]
    assert result == {
        "__typename": "PermissionDeniedError",
        "code": "PERMISSION_DENIED",
        "message": "El registro de nuevas cuentas está deshabilitado.",
    }
    assert english["message"] == "Registration of new accounts is disabled."
    assert english["code"] == "PERMISSION_DENIED"
    assert await count(db, models.User) == 0
    rows = await audit_rows(db, "register")
    assert [(r.outcome, r.error_code) for r in rows] == [(models.AuditOutcome.FAILURE, "PERMISSION_DENIED")] * 2


async def test_register_audit_row_holds_no_secret(gql: GraphQLClient, db: Sessions) -> None:
    result = await register(gql)
    [row] = await audit_rows(db)
    user = await user_by_email(db, "new.student@test.local")
    assert (row.operation, row.outcome, row.actor_id, row.actor_role) == (
        "register",
        models.AuditOutcome.SUCCESS,
        user.id,
        models.Role.STUDENT,
    )
    assert (row.entity_type, row.entity_id) == ("users", user.id)
    text = json.dumps(row.changes)
    for secret in ("password", "$2b$", PASSWORD, result["refreshToken"], result["accessToken"], user.password_hash):
        assert secret not in text
    created = row.changes[0]
    assert created["action"] == "create"
    assert created["new"]["email"] == "new.student@test.local"
    assert created["new"]["role"] == "STUDENT"


# ---- registration abuse: enumeration through EMAIL_TAKEN ------------------------------------


async def test_a_taken_email_costs_the_same_hash_as_a_new_one(
    gql: GraphQLClient, factory: Factory, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.INSTRUCTOR, email="taken@test.local")
    hashes = len(bcrypt_calls.hashes)
    assert (await register(gql, email="fresh@test.local"))["__typename"] == "AuthPayload"
    new_cost = bcrypt_calls.hashes[hashes:]
    assert field_errors(await register(gql, email="taken@test.local")) == [("email", "EMAIL_TAKEN")]
    taken_cost = bcrypt_calls.hashes[hashes + len(new_cost) :]
    # One hash at the configured cost on each path, so the answer takes as long either way.
    assert [salt[:7] for salt in new_cost] == [salt[:7] for salt in taken_cost] == [b"$2b$04$"]
    # Invalid input is refused before the hash: it reveals nothing about accounts.
    assert field_errors(await register(gql, email="taken@test.local", password="short")) == [
        ("password", "PASSWORD_TOO_SHORT")
    ]
    assert len(bcrypt_calls.hashes) == hashes + 2


async def register_from(client: GraphQLClient, **overrides: Any) -> str:
    """What a registration got: AuthPayload, a field error code, or RATE_LIMITED."""
    result = await client.execute(REGISTER, registration(**overrides))
    if result.get("errors"):
        rate_limited(result)
        return "RATE_LIMITED"
    payload = result["data"]["register"]
    if payload["__typename"] == "ValidationError":
        return str(payload["fieldErrors"][0]["code"])
    return str(payload["__typename"])


@contextlib.asynccontextmanager
async def register_limited_app(settings: Settings, limit: int = 3, **env: str) -> AsyncIterator[Any]:
    app = create_app(make_settings(DATABASE_URL=str(settings.database_url), REGISTER_MAX_PER_IP=str(limit), **env))
    try:
        yield app
    finally:
        await app.state.engine.dispose()


async def test_registrations_are_limited_per_client_address(
    settings: Settings, db: Sessions, factory: Factory, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.INSTRUCTOR, email="taken@test.local")
    async with (
        register_limited_app(settings) as app,
        client_from(app, "198.51.100.7") as prober,
        client_from(app, "203.0.113.10") as student,
    ):
        answers = [
            await register_from(prober, email="taken@test.local"),
            await register_from(prober, email="new1@test.local"),
            await register_from(prober, email="bad"),  # input errors are not counted
            await register_from(prober, email="taken@test.local", password="short"),
            await register_from(prober, email="new2@test.local"),
        ]
        assert answers == ["EMAIL_TAKEN", "AuthPayload", "INVALID_EMAIL", "PASSWORD_TOO_SHORT", "AuthPayload"]
        hashes = len(bcrypt_calls.hashes)
        # The limit is reached: refused before any hash, taken or new alike.
        seconds = rate_limited(await prober.execute(REGISTER, registration(email="taken@test.local")))
        assert settings.register_window_seconds - 60 < seconds <= settings.register_window_seconds + 1
        assert await register_from(prober, email="new3@test.local") == "RATE_LIMITED"
        assert len(bcrypt_calls.hashes) == hashes
        # Another address is not affected.
        assert await register_from(student, email="new4@test.local") == "AuthPayload"
    row = (await throttle_rows(db))["register:198.51.100.7"]
    window = timedelta(seconds=settings.register_window_seconds)
    assert (row.failures, row.locked_until) == (3, row.window_started_at + window)
    async with db() as session:
        emails = set((await session.scalars(select(models.User.email))).all())
    assert emails == {"taken@test.local", "new1@test.local", "new2@test.local", "new4@test.local"}
    outcomes = [(r.outcome, r.error_code) for r in await audit_rows(db, "register")]
    assert outcomes[-3:] == [(models.AuditOutcome.FAILURE, "RATE_LIMITED")] * 2 + [(models.AuditOutcome.SUCCESS, None)]


async def test_probing_taken_emails_is_limited(settings: Settings, factory: Factory) -> None:
    for n in range(4):
        await factory.user(models.Role.STUDENT, email=f"member{n}@test.local")
    async with register_limited_app(settings) as app, client_from(app, "198.51.100.7") as prober:
        answers = [await register_from(prober, email=f"member{n}@test.local") for n in range(4)]
    # The failed (rolled back) registrations were counted all the same.
    assert answers == ["EMAIL_TAKEN"] * 3 + ["RATE_LIMITED"]


async def test_concurrent_registrations_from_one_address_are_all_counted(settings: Settings, db: Sessions) -> None:
    async with register_limited_app(settings) as app, client_from(app, "198.51.100.7") as prober:
        answers = await asyncio.gather(*(register_from(prober, email=f"burst{n}@test.local") for n in range(6)))
        # Those already past the check when the limit was reached still finish (at most one
        # hashing queue's worth per worker); every one of them is counted, and the next waits.
        served = [a for a in answers if a != "RATE_LIMITED"]
        assert set(served) == {"AuthPayload"}
        assert len(served) >= 3
        assert await register_from(prober, email="after@test.local") == "RATE_LIMITED"
    assert (await throttle_rows(db))["register:198.51.100.7"].failures == len(served)


async def test_registration_limit_is_shared_by_workers_and_ends_with_its_window(
    settings: Settings, db: Sessions
) -> None:
    async with (
        register_limited_app(settings) as one,
        register_limited_app(settings) as two,
        client_from(one, "198.51.100.7") as first,
        client_from(two, "198.51.100.7") as second,
    ):
        assert [await register_from(first, email=f"a{n}@test.local") for n in range(2)] == ["AuthPayload"] * 2
        assert await register_from(second, email="b0@test.local") == "AuthPayload"
        assert await register_from(first, email="a2@test.local") == "RATE_LIMITED"
        assert await register_from(second, email="b1@test.local") == "RATE_LIMITED"
        past = datetime.now(UTC) - timedelta(seconds=settings.register_window_seconds + 1)
        async with db.begin() as session:
            await session.execute(
                update(models.LoginThrottle).values(window_started_at=past, locked_until=past + timedelta(hours=1))
            )
        assert await register_from(second, email="b1@test.local") == "AuthPayload"
    assert (await throttle_rows(db))["register:198.51.100.7"].failures == 1


async def test_registration_limit_uses_the_client_address_from_trusted_proxies_only(
    settings: Settings, db: Sessions
) -> None:
    async with (
        register_limited_app(settings, limit=1, TRUSTED_PROXIES="10.0.0.1") as app,
        client_from(app, "10.0.0.1") as proxy,
        client_from(app, "198.51.100.9") as direct,
    ):
        forwarded = {"x-forwarded-for": "198.51.100.7"}
        ok = await proxy.execute(REGISTER, registration(email="p1@test.local"), headers=forwarded)
        assert ok["data"]["register"]["__typename"] == "AuthPayload"
        rate_limited(await proxy.execute(REGISTER, registration(email="p2@test.local"), headers=forwarded))
        # A client that is not a trusted proxy cannot pick another address to count against.
        spoofed = {"x-forwarded-for": "192.0.2.1"}
        ok = await direct.execute(REGISTER, registration(email="d1@test.local"), headers=spoofed)
        assert ok["data"]["register"]["__typename"] == "AuthPayload"
        rate_limited(await direct.execute(REGISTER, registration(email="d2@test.local"), headers=spoofed))
    assert set(await throttle_rows(db)) == {"register:198.51.100.7", "register:198.51.100.9"}


# ---- login -----------------------------------------------------------------------------------


async def test_login_returns_tokens_and_sets_last_login(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.SUPERVISOR, email="sup@test.local")
    assert actor.user.last_login_at is None
    before = datetime.now(UTC)
    result = await login(gql, "  SUP@test.LOCAL ")
    assert result["__typename"] == "AuthPayload"
    assert result["user"]["id"] == actor.gid
    assert result["user"]["role"] == "SUPERVISOR"
    assert result["user"]["lastLoginAt"] is not None
    row = await user_by_email(db, "sup@test.local")
    assert row.last_login_at is not None
    assert row.last_login_at >= before - timedelta(seconds=1)
    assert datetime.fromisoformat(result["user"]["lastLoginAt"]) == row.last_login_at
    assert (await gql.data(ME, token=result["accessToken"]))["me"]["id"] == actor.gid
    assert (await refresh(gql, result["refreshToken"]))["__typename"] == "AuthPayload"


async def test_each_login_starts_a_new_refresh_family(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="two@test.local")
    first = await login(gql, "two@test.local")
    second = await login(gql, "two@test.local")
    assert first["refreshToken"] != second["refreshToken"]
    assert first["accessToken"] != second["accessToken"]
    rows = await refresh_rows(db, actor.id)
    assert len({row.family_id for row in rows}) == 2
    # Only hashes are stored.
    stored = {row.token_hash for row in rows}
    assert first["refreshToken"] not in stored
    assert second["refreshToken"] not in stored


async def test_login_failures_are_indistinguishable(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="known@test.local")
    inactive = await factory.user(models.Role.STUDENT, email="inactive@test.local")
    await set_active_in_db(db, inactive.id, False)
    attempts = {
        "unknown user": ("nobody@test.local", PASSWORD),
        "wrong password": ("known@test.local", "Wrong-Horse-9"),
        "deactivated": ("inactive@test.local", PASSWORD),
        "73 bytes": ("known@test.local", "a" * 73),
        "74 bytes of é": ("known@test.local", "é" * 37),
        "empty": ("known@test.local", ""),
        "unknown and too long": ("nobody@test.local", "é" * 37),
    }
    for name, (email, password) in attempts.items():
        response = await gql.post(LOGIN, {"input": {"email": email, "password": password}})
        assert response.status_code == 200, name
        body = response.json()
        assert without_cost(body) == {"data": {"login": INVALID_CREDENTIALS}}, name
        assert "bcrypt" not in response.text.lower()
        assert "72 bytes" not in response.text


async def test_login_does_bcrypt_work_on_every_path(
    gql: GraphQLClient, db: Sessions, factory: Factory, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.STUDENT, email="known@test.local")
    inactive = await factory.user(models.Role.STUDENT, email="inactive@test.local")
    await set_active_in_db(db, inactive.id, False)
    attempts = [
        ("nobody@test.local", PASSWORD),
        ("known@test.local", "Wrong-Horse-9"),
        ("inactive@test.local", PASSWORD),
        ("known@test.local", "é" * 37),
        ("known@test.local", PASSWORD),
    ]
    for email, password in attempts:
        before = len(bcrypt_calls.checks)
        await login(gql, email, password)
        assert len(bcrypt_calls.checks) == before + 1, email
    # The dummy hash used for unknown users costs the same as a real one.
    assert {check.split(b"$")[2] for check in bcrypt_calls.checks} == {b"04"}


async def test_login_with_long_password_for_72_byte_account(gql: GraphQLClient, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="long@test.local", password="é" * 36)
    assert (await login(gql, "long@test.local", "é" * 36))["__typename"] == "AuthPayload"
    # Same first 72 bytes plus more: no truncation to a match.
    assert await login(gql, "long@test.local", "é" * 36 + "x") == INVALID_CREDENTIALS


async def test_failed_login_changes_nothing_on_the_user(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="known@test.local")
    await login(gql, "known@test.local", "Wrong-Horse-9")
    row = await user_by_email(db, "known@test.local")
    assert row.last_login_at is None
    assert row.password_hash == actor.user.password_hash
    assert await refresh_rows(db, actor.id) == []


async def test_login_audit_rows(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.INSTRUCTOR, email="known@test.local")
    ok = await login(gql, "known@test.local", headers={"x-request-id": "req-ok", "user-agent": "pytest-agent"})
    await login(gql, "known@test.local", "Wrong-Horse-9", headers={"x-request-id": "req-bad"})
    await login(gql, "nobody@test.local", headers={"x-request-id": "req-unknown"})
    success, failure, unknown = await audit_rows(db, "login")
    assert (success.outcome, success.error_code, success.actor_id, success.actor_role) == (
        models.AuditOutcome.SUCCESS,
        None,
        actor.id,
        models.Role.INSTRUCTOR,
    )
    assert (success.entity_type, success.entity_id) == ("users", actor.id)
    assert (success.client_ip, success.user_agent, success.request_id) == ("10.1.2.3", "pytest-agent", "req-ok")
    text = json.dumps(success.changes)
    assert "last_login_at" in text
    for secret in (ok["refreshToken"], ok["accessToken"], "password", "$2b$", PASSWORD):
        assert secret not in text
    for row, request_id in ((failure, "req-bad"), (unknown, "req-unknown")):
        assert (row.outcome, row.error_code, row.actor_id, row.actor_role) == (
            models.AuditOutcome.FAILURE,
            "INVALID_CREDENTIALS",
            None,
            None,
        )
        assert (row.client_ip, row.request_id) == ("10.1.2.3", request_id)
        for secret in ("Wrong-Horse-9", PASSWORD, "$2b$"):
            assert secret not in json.dumps(row.changes)
    # A failed sign-in names the account that was tried, so that a brute force against one
    # account can be traced: the account itself when it exists, else the e-mail given.
    assert (failure.entity_type, failure.entity_id) == ("users", actor.id)
    assert failure.changes == [
        {"entity": "users", "id": str(actor.id), "action": "attempt", "old": {}, "new": {"email": "known@test.local"}}
    ]
    assert (unknown.entity_type, unknown.entity_id) == (None, None)
    assert unknown.changes == [
        {"entity": "users", "id": "", "action": "attempt", "old": {}, "new": {"email": "nobody@test.local"}}
    ]


async def test_login_upgrades_a_weaker_hash(settings: Settings, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="old@test.local")
    assert actor.user.password_hash.startswith("$2b$04$")
    async with other_app(settings, BCRYPT_ROUNDS="5") as gql:
        assert (await login(gql, "old@test.local"))["__typename"] == "AuthPayload"
    row = await user_by_email(db, "old@test.local")
    assert row.password_hash.startswith("$2b$05$")
    assert await passwords.verify_password(PASSWORD, row.password_hash, 5)
    [audit] = await audit_rows(db, "login")
    assert "$2b$" not in json.dumps(audit.changes)


# ---- throttling ------------------------------------------------------------------------------


async def test_address_is_locked_out_of_the_account_after_max_failures(
    gql: GraphQLClient, db: Sessions, factory: Factory, settings: Settings, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    limit = settings.login_max_failures_per_account_and_ip
    assert limit == 5
    for _ in range(limit):
        assert await login(gql, "victim@test.local", "Wrong-Horse-9") == INVALID_CREDENTIALS
    checks = len(bcrypt_calls.checks)
    # Even the right password is refused from this address for this account.
    result = await gql.execute(LOGIN, {"input": {"email": "victim@test.local", "password": PASSWORD}})
    seconds = rate_limited(result)
    assert settings.login_lockout_seconds - 60 < seconds <= settings.login_lockout_seconds + 1
    # A locked key is refused before any password work.
    assert len(bcrypt_calls.checks) == checks
    # Case and spaces do not make a new key.
    rate_limited(await gql.execute(LOGIN, {"input": {"email": " VICTIM@Test.local", "password": PASSWORD}}))
    rows = await throttle_rows(db)
    pair = rows["pair:10.1.2.3|victim@test.local"]
    assert (pair.failures, pair.last_success_at) == (limit, None)
    assert pair.locked_until is not None
    # The account and the address as a whole are counted but not locked.
    assert (rows["account:victim@test.local"].failures, rows["account:victim@test.local"].locked_until) == (limit, None)
    assert rows["ip:10.1.2.3"].locked_until is None
    outcomes = [(r.outcome, r.error_code) for r in await audit_rows(db, "login")]
    assert (
        outcomes
        == [(models.AuditOutcome.FAILURE, "INVALID_CREDENTIALS")] * limit
        + [(models.AuditOutcome.FAILURE, "RATE_LIMITED")] * 2
    )
    assert await refresh_rows(db, (await user_by_email(db, "victim@test.local")).id) == []


async def test_concurrent_failures_are_all_counted(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    variables = {"input": {"email": "victim@test.local", "password": "Wrong-Horse-9"}}
    results = await asyncio.gather(*(gql.execute(LOGIN, variables) for _ in range(8)))
    invalid = [r for r in results if r.get("data") and r["data"]["login"] == INVALID_CREDENTIALS]
    limited = [r for r in results if error_codes(r) == ["RATE_LIMITED"]]
    assert len(invalid) + len(limited) == 8
    assert len(invalid) >= 5
    rows = await throttle_rows(db)
    assert rows["pair:10.1.2.3|victim@test.local"].failures == len(invalid)
    assert rows["account:victim@test.local"].failures == len(invalid)
    rate_limited(await gql.execute(LOGIN, {"input": {"email": "victim@test.local", "password": PASSWORD}}))


async def test_lock_of_one_account_does_not_block_others(gql: GraphQLClient, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    await factory.user(models.Role.STUDENT, email="bystander@test.local")
    for _ in range(5):
        await login(gql, "victim@test.local", "Wrong-Horse-9")
    rate_limited(await gql.execute(LOGIN, {"input": {"email": "victim@test.local", "password": PASSWORD}}))
    assert (await login(gql, "bystander@test.local"))["__typename"] == "AuthPayload"


async def test_lock_expires(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    for _ in range(5):
        await login(gql, "victim@test.local", "Wrong-Horse-9")
    rate_limited(await gql.execute(LOGIN, {"input": {"email": "victim@test.local", "password": PASSWORD}}))
    async with db.begin() as session:
        await session.execute(
            update(models.LoginThrottle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await login(gql, "victim@test.local"))["__typename"] == "AuthPayload"


async def test_success_resets_the_address_counter_not_the_account_counter(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    await factory.user(models.Role.STUDENT, email="forgetful@test.local")
    for _ in range(4):
        assert await login(gql, "forgetful@test.local", "Wrong-Horse-9") == INVALID_CREDENTIALS
    assert (await throttle_rows(db))["pair:10.1.2.3|forgetful@test.local"].failures == 4
    assert (await login(gql, "forgetful@test.local"))["__typename"] == "AuthPayload"
    rows = await throttle_rows(db)
    pair = rows["pair:10.1.2.3|forgetful@test.local"]
    assert (pair.failures, pair.locked_until) == (0, None)
    assert pair.last_success_at is not None
    # The owner signing in must not give an attack spread over other addresses a fresh allowance.
    assert rows["account:forgetful@test.local"].failures == 4
    # Four more failures: had the address counter not been reset, the fifth would have locked it.
    for _ in range(4):
        assert await login(gql, "forgetful@test.local", "Wrong-Horse-9") == INVALID_CREDENTIALS
    assert (await login(gql, "forgetful@test.local"))["__typename"] == "AuthPayload"


async def test_unknown_emails_are_throttled_like_real_accounts(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    await factory.user(models.Role.STUDENT, email="real@test.local")
    for email in ("real@test.local", "ghost@test.local"):
        for _ in range(5):
            assert await login(gql, email, "Wrong-Horse-9") == INVALID_CREDENTIALS
    real = await gql.execute(LOGIN, {"input": {"email": "real@test.local", "password": PASSWORD}})
    ghost = await gql.execute(LOGIN, {"input": {"email": "ghost@test.local", "password": PASSWORD}})
    real_seconds, ghost_seconds = rate_limited(real), rate_limited(ghost)
    assert abs(real_seconds - ghost_seconds) <= 5
    assert real["errors"][0]["path"] == ghost["errors"][0]["path"] == ["login"]
    rows = await throttle_rows(db)
    assert rows["pair:10.1.2.3|real@test.local"].failures == rows["pair:10.1.2.3|ghost@test.local"].failures == 5
    assert rows["account:real@test.local"].failures == rows["account:ghost@test.local"].failures == 5


async def test_per_ip_limit_across_emails(settings: Settings, db: Sessions, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="target@test.local")
    app = create_app(
        make_settings(
            DATABASE_URL=str(settings.database_url),
            LOGIN_MAX_FAILURES_PER_IP="3",
            LOGIN_MAX_FAILURES_PER_ACCOUNT="10",
        )
    )
    try:
        async with client_from(app, "1.2.3.4") as attacker, client_from(app, "5.6.7.8") as other:
            for n in range(3):
                # A spoofed X-Forwarded-For from an untrusted peer does not change the key.
                headers = {"x-forwarded-for": f"192.0.2.{n}"}
                assert await login(attacker, f"spray{n}@test.local", "Wrong-Horse-9", headers=headers) == (
                    INVALID_CREDENTIALS
                )
            result = await attacker.execute(LOGIN, {"input": {"email": "target@test.local", "password": PASSWORD}})
            rate_limited(result)
            # Another client address is not affected, and the target account is not locked.
            assert (await login(other, "target@test.local"))["__typename"] == "AuthPayload"
    finally:
        await app.state.engine.dispose()
    rows = await throttle_rows(db)
    assert rows["ip:1.2.3.4"].failures == 3
    assert rows["ip:1.2.3.4"].locked_until is not None
    assert {key for key in rows if key.startswith("ip:")} == {"ip:1.2.3.4"}
    assert [rows[f"account:spray{n}@test.local"].locked_until for n in range(3)] == [None, None, None]


async def answer(client: GraphQLClient, email: str, password: str = PASSWORD) -> str:
    """What a login attempt got: AuthPayload, INVALID_CREDENTIALS or RATE_LIMITED."""
    result = await client.execute(LOGIN, {"input": {"email": email, "password": password}})
    if result.get("errors"):
        rate_limited(result)
        return "RATE_LIMITED"
    login_result = result["data"]["login"]
    return str(login_result["__typename"] if login_result["__typename"] == "AuthPayload" else login_result["code"])


async def test_attackers_failures_do_not_lock_the_owner_out_from_another_address(
    app: Any, db: Sessions, factory: Factory
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    await factory.user(models.Role.STUDENT, email="other@test.local")
    async with client_from(app, "198.51.100.66") as attacker, client_from(app, "203.0.113.10") as owner:
        assert [await answer(attacker, "victim@test.local", "Wrong-Horse-9") for _ in range(5)] == [
            "INVALID_CREDENTIALS"
        ] * 5
        # The attacker's address is locked for this account, even with the right password...
        assert await answer(attacker, "victim@test.local") == "RATE_LIMITED"
        # ...but not for other accounts (that is the per-address limit, much higher)...
        assert await answer(attacker, "other@test.local", "Wrong-Horse-9") == "INVALID_CREDENTIALS"
        # ...and the owner, elsewhere, signs in.
        assert await answer(owner, "victim@test.local") == "AuthPayload"
        assert await answer(attacker, "victim@test.local") == "RATE_LIMITED"
    rows = await throttle_rows(db)
    assert rows["pair:198.51.100.66|victim@test.local"].locked_until is not None
    assert rows["account:victim@test.local"].locked_until is None
    assert rows["ip:198.51.100.66"].locked_until is None


async def test_a_limit_of_one_locks_on_the_first_failure(settings: Settings, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    app = create_app(make_settings(DATABASE_URL=str(settings.database_url), LOGIN_MAX_FAILURES_PER_IP="1"))
    try:
        async with client_from(app, "198.51.100.1") as client:
            assert await answer(client, "victim@test.local", "Wrong-Horse-9") == "INVALID_CREDENTIALS"
            assert await answer(client, "victim@test.local") == "RATE_LIMITED"
    finally:
        await app.state.engine.dispose()


async def guess_from_many_addresses(app: Any, email: str, addresses: int) -> list[str]:
    """Five wrong passwords and one more attempt from each of `addresses` addresses."""
    answers = []
    for n in range(addresses):
        async with client_from(app, f"198.51.100.{n + 1}") as attacker:
            answers += [await answer(attacker, email, f"Guess-{n}-{i}") for i in range(6)]
    return answers


async def test_guessing_from_many_addresses_is_capped_by_the_account_rule(
    app: Any, db: Sessions, factory: Factory, settings: Settings, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    assert (settings.login_max_failures_per_account, settings.login_max_failures_per_account_and_ip) == (20, 5)
    async with client_from(app, "203.0.113.10") as owner:
        assert await answer(owner, "victim@test.local") == "AuthPayload"  # the owner's usual address
    answers = await guess_from_many_addresses(app, "victim@test.local", 4)
    assert answers == (["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"]) * 4
    checks = len(bcrypt_calls.checks)
    # 20 failures from 4 addresses: a fifth address gets no guess, not even the right one...
    async with client_from(app, "198.51.100.5") as fifth:
        assert await answer(fifth, "victim@test.local", "Guess-5-0") == "RATE_LIMITED"
        assert await answer(fifth, "victim@test.local") == "RATE_LIMITED"
    assert len(bcrypt_calls.checks) == checks
    # ...while the owner, from an address the account signed in from, still gets in.
    async with client_from(app, "203.0.113.10") as owner:
        assert await answer(owner, "victim@test.local", "Wrong-Horse-9") == "INVALID_CREDENTIALS"
        assert await answer(owner, "victim@test.local") == "AuthPayload"
    assert (await throttle_rows(db))["account:victim@test.local"].locked_until is not None


async def test_account_rule_answers_alike_for_unknown_emails(app: Any, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="real@test.local")
    real = await guess_from_many_addresses(app, "real@test.local", 5)
    ghost = await guess_from_many_addresses(app, "ghost@test.local", 5)
    assert real == ghost == (["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"]) * 4 + ["RATE_LIMITED"] * 6


async def test_an_address_stops_being_known_after_the_configured_days(
    settings: Settings, db: Sessions, factory: Factory
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    app = create_app(make_settings(DATABASE_URL=str(settings.database_url), LOGIN_MAX_FAILURES_PER_ACCOUNT="3"))
    try:
        async with client_from(app, "203.0.113.10") as owner:
            assert await answer(owner, "victim@test.local") == "AuthPayload"
        async with client_from(app, "198.51.100.1") as attacker:
            assert [await answer(attacker, "victim@test.local", "Wrong-Horse-9") for _ in range(4)] == [
                "INVALID_CREDENTIALS"
            ] * 3 + ["RATE_LIMITED"]
        async with client_from(app, "203.0.113.10") as owner:
            assert await answer(owner, "victim@test.local") == "AuthPayload"
        stale = datetime.now(UTC) - timedelta(days=settings.login_known_address_days, seconds=1)
        async with db.begin() as session:
            await session.execute(
                update(models.LoginThrottle)
                .where(models.LoginThrottle.key == "pair:203.0.113.10|victim@test.local")
                .values(last_success_at=stale)
            )
        async with client_from(app, "203.0.113.10") as owner:
            assert await answer(owner, "victim@test.local") == "RATE_LIMITED"
    finally:
        await app.state.engine.dispose()


def aliased_logins(n: int) -> str:
    fields = " ".join(
        f'l{i}: login(input: {{email: "victim@test.local", password: "guess-{i:04d}"}}) {{ __typename }}'
        for i in range(n)
    )
    return f"mutation {{ {fields} }}"


ONE_LOGIN = 'login(input: {email: "victim@test.local", password: "guess-0001"}) { __typename }'
BATCHES = {
    "two aliases": f"mutation {{ a: {ONE_LOGIN} b: {ONE_LOGIN} }}",
    "fragment spreads": (
        f"mutation {{ ...A ...B }} fragment A on Mutation {{ a: {ONE_LOGIN} }} "
        f"fragment B on Mutation {{ b: {ONE_LOGIN} }}"
    ),
    "nested fragments": (
        f"mutation {{ ...A }} fragment A on Mutation {{ a: {ONE_LOGIN} ...B }} "
        f"fragment B on Mutation {{ b: {ONE_LOGIN} }}"
    ),
    "field and fragment": f"mutation {{ a: {ONE_LOGIN} ...B }} fragment B on Mutation {{ b: {ONE_LOGIN} }}",
    "inline fragment": f"mutation {{ a: {ONE_LOGIN} ... on Mutation {{ b: {ONE_LOGIN} }} }}",
    "login and refreshToken": (
        f'mutation {{ {ONE_LOGIN} refreshToken(input: {{refreshToken: "x"}}) {{ __typename }} }}'
    ),
    "login and register": (
        f'mutation {{ {ONE_LOGIN} register(input: {{email: "r@test.local", password: "{PASSWORD}", '
        'firstName: "a", lastName: "b"}) { __typename } }'
    ),
}


async def test_25_aliased_logins_are_refused_before_execution(
    gql: GraphQLClient, db: Sessions, factory: Factory, bcrypt_calls: CountingBcrypt
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    result = await gql.execute(aliased_logins(25))
    assert result["data"] is None
    assert set(error_codes(result)) == {"BAD_REQUEST"}
    # The alias limit refuses it first, and then no other rule runs (limits.py); the credential
    # rule on its own: test_credential_fields_cannot_be_batched.
    assert [error["message"] for error in result["errors"]] == ["25 aliases found. Allowed: 15"]
    assert bcrypt_calls.checks == []
    assert await audit_rows(db) == []
    assert await throttle_rows(db) == {}


@pytest.mark.parametrize("name", sorted(BATCHES))
async def test_credential_fields_cannot_be_batched(
    gql: GraphQLClient, db: Sessions, factory: Factory, bcrypt_calls: CountingBcrypt, name: str
) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    result = await gql.execute(BATCHES[name])
    assert result == {
        "data": None,
        "errors": [
            {
                "message": CREDENTIAL_FIELD_MESSAGE,
                "locations": result["errors"][0]["locations"],
                "extensions": {"code": "BAD_REQUEST"},
            }
        ],
    }
    assert bcrypt_calls.checks == []
    assert await audit_rows(db) == []
    assert await throttle_rows(db) == {}
    assert await count(db, models.User) == 1


async def test_one_login_through_a_fragment_is_allowed(gql: GraphQLClient, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    query = (
        'mutation { ...A } fragment A on Mutation { login(input: {email: "victim@test.local", '
        f'password: "{PASSWORD}"}}) {{ __typename }} }}'
    )
    assert await gql.data(query) == {"login": {"__typename": "AuthPayload"}}


# ---- refresh tokens and logout ---------------------------------------------------------------


async def test_refresh_rotates_the_token(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    second = await refresh(gql, first["refreshToken"])
    assert second["__typename"] == "AuthPayload"
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"]["id"] == actor.gid
    assert await me_codes(gql, second["accessToken"]) == []
    rows = await refresh_rows(db, actor.id)
    assert len(rows) == 2
    assert rows[0].family_id == rows[1].family_id
    assert rows[0].spent_at is not None
    assert rows[1].spent_at is None
    assert all(row.revoked_at is None for row in rows)
    third = await refresh(gql, second["refreshToken"])
    assert third["__typename"] == "AuthPayload"
    outcomes = [(r.outcome, r.actor_id) for r in await audit_rows(db, "refreshToken")]
    assert outcomes == [(models.AuditOutcome.SUCCESS, actor.id)] * 2


async def test_reusing_a_spent_refresh_token_revokes_the_family(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    other_device = await login(gql, "r@test.local")
    second = await refresh(gql, first["refreshToken"])
    # The stolen, already spent token is replayed.
    assert await refresh(gql, first["refreshToken"]) == INVALID_REFRESH
    # The legitimate newer token of that family is dead too.
    assert await refresh(gql, second["refreshToken"]) == INVALID_REFRESH
    rows = await refresh_rows(db, actor.id)
    revoked = {row.token_hash for row in rows if row.revoked_at is not None}
    assert revoked == {
        tokens.hash_refresh_token(first["refreshToken"]),
        tokens.hash_refresh_token(second["refreshToken"]),
    }
    # Another login's family is untouched.
    assert (await refresh(gql, other_device["refreshToken"]))["__typename"] == "AuthPayload"
    failures = [
        (r.outcome, r.error_code, r.actor_id)
        for r in await audit_rows(db, "refreshToken")
        if r.outcome.value != "SUCCESS"
    ]
    assert failures == [(models.AuditOutcome.FAILURE, "INVALID_CREDENTIALS", None)] * 2


async def test_concurrent_refreshes_with_one_token_let_one_win(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    results = await asyncio.gather(*(refresh(gql, first["refreshToken"]) for _ in range(3)))
    assert sorted(r["__typename"] for r in results) == [
        "AuthPayload",
        "InvalidCredentialsError",
        "InvalidCredentialsError",
    ]
    # The losers look like a replay, so the winner's new token is revoked with its family.
    [winner] = [r for r in results if r["__typename"] == "AuthPayload"]
    assert await refresh(gql, winner["refreshToken"]) == INVALID_REFRESH
    rows = await refresh_rows(db, actor.id)
    assert len(rows) == 2
    assert all(row.revoked_at is not None for row in rows)


async def test_refresh_with_expired_token(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    async with db.begin() as session:
        await session.execute(
            update(models.RefreshToken)
            .where(models.RefreshToken.user_id == actor.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await refresh(gql, first["refreshToken"]) == INVALID_REFRESH
    [row] = await refresh_rows(db, actor.id)
    assert row.spent_at is None


@pytest.mark.parametrize("token", ["", "garbage", "x" * 5000, "' OR 1=1 --", "\u00e9\u00e9"])
async def test_refresh_with_garbage(gql: GraphQLClient, db: Sessions, token: str) -> None:
    assert await refresh(gql, token) == INVALID_REFRESH
    [row] = await audit_rows(db)
    assert (row.outcome, row.error_code) == (models.AuditOutcome.FAILURE, "INVALID_CREDENTIALS")


async def test_refresh_with_an_access_token_fails(gql: GraphQLClient, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    assert await refresh(gql, first["accessToken"]) == INVALID_REFRESH


async def test_deactivated_user_cannot_refresh(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    first = await login(gql, "r@test.local")
    await set_active_in_db(db, actor.id, False)
    assert await refresh(gql, first["refreshToken"]) == INVALID_REFRESH
    await set_active_in_db(db, actor.id, True)
    # The failed attempt did not spend the token.
    assert (await refresh(gql, first["refreshToken"]))["__typename"] == "AuthPayload"


async def test_refresh_answer_is_english_on_request(gql: GraphQLClient) -> None:
    result = await gql.data(REFRESH, {"input": {"refreshToken": "nope"}}, headers={"accept-language": "en"})
    assert result["refreshToken"] == {
        "__typename": "InvalidCredentialsError",
        "code": "INVALID_CREDENTIALS",
        "message": "The session expired or is invalid; sign in again.",
    }


async def test_logout_this_session_revokes_its_family(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    phone = await login(gql, "r@test.local")
    laptop = await login(gql, "r@test.local")
    rotated = await refresh(gql, phone["refreshToken"])
    result = await gql.data(LOGOUT, {"input": {"refreshToken": rotated["refreshToken"]}}, token=phone["accessToken"])
    assert result == {"logout": {"ok": True}}
    assert await refresh(gql, rotated["refreshToken"]) == INVALID_REFRESH
    assert (await refresh(gql, laptop["refreshToken"]))["__typename"] == "AuthPayload"
    rows = await refresh_rows(db, actor.id)
    phone_family = rows[0].family_id
    assert all(row.revoked_at is not None for row in rows if row.family_id == phone_family)
    assert [row.revoked_at for row in rows if row.family_id != phone_family] == [None, None]


async def test_logout_cannot_revoke_someone_elses_session(gql: GraphQLClient, factory: Factory) -> None:
    await factory.user(models.Role.STUDENT, email="victim@test.local")
    attacker = await factory.user(models.Role.STUDENT, email="attacker@test.local")
    victim = await login(gql, "victim@test.local")
    result = await gql.data(LOGOUT, {"input": {"refreshToken": victim["refreshToken"]}}, token=attacker)
    assert result == {"logout": {"ok": True}}
    assert (await refresh(gql, victim["refreshToken"]))["__typename"] == "AuthPayload"


async def test_logout_everywhere_revokes_access_and_refresh_tokens(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    actor = await factory.user(models.Role.STUDENT, email="r@test.local")
    phone = await login(gql, "r@test.local")
    laptop = await login(gql, "r@test.local")
    assert await me_codes(gql, laptop["accessToken"]) == []
    result = await gql.data(LOGOUT, {"input": {"everywhere": True}}, token=phone["accessToken"])
    assert result == {"logout": {"ok": True}}
    for session in (phone, laptop):
        assert await me_codes(gql, session["accessToken"]) == ["UNAUTHENTICATED"]
        assert await refresh(gql, session["refreshToken"]) == INVALID_REFRESH
    assert await me_codes(gql, actor.token) == ["UNAUTHENTICATED"]
    assert (await user_by_email(db, "r@test.local")).token_version == 2
    # Signing in again works.
    fresh = await login(gql, "r@test.local")
    assert await me_codes(gql, fresh["accessToken"]) == []


async def test_logout_requires_a_session(gql: GraphQLClient, db: Sessions) -> None:
    result = await gql.execute(LOGOUT, {"input": {"everywhere": True}})
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]
    [row] = await audit_rows(db)
    assert (row.operation, row.outcome, row.error_code) == ("logout", models.AuditOutcome.DENIED, "UNAUTHENTICATED")


# ---- JWT forgery (S21) -----------------------------------------------------------------------


async def test_handcrafted_valid_token_is_accepted(gql: GraphQLClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    token = sign(claims(actor.id, actor.user.token_version))
    assert (await gql.data(ME, token=token))["me"]["id"] == actor.gid


@pytest.mark.parametrize("name", sorted(FORGED_TOKENS))
async def test_forged_token_is_unauthenticated(gql: GraphQLClient, factory: Factory, name: str) -> None:
    actor = await factory.user(models.Role.STUDENT)
    token = FORGED_TOKENS[name](actor.id, actor.user.token_version)
    result = await gql.execute(ME, token=token)
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] == "Debes iniciar sesión."


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda a: claims(a.id, a.user.token_version + 1), id="stale_version"),
        pytest.param(lambda a: claims(a.id, a.user.token_version - 1), id="older_version"),
        pytest.param(lambda a: claims(uuid.uuid4(), 1), id="unknown_user"),
    ],
)
async def test_validly_signed_token_for_wrong_state(gql: GraphQLClient, factory: Factory, make: Any) -> None:
    actor = await factory.user(models.Role.STUDENT)
    assert await me_codes(gql, sign(make(actor))) == ["UNAUTHENTICATED"]


async def test_role_claim_is_not_trusted(gql: GraphQLClient, factory: Factory) -> None:
    """The role comes from the database, never from the token."""
    actor = await factory.user(models.Role.STUDENT)
    token = sign(claims(actor.id, actor.user.token_version, role="ADMIN_GENERAL"))
    assert (await gql.data(ME, token=token))["me"]["role"] == "STUDENT"
    result = await gql.execute("{ users(first: 1) { totalCount } }", token=token)
    assert result["data"] is None
    assert error_codes(result) == ["FORBIDDEN"]


async def test_token_of_a_deactivated_user_is_refused(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    await set_active_in_db(db, actor.id, False)
    assert await me_codes(gql, actor.token) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "header",
    [
        "Token {t}",
        "Basic {t}",
        "JWT {t}",
        "{t}",
        "Bearer",
        "Bearer ",
        "Bearer {t} extra",
        "Bearer {t}!!!!",
    ],
)
async def test_authorization_header_must_be_a_bearer_token(
    client: httpx.AsyncClient, factory: Factory, header: str
) -> None:
    actor = await factory.user(models.Role.STUDENT)
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"authorization": header.format(t=actor.token)}
    )
    assert response.status_code == 200
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    response = await client.post("/graphql", json={"query": ME}, headers={"authorization": f"bearer {actor.token}"})
    assert response.json()["data"]["me"]["id"] == actor.gid


@pytest.mark.parametrize("param", ["access_token", "token", "authorization", "jwt"])
async def test_token_in_the_query_string_is_ignored(client: httpx.AsyncClient, factory: Factory, param: str) -> None:
    actor = await factory.user(models.Role.STUDENT)
    response = await client.post("/graphql", params={param: actor.token}, json={"query": ME})
    assert response.status_code == 200
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_get_requests_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    query = await client.get(
        "/graphql",
        params={"query": ME, "access_token": actor.token},
        headers={"authorization": f"Bearer {actor.token}", "accept": "application/json"},
    )
    assert query.status_code == 405
    assert query.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    login_field = ONE_LOGIN.replace("victim@test.local", actor.user.email)
    mutation = await client.get(
        "/graphql", params={"query": f"mutation {{ {login_field} }}"}, headers={"accept": "application/json"}
    )
    assert mutation.status_code == 405
    assert "data" not in mutation.json()


# ---- change password (S22, S25) --------------------------------------------------------------


def change(current: str, new: str) -> dict[str, Any]:
    return {"input": {"currentPassword": current, "newPassword": new}}


async def test_change_password_revokes_old_tokens_and_returns_fresh_ones(
    gql: GraphQLClient, db: Sessions, factory: Factory
) -> None:
    actor = await factory.user(models.Role.STUDENT, email="cp@test.local")
    session = await login(gql, "cp@test.local")
    other = await login(gql, "cp@test.local")
    new_password = "Brand-New-Secret-42"
    result = (await gql.data(CHANGE_PASSWORD, change(PASSWORD, new_password), token=session["accessToken"]))[
        "changePassword"
    ]
    assert result["__typename"] == "AuthPayload"
    assert result["user"]["id"] == actor.gid
    # Fresh pair works.
    assert await me_codes(gql, result["accessToken"]) == []
    # Every old access token is rejected at the next request.
    for token in (session["accessToken"], other["accessToken"], actor.token):
        assert await me_codes(gql, token) == ["UNAUTHENTICATED"]
    # Every old refresh token is dead.
    for old in (session, other):
        assert await refresh(gql, old["refreshToken"]) == INVALID_REFRESH
    assert (await refresh(gql, result["refreshToken"]))["__typename"] == "AuthPayload"
    # Only the new password signs in.
    assert await login(gql, "cp@test.local", PASSWORD) == INVALID_CREDENTIALS
    assert (await login(gql, "cp@test.local", new_password))["__typename"] == "AuthPayload"
    assert (await user_by_email(db, "cp@test.local")).token_version == 2


async def test_change_password_audit_row_holds_no_secret(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="cp@test.local")
    new_password = "Brand-New-Secret-42"
    result = (await gql.data(CHANGE_PASSWORD, change(PASSWORD, new_password), token=actor))["changePassword"]
    [row] = await audit_rows(db, "changePassword")
    stored = await user_by_email(db, "cp@test.local")
    assert (row.outcome, row.actor_id, row.entity_type, row.entity_id) == (
        models.AuditOutcome.SUCCESS,
        actor.id,
        "users",
        actor.id,
    )
    text = json.dumps(row.changes)
    for secret in (
        "password_hash",
        "$2b$",
        new_password,
        PASSWORD,
        stored.password_hash,
        actor.user.password_hash,
        result["accessToken"],
        result["refreshToken"],
        "token_hash",
    ):
        assert secret not in text, secret
    update_entry = row.changes[0]
    assert update_entry["action"] == "update"
    assert update_entry["new"] == {"token_version": 2}
    assert update_entry["old"] == {"token_version": 1}


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        ("Wrong-Horse-9", "Brand-New-Secret-42", [("currentPassword", "WRONG_PASSWORD")]),
        ("", "Brand-New-Secret-42", [("currentPassword", "WRONG_PASSWORD")]),
        ("é" * 37, "Brand-New-Secret-42", [("currentPassword", "WRONG_PASSWORD")]),
        (PASSWORD, PASSWORD, [("newPassword", "SAME_PASSWORD")]),
        (PASSWORD, "short", [("newPassword", "PASSWORD_TOO_SHORT")]),
        (PASSWORD, "a" * 73, [("newPassword", "PASSWORD_TOO_LONG")]),
        (PASSWORD, "é" * 37, [("newPassword", "PASSWORD_TOO_LONG")]),
    ],
)
async def test_change_password_rejections_change_nothing(
    gql: GraphQLClient, db: Sessions, factory: Factory, current: str, new: str, expected: list[tuple[str, str]]
) -> None:
    actor = await factory.user(models.Role.STUDENT, email="cp@test.local")
    session = await login(gql, "cp@test.local")
    result = (await gql.data(CHANGE_PASSWORD, change(current, new), token=session["accessToken"]))["changePassword"]
    assert field_errors(result) == expected
    stored = await user_by_email(db, "cp@test.local")
    assert (stored.password_hash, stored.token_version) == (actor.user.password_hash, 1)
    assert await me_codes(gql, session["accessToken"]) == []
    assert (await refresh(gql, session["refreshToken"]))["__typename"] == "AuthPayload"
    failures = [(r.outcome, r.error_code) for r in await audit_rows(db, "changePassword")]
    assert failures == [(models.AuditOutcome.FAILURE, "VALIDATION_FAILED")]


async def test_change_password_messages(gql: GraphQLClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    wrong = (await gql.data(CHANGE_PASSWORD, change("Wrong-Horse-9", "Brand-New-42"), token=actor))["changePassword"]
    assert wrong["fieldErrors"] == [
        {"field": "currentPassword", "code": "WRONG_PASSWORD", "message": "La contraseña actual no es correcta."}
    ]
    same = (await gql.data(CHANGE_PASSWORD, change(PASSWORD, PASSWORD), token=actor))["changePassword"]
    assert same["fieldErrors"] == [
        {
            "field": "newPassword",
            "code": "SAME_PASSWORD",
            "message": "La nueva contraseña debe ser distinta de la actual.",
        }
    ]


async def test_change_password_accepts_72_bytes(gql: GraphQLClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, email="cp@test.local")
    result = (await gql.data(CHANGE_PASSWORD, change(PASSWORD, "é" * 36), token=actor))["changePassword"]
    assert result["__typename"] == "AuthPayload"
    assert (await login(gql, "cp@test.local", "é" * 36))["__typename"] == "AuthPayload"


async def test_change_password_requires_a_session(gql: GraphQLClient) -> None:
    result = await gql.execute(CHANGE_PASSWORD, change(PASSWORD, "Brand-New-Secret-42"))
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_english_and_spanish_login_errors_share_codes(gql: GraphQLClient) -> None:
    variables = {"input": {"email": "nobody@test.local", "password": PASSWORD}}
    spanish = (await gql.data(LOGIN, variables))["login"]
    english = (await gql.data(LOGIN, variables, headers={"accept-language": "en-US,en;q=0.9"}))["login"]
    assert spanish == INVALID_CREDENTIALS
    assert english == {**INVALID_CREDENTIALS, "message": "Wrong e-mail or password."}


# ---- the payload of a sign-in is the signed-in user's view -------------------------------------

SIGNED_IN_VIEW = """
user { environment { name center { code } } }
"""


async def test_the_user_of_a_sign_in_payload_sees_what_that_user_may_see(gql: GraphQLClient, world: World) -> None:
    """login, register and refreshToken answer while the request is still anonymous; their
    payload's user is the signed-in user, with everything that user may see (it was null)."""
    query = f"""mutation ($input: LoginInput!) {{ login(input: $input) {{
      ... on AuthPayload {{ refreshToken {SIGNED_IN_VIEW} }} }} }}"""
    variables = {"input": {"email": world.supervisor.user.email, "password": PASSWORD}}
    signed_in = (await gql.data(query, variables))["login"]
    assert signed_in["user"]["environment"] == {"name": world.a1.name, "center": {"code": "CA"}}
    query = f"""mutation ($input: RefreshTokenInput!) {{ refreshToken(input: $input) {{
      ... on AuthPayload {{ {SIGNED_IN_VIEW} }} }} }}"""
    refreshed = (await gql.data(query, {"input": {"refreshToken": signed_in["refreshToken"]}}))["refreshToken"]
    assert refreshed["user"]["environment"] == {"name": world.a1.name, "center": {"code": "CA"}}
    query = """mutation ($input: RegisterInput!) { register(input: $input) {
      ... on AuthPayload { user { email role } } } }"""
    registered = (await gql.data(query, registration(email="fresh@test.local")))["register"]
    assert registered["user"] == {"email": "fresh@test.local", "role": "STUDENT"}
