"""The caller's own account (me, updateMe, settings, language) and user administration
(ADMIN_GENERAL only): create, update, (de)activate, list, revocation of the tokens of a user
whose role, home or status changes (S22)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import PASSWORD, Actor, Factory, GraphQLClient, World, error_codes, gid

Sessions = async_sessionmaker[AsyncSession]

USER_FIELDS = "id email role firstName lastName phone program ficha avatarUrl isActive environment { id }"
ERRORS = "... on Error { code message } ... on ValidationError { fieldErrors { field message code } }"
USER_RESULT = f"__typename ... on UserPayload {{ user {{ {USER_FIELDS} }} }} {ERRORS}"
CREATE_USER = f"mutation ($input: CreateUserInput!) {{ createUser(input: $input) {{ {USER_RESULT} }} }}"
UPDATE_USER = f"mutation ($input: UpdateUserInput!) {{ updateUser(input: $input) {{ {USER_RESULT} }} }}"
DEACTIVATE = f"mutation ($input: UserIdInput!) {{ deactivateUser(input: $input) {{ {USER_RESULT} }} }}"
ACTIVATE = f"mutation ($input: UserIdInput!) {{ activateUser(input: $input) {{ {USER_RESULT} }} }}"
UPDATE_ME = (
    f"mutation ($input: UpdateMeInput!) {{ updateMe(input: $input) {{ __typename "
    f"... on MePayload {{ user {{ {USER_FIELDS} }} }} {ERRORS} }} }}"
)
SETTINGS_FIELDS = "language theme timezone notifyInApp notifyEmail notifyPush"
MY_SETTINGS = f"{{ mySettings {{ {SETTINGS_FIELDS} }} }}"
UPDATE_SETTINGS = (
    "mutation ($input: UpdateMySettingsInput!) { updateMySettings(input: $input) { __typename "
    f"... on SettingsPayload {{ settings {{ {SETTINGS_FIELDS} }} }} "
    "... on Error { code message } ... on ValidationError { fieldErrors { field message code } } } }"
)
LOGIN = (
    "mutation ($input: LoginInput!) { login(input: $input) { __typename "
    "... on AuthPayload { accessToken refreshToken } ... on Error { code message } } }"
)
REFRESH = "mutation ($t: String!) { refreshToken(input: {refreshToken: $t}) { __typename } }"
ME = f"{{ me {{ {USER_FIELDS} }} }}"
USERS = """
query ($where: UserWhere, $orderBy: UserOrder, $first: Int, $after: String, $last: Int, $before: String) {
  users(where: $where, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id email } }
  }
}
"""
USER = "query ($id: ID!) { user(id: $id) { id email role } }"
DEFAULT_SETTINGS = {
    "language": "ES",
    "theme": "SYSTEM",
    "timezone": None,
    "notifyInApp": True,
    "notifyEmail": False,
    "notifyPush": True,
}


# ---- helpers ---------------------------------------------------------------------------------


def new_user(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "created@test.local",
        "password": PASSWORD,
        "role": "STUDENT",
        "firstName": "Nuevo",
        "lastName": "Usuario",
    }
    values.update(overrides)
    return {"input": values}


async def mutate(gql: GraphQLClient, query: str, field: str, token: Any, **input_values: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(query, {"input": input_values}, token=token))[field]
    return result


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    assert result["code"] == "VALIDATION_FAILED"
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


async def me_codes(gql: GraphQLClient, token: Any) -> list[str]:
    result = await gql.execute("{ me { id } }", token=token)
    return error_codes(result) if result.get("errors") else []


async def login(gql: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(LOGIN, {"input": {"email": email, "password": password}}))["login"]
    return result


async def load_user(db: Sessions, user_id: uuid.UUID) -> models.User:
    async with db() as session:
        user = await session.get(models.User, user_id)
    assert user is not None
    return user


async def user_count(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(models.User)) or 0)


async def audit_rows(db: Sessions, operation: str) -> list[models.AuditLog]:
    async with db() as session:
        stmt = (
            select(models.AuditLog)
            .where(models.AuditLog.operation == operation)
            .order_by(models.AuditLog.created_at, models.AuditLog.id)
        )
        return list((await session.scalars(stmt)).all())


def env_id(environment: models.Environment) -> str:
    return gid("Environment", environment.id)


# ---- me / updateMe ---------------------------------------------------------------------------


async def test_me_returns_the_caller(gql: GraphQLClient, world: World) -> None:
    data = await gql.data(ME, token=world.student)
    me = data["me"]
    assert me["id"] == world.student.gid
    assert me["email"] == world.student.user.email
    assert (me["role"], me["isActive"]) == ("STUDENT", True)
    assert me["environment"] == {"id": env_id(world.a1)}
    general = (await gql.data(ME, token=world.admin_general))["me"]
    assert (general["role"], general["environment"]) == ("ADMIN_GENERAL", None)


async def test_me_requires_a_session(gql: GraphQLClient) -> None:
    result = await gql.execute(ME)
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] == "Debes iniciar sesión."


async def test_update_me_changes_only_the_sent_fields(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, first_name="Ana", last_name="Pérez")
    first = await mutate(
        gql,
        UPDATE_ME,
        "updateMe",
        actor,
        phone=" 300 111 2222 ",
        program="ADSO",
        ficha="2558",
        avatarUrl="https://cdn.example/a.png",
    )
    assert first["__typename"] == "MePayload"
    user = first["user"]
    assert (user["firstName"], user["lastName"]) == ("Ana", "Pérez")
    assert (user["phone"], user["program"], user["ficha"], user["avatarUrl"]) == (
        "300 111 2222",
        "ADSO",
        "2558",
        "https://cdn.example/a.png",
    )
    # Only firstName sent: everything else stays.
    second = (await mutate(gql, UPDATE_ME, "updateMe", actor, firstName="  Anita "))["user"]
    assert second["firstName"] == "Anita"
    assert (second["phone"], second["program"], second["ficha"], second["avatarUrl"]) == (
        "300 111 2222",
        "ADSO",
        "2558",
        "https://cdn.example/a.png",
    )
    # null clears optional fields; omitted ones stay.
    third = (await mutate(gql, UPDATE_ME, "updateMe", actor, phone=None, avatarUrl=None))["user"]
    assert (third["phone"], third["avatarUrl"], third["program"], third["ficha"]) == (None, None, "ADSO", "2558")
    row = await load_user(db, actor.id)
    assert (row.first_name, row.phone, row.avatar_url, row.program) == ("Anita", None, None, "ADSO")
    # A profile edit does not revoke the session.
    assert await me_codes(gql, actor) == []


async def test_update_me_with_nothing_is_a_no_op(gql: GraphQLClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT, first_name="Ana")
    result = await mutate(gql, UPDATE_ME, "updateMe", actor)
    assert result["__typename"] == "MePayload"
    assert result["user"]["firstName"] == "Ana"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"firstName": "   "}, [("firstName", "BLANK")]),
        ({"lastName": ""}, [("lastName", "BLANK")]),
        ({"firstName": "x" * 101}, [("firstName", "TOO_LONG")]),
        ({"phone": "1" * 31}, [("phone", "TOO_LONG")]),
        ({"ficha": "1" * 21}, [("ficha", "TOO_LONG")]),
        ({"avatarUrl": "javascript:alert(1)"}, [("avatarUrl", "INVALID_URL")]),
        ({"avatarUrl": "ftp://files.example/a.png"}, [("avatarUrl", "INVALID_URL")]),
        ({"avatarUrl": "//cdn.example/a.png"}, [("avatarUrl", "INVALID_URL")]),
        ({"avatarUrl": "https://x.example/" + "a" * 500}, [("avatarUrl", "TOO_LONG")]),
        (
            {"firstName": " ", "lastName": "", "avatarUrl": "data:image/png;base64,AAAA", "phone": "ok"},
            [("firstName", "BLANK"), ("lastName", "BLANK"), ("avatarUrl", "INVALID_URL")],
        ),
    ],
)
async def test_update_me_validation_changes_nothing(
    gql: GraphQLClient, db: Sessions, factory: Factory, values: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    actor = await factory.user(models.Role.STUDENT, first_name="Ana", last_name="Pérez")
    result = await mutate(gql, UPDATE_ME, "updateMe", actor, **values)
    assert field_errors(result) == expected
    row = await load_user(db, actor.id)
    assert (row.first_name, row.last_name, row.phone, row.avatar_url) == ("Ana", "Pérez", None, None)
    [audit] = await audit_rows(db, "updateMe")
    assert (audit.outcome, audit.error_code, audit.actor_id) == (
        models.AuditOutcome.FAILURE,
        "VALIDATION_FAILED",
        actor.id,
    )


@pytest.mark.parametrize("field", ["firstName", "lastName"])
async def test_update_me_null_for_a_required_name_is_refused(
    gql: GraphQLClient, db: Sessions, factory: Factory, field: str
) -> None:
    actor = await factory.user(models.Role.STUDENT, first_name="Ana", last_name="Pérez")
    result = await gql.execute(UPDATE_ME, {"input": {field: None, "phone": "123"}}, token=actor)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    row = await load_user(db, actor.id)
    assert (row.first_name, row.last_name, row.phone) == ("Ana", "Pérez", None)


@pytest.mark.parametrize("url", ["http://a.example/x.png", "HTTPS://A.EXAMPLE/X.PNG"])
async def test_update_me_accepts_http_and_https_avatars(gql: GraphQLClient, factory: Factory, url: str) -> None:
    actor = await factory.user(models.Role.STUDENT)
    result = await mutate(gql, UPDATE_ME, "updateMe", actor, avatarUrl=url)
    assert result["user"]["avatarUrl"] == url


async def test_update_me_cannot_change_role_or_email(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    for extra in ({"role": "ADMIN_GENERAL"}, {"email": "other@test.local"}, {"isActive": False}):
        result = await gql.execute(UPDATE_ME, {"input": extra}, token=actor)
        assert result["data"] is None
        assert error_codes(result) == ["BAD_REQUEST"]
    row = await load_user(db, actor.id)
    assert (row.role, row.email, row.is_active) == (models.Role.STUDENT, actor.user.email, True)


async def test_update_me_requires_a_session(gql: GraphQLClient) -> None:
    result = await gql.execute(UPDATE_ME, {"input": {"firstName": "X"}})
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


# ---- settings and language -------------------------------------------------------------------


async def test_my_settings_defaults(gql: GraphQLClient, world: World) -> None:
    assert (await gql.data(MY_SETTINGS, token=world.student))["mySettings"] == DEFAULT_SETTINGS


async def test_my_settings_defaults_without_a_settings_row(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    async with db.begin() as session:
        row = await session.get(models.UserSettings, actor.id)
        assert row is not None
        await session.delete(row)
    assert (await gql.data(MY_SETTINGS, token=actor))["mySettings"] == DEFAULT_SETTINGS
    result = await mutate(gql, UPDATE_SETTINGS, "updateMySettings", actor, theme="DARK")
    assert result["settings"] == {**DEFAULT_SETTINGS, "theme": "DARK"}


async def test_update_my_settings(gql: GraphQLClient, db: Sessions, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    result = await mutate(
        gql,
        UPDATE_SETTINGS,
        "updateMySettings",
        actor,
        theme="DARK",
        timezone="Europe/Madrid",
        notifyEmail=True,
    )
    expected = {**DEFAULT_SETTINGS, "theme": "DARK", "timezone": "Europe/Madrid", "notifyEmail": True}
    assert result == {"__typename": "SettingsPayload", "settings": expected}
    assert (await gql.data(MY_SETTINGS, token=actor))["mySettings"] == expected
    # Omitted fields stay; null timezone goes back to the server's.
    cleared = await mutate(gql, UPDATE_SETTINGS, "updateMySettings", actor, timezone=None, notifyPush=False)
    assert cleared["settings"] == {**expected, "timezone": None, "notifyPush": False}
    async with db() as session:
        row = await session.get(models.UserSettings, actor.id)
    assert row is not None
    assert (row.theme, row.timezone, row.notify_push) == (models.Theme.DARK, None, False)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "UTC+5", "x" * 200])
async def test_invalid_timezone(gql: GraphQLClient, db: Sessions, factory: Factory, zone: str) -> None:
    actor = await factory.user(models.Role.STUDENT)
    result = await mutate(gql, UPDATE_SETTINGS, "updateMySettings", actor, timezone=zone, theme="DARK")
    assert result["fieldErrors"] == [
        {"field": "timezone", "code": "INVALID_TIMEZONE", "message": "Zona horaria no válida."}
    ]
    assert (await gql.data(MY_SETTINGS, token=actor))["mySettings"] == DEFAULT_SETTINGS


@pytest.mark.parametrize("field", ["language", "theme", "notifyInApp", "notifyEmail", "notifyPush"])
async def test_null_for_a_required_setting_is_refused(gql: GraphQLClient, factory: Factory, field: str) -> None:
    actor = await factory.user(models.Role.STUDENT)
    result = await gql.execute(UPDATE_SETTINGS, {"input": {field: None, "timezone": "Europe/Madrid"}}, token=actor)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    assert (await gql.data(MY_SETTINGS, token=actor))["mySettings"] == DEFAULT_SETTINGS


async def test_language_setting_switches_messages_for_that_user(gql: GraphQLClient, factory: Factory) -> None:
    actor = await factory.user(models.Role.STUDENT)
    other = await factory.user(models.Role.STUDENT)
    spanish = await mutate(gql, UPDATE_ME, "updateMe", actor, firstName=" ")
    assert spanish["message"] == "Los datos enviados no son válidos."
    assert spanish["fieldErrors"][0]["message"] == "Este campo no puede estar vacío."

    changed = await mutate(gql, UPDATE_SETTINGS, "updateMySettings", actor, language="EN")
    assert changed["settings"]["language"] == "EN"

    # Same token, next request: English, whatever the Accept-Language header says.
    english = (
        await gql.data(UPDATE_ME, {"input": {"firstName": " "}}, token=actor, headers={"accept-language": "es"})
    )["updateMe"]
    assert english["message"] == "The submitted data is not valid."
    assert english["fieldErrors"] == [{"field": "firstName", "code": "BLANK", "message": "This field cannot be blank."}]
    assert english["code"] == spanish["code"]
    forbidden = await gql.execute("{ users(first: 1) { totalCount } }", token=actor)
    assert forbidden["errors"][0]["message"] == "Your role does not allow this operation."
    assert error_codes(forbidden) == ["FORBIDDEN"]
    # Only that user.
    still_spanish = await mutate(gql, UPDATE_ME, "updateMe", other, firstName=" ")
    assert still_spanish["fieldErrors"][0]["message"] == "Este campo no puede estar vacío."


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Debes iniciar sesión."),
        ("en", "You must sign in."),
        ("en-GB", "You must sign in."),
        ("fr-CA, en;q=0.8, es;q=0.5", "You must sign in."),
        ("es-CO, en;q=0.9", "Debes iniciar sesión."),
        ("de", "Debes iniciar sesión."),
        ("en;q=garbage, es", "Debes iniciar sesión."),
        ("*", "Debes iniciar sesión."),
    ],
)
async def test_accept_language_for_anonymous_requests(gql: GraphQLClient, header: str | None, message: str) -> None:
    headers = {"accept-language": header} if header is not None else None
    result = await gql.execute("{ me { id } }", headers=headers)
    assert result["data"] is None
    assert result["errors"][0]["message"] == message
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_codes_do_not_change_with_language(gql: GraphQLClient, world: World) -> None:
    variables = new_user(email="bad", password="short", role="ADMIN", environmentId=env_id(world.a1))
    spanish = (await gql.data(CREATE_USER, variables, token=world.admin_general))["createUser"]
    await gql.data(UPDATE_SETTINGS, {"input": {"language": "EN"}}, token=world.admin_general)
    english = (await gql.data(CREATE_USER, variables, token=world.admin_general))["createUser"]
    expected = [("email", "INVALID_EMAIL"), ("password", "PASSWORD_TOO_SHORT"), ("environmentId", "MUST_BE_WAREHOUSE")]
    assert field_errors(spanish) == field_errors(english) == expected
    assert [e["message"] for e in spanish["fieldErrors"]] == [
        "Correo electrónico no válido.",
        "La contraseña debe tener al menos 8 bytes.",
        "Un administrador de almacén debe tener como ambiente un almacén.",
    ]
    assert [e["message"] for e in english["fieldErrors"]] == [
        "Invalid e-mail address.",
        "The password must be at least 8 bytes long.",
        "A warehouse administrator's environment must be a warehouse.",
    ]


# ---- users administration: permissions -------------------------------------------------------

NON_ADMIN_ROLES = ["student", "instructor", "supervisor", "admin", "student_b", "admin_b"]


@dataclass
class Operation:
    name: str
    query: str
    variables: Any  # World -> variables
    denied_data: Any = None  # `data` when refused: null, or {field: null} for a nullable field


OPERATIONS = [
    Operation("users", "{ users(first: 5) { totalCount } }", lambda w: None),
    Operation("user", USER, lambda w: {"id": w.student.gid}, {"user": None}),
    Operation("createUser", CREATE_USER, lambda w: new_user(role="ADMIN_GENERAL")),
    Operation("updateUser", UPDATE_USER, lambda w: {"input": {"id": w.student.gid, "role": "ADMIN_GENERAL"}}),
    Operation("deactivateUser", DEACTIVATE, lambda w: {"input": {"id": w.student.gid}}),
    Operation("activateUser", ACTIVATE, lambda w: {"input": {"id": w.student.gid}}),
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
async def test_user_administration_is_admin_general_only(
    gql: GraphQLClient, db: Sessions, world: World, operation: Operation, role: str
) -> None:
    before = await user_count(db)
    result = await gql.execute(operation.query, operation.variables(world), token=world.role(role))
    assert result["data"] == operation.denied_data
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["errors"][0]["message"] == "Tu rol no permite esta operación."
    assert await user_count(db) == before
    student = await load_user(db, world.student.id)
    assert (student.role, student.is_active, student.token_version) == (models.Role.STUDENT, True, 1)
    if operation.query.startswith("mutation"):
        [row] = await audit_rows(db, operation.name)
        assert (row.outcome, row.error_code, row.actor_id) == (
            models.AuditOutcome.DENIED,
            "FORBIDDEN",
            world.role(role).id,
        )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
async def test_user_administration_needs_a_session(
    gql: GraphQLClient, db: Sessions, world: World, operation: Operation
) -> None:
    before = await user_count(db)
    result = await gql.execute(operation.query, operation.variables(world))
    assert result["data"] == operation.denied_data
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert await user_count(db) == before


# ---- createUser ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("STUDENT", "a1"),
        ("STUDENT", None),
        ("INSTRUCTOR", "a2"),
        ("SUPERVISOR", "b1"),
        ("ADMIN", "aw"),
        ("ADMIN", "bw"),
        ("ADMIN_GENERAL", None),
    ],
)
async def test_create_user_with_every_role(
    gql: GraphQLClient, db: Sessions, world: World, role: str, home: str | None
) -> None:
    values = new_user(
        email=" New.Person@Test.LOCAL ",
        role=role,
        phone="300",
        program="ADSO",
        ficha="123",
        **({"environmentId": env_id(getattr(world, home))} if home else {}),
    )
    result = (await gql.data(CREATE_USER, values, token=world.admin_general))["createUser"]
    assert result["__typename"] == "UserPayload", result
    user = result["user"]
    assert (user["email"], user["role"], user["isActive"]) == ("new.person@test.local", role, True)
    assert (user["phone"], user["program"], user["ficha"]) == ("300", "ADSO", "123")
    assert user["environment"] == ({"id": env_id(getattr(world, home))} if home else None)
    # The account works with the given password and has default settings.
    session = await login(gql, "new.person@test.local")
    assert session["__typename"] == "AuthPayload"
    me = (await gql.data(ME, token=session["accessToken"]))["me"]
    assert (me["id"], me["role"]) == (user["id"], role)
    assert (await gql.data(MY_SETTINGS, token=session["accessToken"]))["mySettings"] == DEFAULT_SETTINGS


@pytest.mark.parametrize("home", [None, "a1", "b1"])
async def test_admin_needs_a_warehouse(gql: GraphQLClient, db: Sessions, world: World, home: str | None) -> None:
    before = await user_count(db)
    values = new_user(role="ADMIN", **({"environmentId": env_id(getattr(world, home))} if home else {}))
    result = (await gql.data(CREATE_USER, values, token=world.admin_general))["createUser"]
    assert result["fieldErrors"] == [
        {
            "field": "environmentId",
            "code": "MUST_BE_WAREHOUSE",
            "message": "Un administrador de almacén debe tener como ambiente un almacén.",
        }
    ]
    assert await user_count(db) == before


async def test_create_user_with_unknown_environment(gql: GraphQLClient, db: Sessions, world: World) -> None:
    before = await user_count(db)
    unknown = (
        await gql.data(CREATE_USER, new_user(environmentId=gid("Environment", uuid.uuid4())), token=world.admin_general)
    )["createUser"]
    assert field_errors(unknown) == [("environmentId", "NOT_FOUND")]
    garbage = (await gql.data(CREATE_USER, new_user(environmentId="!!not-an-id"), token=world.admin_general))[
        "createUser"
    ]
    assert field_errors(garbage) == [("environmentId", "INVALID_ID")]
    wrong_type = (await gql.data(CREATE_USER, new_user(environmentId=world.student.gid), token=world.admin_general))[
        "createUser"
    ]
    assert wrong_type["__typename"] == "NotFoundError"
    assert wrong_type["code"] == "NOT_FOUND"
    assert await user_count(db) == before


async def test_create_user_duplicate_email(gql: GraphQLClient, db: Sessions, world: World) -> None:
    before = await user_count(db)
    taken = world.instructor.user.email.upper()
    result = (await gql.data(CREATE_USER, new_user(email=taken), token=world.admin_general))["createUser"]
    assert result["fieldErrors"] == [
        {"field": "email", "code": "EMAIL_TAKEN", "message": "Ya existe una cuenta con este correo."}
    ]
    assert await user_count(db) == before
    [row] = await audit_rows(db, "createUser")
    assert (row.outcome, row.error_code) == (models.AuditOutcome.FAILURE, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"password": "é" * 37}, [("password", "PASSWORD_TOO_LONG")]),
        ({"password": "a" * 7}, [("password", "PASSWORD_TOO_SHORT")]),
        ({"email": "nope"}, [("email", "INVALID_EMAIL")]),
        ({"firstName": " ", "lastName": "x" * 101}, [("firstName", "BLANK"), ("lastName", "TOO_LONG")]),
        ({"phone": "9" * 31}, [("phone", "TOO_LONG")]),
    ],
)
async def test_create_user_validation(
    gql: GraphQLClient, db: Sessions, world: World, overrides: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    before = await user_count(db)
    result = (await gql.data(CREATE_USER, new_user(**overrides), token=world.admin_general))["createUser"]
    assert field_errors(result) == expected
    assert await user_count(db) == before


async def test_create_user_rejects_unknown_role(gql: GraphQLClient, world: World) -> None:
    result = await gql.execute(CREATE_USER, new_user(role="ROOT"), token=world.admin_general)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]


async def test_create_user_audit_row(gql: GraphQLClient, db: Sessions, world: World) -> None:
    result = (
        await gql.data(CREATE_USER, new_user(role="ADMIN", environmentId=env_id(world.aw)), token=world.admin_general)
    )["createUser"]
    [row] = await audit_rows(db, "createUser")
    created = await load_user(db, uuid.UUID(str(_uuid_of(result["user"]["id"]))))
    assert (row.outcome, row.actor_id, row.actor_role) == (
        models.AuditOutcome.SUCCESS,
        world.admin_general.id,
        models.Role.ADMIN_GENERAL,
    )
    assert (row.entity_type, row.entity_id) == ("users", created.id)
    entry = row.changes[0]
    assert (entry["entity"], entry["id"], entry["action"], entry["old"]) == ("users", str(created.id), "create", {})
    assert entry["new"]["email"] == "created@test.local"
    assert entry["new"]["role"] == "ADMIN"
    assert entry["new"]["environment_id"] == str(world.aw.id)
    assert "password_hash" not in entry["new"]
    text = json.dumps(row.changes)
    for secret in ("password", "$2b$", PASSWORD, created.password_hash):
        assert secret not in text


def _uuid_of(global_id: str) -> uuid.UUID:
    from graphql_api.api.core.relay import parse_id

    parsed = parse_id(global_id)
    assert parsed is not None
    assert parsed[0] == "User"
    return parsed[1]


# ---- updateUser ------------------------------------------------------------------------------


async def test_role_change_revokes_the_users_tokens(gql: GraphQLClient, db: Sessions, world: World) -> None:
    email = world.student.user.email
    session = await login(gql, email)
    assert await me_codes(gql, world.student) == []
    result = await mutate(
        gql,
        UPDATE_USER,
        "updateUser",
        world.admin_general,
        id=world.student.gid,
        role="INSTRUCTOR",
        environmentId=env_id(world.a2),
    )
    assert result["user"]["role"] == "INSTRUCTOR"
    assert result["user"]["environment"] == {"id": env_id(world.a2)}
    # The old access tokens are rejected at the next request; refresh tokens are dead.
    assert await me_codes(gql, world.student) == ["UNAUTHENTICATED"]
    assert await me_codes(gql, session["accessToken"]) == ["UNAUTHENTICATED"]
    refreshed = await gql.data(REFRESH, {"t": session["refreshToken"]})
    assert refreshed["refreshToken"]["__typename"] == "InvalidCredentialsError"
    row = await load_user(db, world.student.id)
    assert (row.role, row.environment_id, row.token_version) == (models.Role.INSTRUCTOR, world.a2.id, 2)
    # A new sign-in carries the new role.
    again = await login(gql, email)
    assert (await gql.data(ME, token=again["accessToken"]))["me"]["role"] == "INSTRUCTOR"


async def test_environment_change_alone_revokes_tokens(gql: GraphQLClient, db: Sessions, world: World) -> None:
    result = await mutate(
        gql, UPDATE_USER, "updateUser", world.admin_general, id=world.student.gid, environmentId=env_id(world.b1)
    )
    assert result["user"]["environment"] == {"id": env_id(world.b1)}
    assert await me_codes(gql, world.student) == ["UNAUTHENTICATED"]


async def test_environment_null_clears_the_home(gql: GraphQLClient, db: Sessions, world: World) -> None:
    result = await mutate(gql, UPDATE_USER, "updateUser", world.admin_general, id=world.student.gid, environmentId=None)
    assert result["user"]["environment"] is None
    assert (await load_user(db, world.student.id)).environment_id is None
    assert await me_codes(gql, world.student) == ["UNAUTHENTICATED"]


async def test_profile_change_keeps_tokens_and_omitted_fields(gql: GraphQLClient, db: Sessions, world: World) -> None:
    await mutate(gql, UPDATE_USER, "updateUser", world.admin_general, id=world.student.gid, phone="311", ficha="99")
    result = await mutate(
        gql,
        UPDATE_USER,
        "updateUser",
        world.admin_general,
        id=world.student.gid,
        firstName=" Laura ",
        phone=None,
        role="STUDENT",  # same role: not a change
    )
    user = result["user"]
    assert (user["firstName"], user["lastName"], user["phone"], user["ficha"]) == (
        "Laura",
        world.student.user.last_name,
        None,
        "99",
    )
    assert (user["role"], user["environment"]) == ("STUDENT", {"id": env_id(world.a1)})
    assert await me_codes(gql, world.student) == []
    assert (await load_user(db, world.student.id)).token_version == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"lastName": "  "}, [("lastName", "BLANK")]),
        ({"role": "ADMIN"}, [("environmentId", "MUST_BE_WAREHOUSE")]),
        ({"role": "ADMIN", "environmentId": None}, [("environmentId", "MUST_BE_WAREHOUSE")]),
        ({"environmentId": "garbage"}, [("environmentId", "INVALID_ID")]),
        ({"program": "p" * 101}, [("program", "TOO_LONG")]),
    ],
)
async def test_update_user_validation_changes_nothing(
    gql: GraphQLClient, db: Sessions, world: World, values: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    result = await mutate(gql, UPDATE_USER, "updateUser", world.admin_general, id=world.student.gid, **values)
    assert field_errors(result) == expected
    row = await load_user(db, world.student.id)
    assert (row.role, row.environment_id, row.first_name, row.token_version) == (
        models.Role.STUDENT,
        world.a1.id,
        world.student.user.first_name,
        1,
    )
    assert await me_codes(gql, world.student) == []


@pytest.mark.parametrize("field", ["role", "firstName", "lastName"])
async def test_update_user_null_for_a_required_field_is_refused(
    gql: GraphQLClient, db: Sessions, world: World, field: str
) -> None:
    result = await gql.execute(
        UPDATE_USER, {"input": {"id": world.student.gid, field: None}}, token=world.admin_general
    )
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    row = await load_user(db, world.student.id)
    assert (row.role, row.first_name, row.last_name) == (
        models.Role.STUDENT,
        world.student.user.first_name,
        world.student.user.last_name,
    )


async def test_promote_to_admin_of_a_warehouse(gql: GraphQLClient, world: World) -> None:
    result = await mutate(
        gql,
        UPDATE_USER,
        "updateUser",
        world.admin_general,
        id=world.instructor.gid,
        role="ADMIN",
        environmentId=env_id(world.bw),
    )
    assert (result["user"]["role"], result["user"]["environment"]) == ("ADMIN", {"id": env_id(world.bw)})
    # Moving that admin out of a warehouse is refused.
    moved = await mutate(
        gql, UPDATE_USER, "updateUser", world.admin_general, id=world.instructor.gid, environmentId=env_id(world.a1)
    )
    assert field_errors(moved) == [("environmentId", "MUST_BE_WAREHOUSE")]


async def test_admin_cannot_change_own_role(gql: GraphQLClient, db: Sessions, world: World) -> None:
    me = world.admin_general
    result = await mutate(gql, UPDATE_USER, "updateUser", me, id=me.gid, role="STUDENT")
    assert result["fieldErrors"] == [
        {"field": "role", "code": "CANNOT_CHANGE_OWN", "message": "No puedes cambiar esto en tu propia cuenta."}
    ]
    assert (await load_user(db, me.id)).role is models.Role.ADMIN_GENERAL
    # Editing the own profile is fine and keeps the session.
    renamed = await mutate(gql, UPDATE_USER, "updateUser", me, id=me.gid, firstName="Root", role="ADMIN_GENERAL")
    assert renamed["user"]["firstName"] == "Root"
    assert await me_codes(gql, me) == []


@pytest.mark.parametrize(
    ("make_id", "typename"),
    [
        (lambda w: gid("User", uuid.uuid4()), "NotFoundError"),
        (lambda w: env_id(w.a1), "NotFoundError"),
        (lambda w: "not-base64!", "ValidationError"),
    ],
)
async def test_update_unknown_user(gql: GraphQLClient, world: World, make_id: Any, typename: str) -> None:
    for query, field, extra in (
        (UPDATE_USER, "updateUser", {"firstName": "X"}),
        (DEACTIVATE, "deactivateUser", {}),
        (ACTIVATE, "activateUser", {}),
    ):
        result = await mutate(gql, query, field, world.admin_general, id=make_id(world), **extra)
        assert result["__typename"] == typename, (field, result)
        if typename == "NotFoundError":
            assert (result["code"], result["message"]) == ("NOT_FOUND", "No se encontró el recurso solicitado.")
        else:
            assert field_errors(result) == [("id", "INVALID_ID")]


# ---- deactivate / activate -------------------------------------------------------------------


async def test_deactivate_and_activate(gql: GraphQLClient, db: Sessions, world: World) -> None:
    email = world.student.user.email
    session = await login(gql, email)
    result = await mutate(gql, DEACTIVATE, "deactivateUser", world.admin_general, id=world.student.gid)
    assert (result["__typename"], result["user"]["isActive"]) == ("UserPayload", False)
    # Every token is rejected at the next request; sign-in is refused with the generic answer.
    assert await me_codes(gql, world.student) == ["UNAUTHENTICATED"]
    assert await me_codes(gql, session["accessToken"]) == ["UNAUTHENTICATED"]
    refreshed = await gql.data(REFRESH, {"t": session["refreshToken"]})
    assert refreshed["refreshToken"]["__typename"] == "InvalidCredentialsError"
    assert await login(gql, email) == {
        "__typename": "InvalidCredentialsError",
        "code": "INVALID_CREDENTIALS",
        "message": "Correo o contraseña incorrectos.",
    }

    again = await mutate(gql, DEACTIVATE, "deactivateUser", world.admin_general, id=world.student.gid)
    assert again == {
        "__typename": "ConflictError",
        "code": "CONFLICT",
        "message": "El recurso ya está en ese estado.",
    }

    active = await mutate(gql, ACTIVATE, "activateUser", world.admin_general, id=world.student.gid)
    assert active["user"]["isActive"] is True
    # Reactivation does not resurrect the revoked tokens.
    assert await me_codes(gql, world.student) == ["UNAUTHENTICATED"]
    fresh = await login(gql, email)
    assert await me_codes(gql, fresh["accessToken"]) == []
    twice = await mutate(gql, ACTIVATE, "activateUser", world.admin_general, id=world.student.gid)
    assert twice["__typename"] == "ConflictError"
    outcomes = [(r.outcome, r.error_code) for r in await audit_rows(db, "deactivateUser")]
    assert outcomes == [(models.AuditOutcome.SUCCESS, None), (models.AuditOutcome.FAILURE, "CONFLICT")]


async def test_admin_cannot_deactivate_self(gql: GraphQLClient, db: Sessions, world: World) -> None:
    me = world.admin_general
    result = await mutate(gql, DEACTIVATE, "deactivateUser", me, id=me.gid)
    assert field_errors(result) == [("id", "CANNOT_CHANGE_OWN")]
    assert (await load_user(db, me.id)).is_active is True
    assert await me_codes(gql, me) == []


async def test_deactivated_user_disappears_from_active_filter(gql: GraphQLClient, world: World) -> None:
    await mutate(gql, DEACTIVATE, "deactivateUser", world.admin_general, id=world.instructor.gid)
    inactive = await gql.data(USERS, {"where": {"isActive": False}}, token=world.admin_general)
    assert [e["node"]["id"] for e in inactive["users"]["edges"]] == [world.instructor.gid]
    active = await gql.data(USERS, {"where": {"isActive": True}, "first": 100}, token=world.admin_general)
    assert world.instructor.gid not in {e["node"]["id"] for e in active["users"]["edges"]}


# ---- users list ------------------------------------------------------------------------------


@dataclass
class Directory:
    admin: Actor
    e1: models.Environment
    e2: models.Environment
    people: dict[str, Actor]

    def ids(self, *names: str) -> list[str]:
        return [self.people[name].gid for name in names]


@pytest.fixture
async def directory(factory: Factory, db: Sessions) -> Directory:
    center = await factory.center()
    e1 = await factory.environment(center)
    e2 = await factory.environment(center)
    warehouse = await factory.environment(center, is_warehouse=True)
    admin = await factory.user(models.Role.ADMIN_GENERAL, email="root@test.local", first_name="Root", last_name="Zz")
    specs = [
        ("ana", models.Role.STUDENT, e1, "Ana", "Bravo"),
        ("beto", models.Role.STUDENT, e2, "Beto", "Castro"),
        ("carla", models.Role.INSTRUCTOR, e1, "Carla", "100% Díaz"),
        ("dario", models.Role.SUPERVISOR, e1, "Dario", "Es_pinosa"),
        ("eva", models.Role.ADMIN, warehouse, "Eva", "Fuentes"),
        ("fabio", models.Role.STUDENT, e1, "Fabio", "100x Gil"),
        ("gina", models.Role.STUDENT, e1, "Gina", "Esxpinosa"),
    ]
    people = {}
    for key, role, env, first, last in specs:
        people[key] = await factory.user(role, env, email=f"{key}@test.local", first_name=first, last_name=last)
    async with db.begin() as session:
        user = await session.get(models.User, people["eva"].id)
        assert user is not None
        user.is_active = False
    return Directory(admin, e1, e2, people)


async def list_ids(gql: GraphQLClient, directory: Directory, **variables: Any) -> list[str]:
    data = await gql.data(USERS, {"first": 100, **variables}, token=directory.admin)
    connection = data["users"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["id"] for edge in connection["edges"]]


BY_LAST_NAME = ["carla", "fabio", "ana", "beto", "dario", "gina", "eva"]  # then root ("Zz")


async def test_users_default_order_is_last_name(gql: GraphQLClient, directory: Directory) -> None:
    assert await list_ids(gql, directory) == [*directory.ids(*BY_LAST_NAME), directory.admin.gid]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"roles": ["STUDENT"]}, ["fabio", "ana", "beto", "gina"]),
        ({"roles": ["INSTRUCTOR", "SUPERVISOR"]}, ["carla", "dario"]),
        ({"roles": []}, ["carla", "fabio", "ana", "beto", "dario", "gina", "eva", "@root"]),
        ({"isActive": False}, ["eva"]),
        ({"search": "100%"}, ["carla"]),
        ({"search": "s_p"}, ["dario"]),
        ({"search": "100"}, ["carla", "fabio"]),
        ({"search": "  BRAVO "}, ["ana"]),
        ({"search": "beto@test"}, ["beto"]),
        ({"search": "%"}, ["carla"]),
        ({"search": "_"}, ["dario"]),
        ({"search": "\\"}, []),
        ({"search": "nobody-matches"}, []),
        ({"roles": ["STUDENT"], "search": "PINOSA"}, ["gina"]),
    ],
)
async def test_users_where(
    gql: GraphQLClient, directory: Directory, where: dict[str, Any], expected: list[str]
) -> None:
    ids = [directory.admin.gid if name == "@root" else directory.people[name].gid for name in expected]
    assert await list_ids(gql, directory, where=where) == ids


async def test_users_where_environment(gql: GraphQLClient, directory: Directory) -> None:
    e1, e2 = env_id(directory.e1), env_id(directory.e2)
    assert await list_ids(gql, directory, where={"environmentIds": [e1]}) == directory.ids(
        "carla", "fabio", "ana", "dario", "gina"
    )
    assert await list_ids(gql, directory, where={"environmentIds": [e1, e2], "roles": ["STUDENT"]}) == (
        directory.ids("fabio", "ana", "beto", "gina")
    )
    # IDs of another type or garbage narrow to nothing; they never widen the list.
    assert await list_ids(gql, directory, where={"environmentIds": [directory.admin.gid]}) == []
    assert await list_ids(gql, directory, where={"environmentIds": ["garbage"]}) == []
    assert await list_ids(gql, directory, where={"environmentIds": []}) == []


async def test_users_order_by(gql: GraphQLClient, directory: Directory) -> None:
    by_email_desc = await list_ids(gql, directory, orderBy={"field": "EMAIL", "direction": "DESC"})
    emails = sorted([f"{name}@test.local" for name in directory.people] + ["root@test.local"], reverse=True)
    everyone = {
        **{f"{k}@test.local": v.gid for k, v in directory.people.items()},
        "root@test.local": directory.admin.gid,
    }
    assert by_email_desc == [everyone[email] for email in emails]
    by_created = await list_ids(gql, directory, orderBy={"field": "CREATED_AT"})
    assert by_created == [directory.admin.gid, *directory.ids("ana", "beto", "carla", "dario", "eva", "fabio", "gina")]
    by_last_desc = await list_ids(gql, directory, orderBy={"field": "LAST_NAME", "direction": "DESC"})
    assert by_last_desc == [directory.admin.gid, *reversed(directory.ids(*BY_LAST_NAME))]


async def test_users_pagination_forward_and_backward(gql: GraphQLClient, directory: Directory) -> None:
    everyone = [*directory.ids(*BY_LAST_NAME), directory.admin.gid]
    seen: list[str] = []
    after = None
    pages = []
    while True:
        data = (await gql.data(USERS, {"first": 3, "after": after}, token=directory.admin))["users"]
        assert data["totalCount"] == 8
        pages.append(data["pageInfo"])
        seen += [edge["node"]["id"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == everyone
    assert [(p["hasNextPage"], p["hasPreviousPage"]) for p in pages] == [(True, False), (True, True), (False, True)]

    last = (await gql.data(USERS, {"last": 3}, token=directory.admin))["users"]
    assert [edge["node"]["id"] for edge in last["edges"]] == everyone[-3:]
    assert (last["pageInfo"]["hasPreviousPage"], last["pageInfo"]["hasNextPage"]) == (True, False)
    before = (await gql.data(USERS, {"last": 3, "before": last["pageInfo"]["startCursor"]}, token=directory.admin))[
        "users"
    ]
    assert [edge["node"]["id"] for edge in before["edges"]] == everyone[-6:-3]
    assert before["pageInfo"]["hasNextPage"] is True
    assert before["edges"][0]["cursor"] == before["pageInfo"]["startCursor"]


async def test_users_default_page_size(gql: GraphQLClient, factory: Factory) -> None:
    admin = await factory.user(models.Role.ADMIN_GENERAL)
    for _ in range(21):
        await factory.user(models.Role.STUDENT)
    data = (await gql.data(USERS, {}, token=admin))["users"]
    assert len(data["edges"]) == 20
    assert data["totalCount"] == 22
    assert data["pageInfo"]["hasNextPage"] is True
    zero = (await gql.data(USERS, {"first": 0}, token=admin))["users"]
    assert (zero["edges"], zero["totalCount"]) == ([], 22)


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 101},
        {"first": -1},
        {"last": 101},
        {"first": 2, "last": 2},
        {"first": 2, "after": "not-a-cursor"},
        {"first": 2, "after": "W10="},
        {"last": 2, "after": "x"},
        {"first": 2, "before": "x"},
    ],
)
async def test_users_bad_page_arguments(gql: GraphQLClient, world: World, variables: dict[str, Any]) -> None:
    result = await gql.execute(USERS, variables, token=world.admin_general)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]


async def test_cursor_of_another_ordering_is_refused(gql: GraphQLClient, world: World) -> None:
    by_email = (await gql.data(USERS, {"first": 1, "orderBy": {"field": "EMAIL"}}, token=world.admin_general))["users"]
    result = await gql.execute(
        USERS, {"first": 1, "after": by_email["pageInfo"]["endCursor"]}, token=world.admin_general
    )
    assert error_codes(result) == ["BAD_REQUEST"]


async def test_user_by_id(gql: GraphQLClient, world: World) -> None:
    data = await gql.data(USER, {"id": world.student_b.gid}, token=world.admin_general)
    assert data["user"] == {"id": world.student_b.gid, "email": world.student_b.user.email, "role": "STUDENT"}
    for missing in (gid("User", uuid.uuid4()), env_id(world.a1), "garbage", ""):
        assert (await gql.data(USER, {"id": missing}, token=world.admin_general))["user"] is None, missing
