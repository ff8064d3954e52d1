"""The auth domain's cases for the authorization matrix (tests/authz/): sign-up, sign-in,
tokens and the caller's own account; and what registration may never be talked into."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy import select, text

from graphql_api.db import models
from tests.authz import (
    ANONYMOUS,
    AUTHENTICATED,
    CALLERS,
    PUBLIC,
    DomainCases,
    MutationCase,
    Outcome,
    Scene,
    Table,
    changes,
    for_each_caller,
    static,
)
from tests.conftest import PASSWORD, GraphQLClient, error_codes, gid

NEW_PASSWORD = {"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-7"}


async def login(gql: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Signs in (the other domains' setups use it to make history)."""
    data = await gql.data(
        "mutation L($input: LoginInput!) { login(input: $input) { __typename"
        " ... on AuthPayload { accessToken refreshToken user { id } } } }",
        {"input": {"email": email, "password": password}},
    )
    assert data["login"]["__typename"] == "AuthPayload", data
    result: dict[str, Any] = data["login"]
    return result


def _own_user(scene: Scene, caller: str) -> models.User:
    return scene.world.role("student" if caller == ANONYMOUS else caller).user


async def setup(scene: Scene) -> None:
    # A session of world B's student: a refresh token for other callers to try to revoke.
    scene.notes["auth.student_b_refresh"] = (await login(scene.gql, scene.world.student_b.user.email))["refreshToken"]


async def _register_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": scene.world.student_b.user.email, "password": PASSWORD, "firstName": "Eve", "lastName": "B"}


async def _register_ok(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": f"new-{caller}@test.local", "password": PASSWORD, "firstName": "New", "lastName": "Student"}


async def _login_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    # Two accounts of world B in turn: five failures on one account would lock it.
    account = scene.world.student_b if CALLERS.index(caller) % 2 else scene.world.admin_b
    return {"email": account.user.email, "password": "Wrong-Password-1"}


async def _login_ok(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": _own_user(scene, caller).email, "password": PASSWORD}


async def _refresh_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"refreshToken": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode()}


async def _own_refresh_token(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"refreshToken": (await login(scene.gql, _own_user(scene, caller).email))["refreshToken"]}


async def _logout_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    # World B's student's live refresh token: logging it out must not touch that session.
    return {"refreshToken": scene.notes["auth.student_b_refresh"]}


MUTATIONS = {
    # -- public ---------------------------------------------------------------------------
    "register": MutationCase(
        access=PUBLIC,
        attack=_register_attack,
        out_of_scope=Outcome("ValidationError", (("email", "EMAIL_TAKEN"),)),
        in_scope=_register_ok,
        success="AuthPayload",
    ),
    "login": MutationCase(
        access=PUBLIC,
        attack=_login_attack,
        out_of_scope=Outcome("InvalidCredentialsError"),
        in_scope=_login_ok,
        success="AuthPayload",
    ),
    "refreshToken": MutationCase(
        access=PUBLIC,
        attack=_refresh_attack,
        out_of_scope=Outcome("InvalidCredentialsError"),
        in_scope=_own_refresh_token,
        success="AuthPayload",
    ),
    # -- the caller's own account ---------------------------------------------------------
    "logout": MutationCase(
        access=AUTHENTICATED,
        attack=_logout_attack,
        out_of_scope=Outcome("LogoutPayload"),
        in_scope=_own_refresh_token,
        success="LogoutPayload",
        self_only=True,
    ),
    "updateMe": MutationCase(
        access=AUTHENTICATED,
        attack=static({"firstName": "Changed", "phone": "555"}),
        out_of_scope=Outcome("MePayload"),
        in_scope=static({"firstName": "Changed"}),
        success="MePayload",
        self_only=True,
    ),
    "changePassword": MutationCase(
        access=AUTHENTICATED,
        attack=static(NEW_PASSWORD),
        out_of_scope=Outcome("AuthPayload"),
        in_scope=static(NEW_PASSWORD),
        success="AuthPayload",
        self_only=True,
    ),
    "updateMySettings": MutationCase(
        access=AUTHENTICATED,
        attack=static({"theme": "DARK", "language": "EN"}),
        out_of_scope=Outcome("SettingsPayload"),
        in_scope=static({"theme": "DARK"}),
        success="SettingsPayload",
        self_only=True,
    ),
}


# ---- registration never yields a role other than STUDENT -----------------------------------

REGISTER = (
    "mutation R($input: RegisterInput!) { register(input: $input) { __typename"
    " ... on AuthPayload { accessToken user { id role environment { id } } } } }"
)
EXTRA_REGISTER_FIELDS = (
    {"role": "ADMIN_GENERAL"},
    {"role": "STUDENT"},
    {"environmentId": "RW52aXJvbm1lbnQ6MQ=="},
    {"isActive": True},
    {"tokenVersion": 0},
    {"passwordHash": "$2b$04$abcdefghijklmnopqrstuv"},
)


def _registration(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "firstName": "Reg", "lastName": "Istered", **extra}


async def _user_count(scene: Scene) -> int:
    async with scene.engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM users")) or 0)


async def register_rejects_extra_input_fields(scene: Scene) -> None:
    before = await _user_count(scene)
    for extra in EXTRA_REGISTER_FIELDS:
        result = await scene.gql.execute(REGISTER, {"input": _registration("extra@test.local", **extra)})
        assert result["data"] is None, extra
        assert error_codes(result) == ["BAD_REQUEST"], extra
    assert await _user_count(scene) == before


async def register_with_a_role_literal_is_a_validation_error(scene: Scene) -> None:
    before = await _user_count(scene)
    literal = (
        'mutation { register(input: {email: "lit@test.local", password: "Correct-Horse-9", '
        'firstName: "A", lastName: "B", role: ADMIN_GENERAL}) { __typename } }'
    )
    for token in (None, scene.world.admin_general):
        result = await scene.gql.execute(literal, token=token)
        assert result.get("data") is None
        assert error_codes(result) == ["BAD_REQUEST"]
        assert "role" in result["errors"][0]["message"]
    assert await _user_count(scene) == before


async def registered_account_is_always_a_student(scene: Scene) -> None:
    await for_each_caller(lambda caller: _register_as(scene, caller))


async def _register_as(scene: Scene, caller: str) -> None:
    email = f"self-{caller}@test.local"
    data = await scene.gql.data(REGISTER, {"input": _registration(email, language="EN")}, token=scene.actor(caller))
    payload = data["register"]
    assert payload["__typename"] == "AuthPayload"
    assert payload["user"]["role"] == "STUDENT"
    assert payload["user"]["environment"] is None
    async with scene.db() as session:
        row = await session.scalar(select(models.User).where(models.User.email == email))
    assert row is not None
    assert (row.role, row.environment_id, row.is_active) == (models.Role.STUDENT, None, True)
    me = await scene.gql.data("{ me { id role } }", token=payload["accessToken"])
    assert me["me"] == {"id": gid("User", row.id), "role": "STUDENT"}


async def update_me_cannot_change_role_or_home(scene: Scene) -> None:
    for extra in ({"role": "ADMIN_GENERAL"}, {"environmentId": gid("Environment", scene.world.b1.id)}):
        before = await scene.snapshot()
        result = await scene.gql.execute(
            "mutation U($input: UpdateMeInput!) { updateMe(input: $input) { __typename } }",
            {"input": {"firstName": "X", **extra}},
            token=scene.world.student,
        )
        assert result["data"] is None
        assert error_codes(result) == ["BAD_REQUEST"]
        assert changes(before, await scene.snapshot()) == []


CASES = DomainCases(
    mutations=MUTATIONS,
    tables={"refresh_tokens": Table(owner="user_id")},
    records={"login_throttle": "failed sign-ins count against the account and the address"},
    setup=setup,
    checks={
        "register_rejects_extra_input_fields": register_rejects_extra_input_fields,
        "register_with_a_role_literal_is_a_validation_error": register_with_a_role_literal_is_a_validation_error,
        "registered_account_is_always_a_student": registered_account_is_always_a_student,
        "update_me_cannot_change_role_or_home": update_me_cannot_change_role_or_home,
    },
)
