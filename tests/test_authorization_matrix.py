"""Authorization matrix (BOLA / BFLA), generated from the schema.

Which fields are exercised is read from the built schema, not listed by hand:

* every root Query field with an `ID`/`[ID!]` argument, or an input object holding one;
* every root Mutation field (a mutation without an entry in `MUTATIONS` fails the run);

and each is called by every role of world A (plus an anonymous caller) with objects that are
out of that caller's scope: world B's objects, or, for ADMIN_GENERAL who sees everything,
objects that do not exist. The answer must look exactly like a missing object (null, an empty
list, a `NotFoundError` member; or FORBIDDEN / UNAUTHENTICATED when the role may not use the
field at all, which reveals nothing about the object), and the business tables must be
byte-for-byte unchanged (audit_logs and login_throttle legitimately record the attempt).
The same fields are then called with in-scope objects and must succeed for the roles that
may act. Who may act is read from each field's @isAuthenticated / @hasRole directive.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    ObjectTypeDefinitionNode,
    get_named_type,
    parse,
)
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.api.core.relay import parse_id
from graphql_api.api.schema import build_schema, printed_schema
from graphql_api.auth.scope import Principal
from graphql_api.db import models
from graphql_api.services import items as item_service
from graphql_api.services import organization, users
from tests.conftest import PASSWORD, Actor, Factory, GraphQLClient, World, error_codes, gid, without_cost

SCHEMA = build_schema()._schema
QUERY_TYPE = SCHEMA.query_type
MUTATION_TYPE = SCHEMA.mutation_type
assert QUERY_TYPE is not None
assert MUTATION_TYPE is not None

ROLES = ("student", "instructor", "supervisor", "admin", "admin_general")
ANONYMOUS = "anonymous"
CALLERS = (*ROLES, ANONYMOUS)
ROLE_OF = {
    "student": "STUDENT",
    "instructor": "INSTRUCTOR",
    "supervisor": "SUPERVISOR",
    "admin": "ADMIN",
    "admin_general": "ADMIN_GENERAL",
}
NODE_TYPES = ("Center", "Environment", "User", "InventoryItem", "InventoryMovement", "AuditLogEntry")
# ID arguments and input fields named after the object they point to.
ID_NAME_TYPES = {
    "centerId": "Center",
    "centerIds": "Center",
    "environmentId": "Environment",
    "environmentIds": "Environment",
    "userId": "User",
    "userIds": "User",
    "actorIds": "User",
    "itemId": "InventoryItem",
    "itemIds": "InventoryItem",
}
PUBLIC = "public"
AUTHENTICATED = "authenticated"


# ---- reading the schema ------------------------------------------------------------------


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _is_id(type_: Any) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name == "ID"


def id_slots(fields: dict[str, Any], prefix: tuple[str, ...] = (), seen: frozenset[str] = frozenset()) -> list[tuple]:
    """Paths to every ID inside arguments / input fields, recursing into input objects."""
    found: list[tuple[str, ...]] = []
    for name, arg in fields.items():
        named = get_named_type(arg.type)
        if _is_id(arg.type):
            found.append((*prefix, name))
        elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            found.extend(id_slots(named.fields, (*prefix, name), seen | {named.name}))
    return found


def _directives() -> dict[tuple[str, str], Any]:
    """(root, field) -> PUBLIC, AUTHENTICATED or the frozenset of role names, from the SDL."""
    out: dict[tuple[str, str], Any] = {}
    for definition in parse(printed_schema()).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode) or definition.name.value not in {"Query", "Mutation"}:
            continue
        for field_node in definition.fields or ():
            access: Any = PUBLIC
            for directive in field_node.directives or ():
                if directive.name.value == "isAuthenticated":
                    access = AUTHENTICATED
                elif directive.name.value == "hasRole":
                    values = directive.arguments[0].value.values  # type: ignore[attr-defined]
                    access = frozenset(v.value for v in values)
            out[(definition.name.value, field_node.name.value)] = access
    return out


ACCESS = _directives()


# Who may call what, written from SPEC.md section 4 (not read from the code): the matrix
# decides allow/deny from this table, and a test checks the declared directives agree, so a
# loosened directive fails both ways.
AG_ONLY = frozenset({"ADMIN_GENERAL"})
ITEM_MANAGERS = frozenset({"SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
SPEC_QUERY_ACCESS = {
    "node": AUTHENTICATED,
    "nodes": AUTHENTICATED,
    "center": AUTHENTICATED,
    "environment": AUTHENTICATED,
    "environments": AUTHENTICATED,
    "item": AUTHENTICATED,
    "items": AUTHENTICATED,
    "user": AG_ONLY,
    "users": AG_ONLY,
    "auditLog": AG_ONLY,
    "auditLogs": AG_ONLY,
}


def spec_access(root: str, field_name: str) -> Any:
    if root == "Mutation":
        return _case(field_name).access
    if field_name not in SPEC_QUERY_ACCESS:
        pytest.fail(f"Query.{field_name} takes an ID but has no entry in SPEC_QUERY_ACCESS")
    return SPEC_QUERY_ACCESS[field_name]


def may_call(root: str, field_name: str, caller: str) -> bool:
    access = spec_access(root, field_name)
    if access == PUBLIC:
        return True
    if caller == ANONYMOUS:
        return False
    return access == AUTHENTICATED or ROLE_OF[caller] in access


def denial_code(caller: str) -> str:
    return "UNAUTHENTICATED" if caller == ANONYMOUS else "FORBIDDEN"


QUERY_FIELDS_WITH_IDS = sorted(name for name, f in QUERY_TYPE.fields.items() if id_slots(f.args))
MUTATION_FIELDS = sorted(MUTATION_TYPE.fields)


def slot_type(field_name: str, graphql_field: GraphQLField, path: tuple[str, ...]) -> str:
    """The Node type an ID slot of a query field points to."""
    if len(path) == 1 and path[0] in {"id", "ids"}:
        return str(_unwrap(graphql_field.type).name)
    if path[-1] in ID_NAME_TYPES:
        return ID_NAME_TYPES[path[-1]]
    pytest.fail(f"{field_name}: cannot tell which type the ID at {'.'.join(path)} names; extend ID_NAME_TYPES")


def _selection(type_: Any, depth: int = 0) -> str:
    """A selection for a result: __typename, ids of nodes, error codes, scalars of payloads."""
    named = _unwrap(type_)
    if isinstance(named, GraphQLUnionType):
        parts = ["__typename"]
        if any(any(i.name == "Error" for i in member.interfaces) for member in named.types):
            parts.append("... on Error { code message }")
        for member in named.types:
            if member.name == "ValidationError":
                parts.append("... on ValidationError { fieldErrors { field code } }")
            elif not any(i.name == "Error" for i in member.interfaces):
                parts.append(f"... on {member.name} {_selection(member, depth + 1)}")
        return "{ " + " ".join(parts) + " }"
    if isinstance(named, GraphQLInterfaceType) and named.name == "Node":
        return "{ __typename id }"
    assert isinstance(named, GraphQLObjectType), named
    fields = named.fields
    if "edges" in fields and "totalCount" in fields:
        return "{ totalCount edges { node { __typename id } } }"
    if any(i.name == "Node" for i in named.interfaces):
        return "{ __typename id }"
    parts = ["__typename"]
    for name, sub in fields.items():
        sub_named = _unwrap(sub.type)
        if isinstance(sub_named, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif depth < 2:
            parts.append(f"{name} {_selection(sub.type, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


def query_document(field_name: str, arguments: dict[str, Any]) -> str:
    graphql_field = QUERY_TYPE.fields[field_name]
    declared = ", ".join(f"${name}: {graphql_field.args[name].type}" for name in arguments)
    passed = ", ".join(f"{name}: ${name}" for name in arguments)
    header = f"query Q({declared})" if declared else "query Q"
    call = f"{field_name}({passed})" if passed else field_name
    return f"{header} {{ result: {call} {_selection(graphql_field.type)} }}"


def mutation_document(field_name: str) -> str:
    graphql_field = MUTATION_TYPE.fields[field_name]
    assert list(graphql_field.args) == ["input"], f"{field_name}: mutations take exactly one `input` argument"
    input_type = graphql_field.args["input"].type
    return (
        f"mutation M($input: {input_type}) {{ result: {field_name}(input: $input) {_selection(graphql_field.type)} }}"
    )


def query_arguments(field_name: str, slot_values: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """Variables that put `slot_values` at their ID paths; other input fields keep defaults."""
    graphql_field = QUERY_TYPE.fields[field_name]
    variables: dict[str, Any] = {}
    for path, value in slot_values.items():
        arg = graphql_field.args[path[0]]
        if len(path) == 1:
            variables[path[0]] = value
            continue
        container = variables.setdefault(path[0], {})
        input_type = get_named_type(arg.type)
        for step in path[1:-1]:
            container = container.setdefault(step, {})
            input_type = get_named_type(input_type.fields[step].type)  # type: ignore[union-attr]
        container[path[-1]] = value
    for name, arg in graphql_field.args.items():
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is None and name not in variables:
            pytest.fail(f"{field_name}: required argument {name} has no value; teach the matrix about it")
    return variables


# ---- the scene: world A and B plus history -----------------------------------------------


@dataclass
class Scene:
    world: World
    gql: GraphQLClient
    db: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    movements: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    audit_entry_id: uuid.UUID | None = None
    student_b_refresh: str = ""
    moved_user: uuid.UUID | None = None  # see `nested_scene`

    def actor(self, caller: str) -> Actor | None:
        return None if caller == ANONYMOUS else self.world.role(caller)

    def own_id(self, caller: str) -> str:
        return str(self.world.role(caller).id)

    # world B objects (out of scope for every role of world A)
    def b_objects(self, type_name: str) -> list[uuid.UUID]:
        w = self.world
        b_items = [i.id for env in ("b1", "bw") for i in w.items[env]]
        return {
            "Center": [w.center_b.id],
            "Environment": [w.b1.id, w.bw.id],
            "User": [w.student_b.id, w.admin_b.id],
            "InventoryItem": b_items,
            "InventoryMovement": [m for i in b_items for m in self.movements[i]],
            "AuditLogEntry": [self.audit_entry_id] if self.audit_entry_id else [],
        }[type_name]

    def out_of_scope(self, type_name: str, caller: str) -> list[str]:
        """World B objects for world A callers; for ADMIN_GENERAL (who sees all) missing ones."""
        if caller == "admin_general":
            return [gid(type_name, uuid.uuid4())]
        objects = self.b_objects(type_name)
        assert objects, f"no world B object of type {type_name}"
        return [gid(type_name, o) for o in objects]

    def in_scope_environment(self, caller: str) -> models.Environment:
        w = self.world
        return {
            "student": w.a1,
            "instructor": w.aw,  # a warehouse of the instructor's center
            "supervisor": w.a2,  # another room of the supervisor's center
            "admin": w.aw,
            "admin_general": w.b1,
            ANONYMOUS: w.a1,
        }[caller]

    def in_scope(self, type_name: str, caller: str) -> list[str]:
        """Objects the caller may see (empty when it can see none of that type)."""
        if caller == ANONYMOUS:
            return []
        w = self.world
        env = self.in_scope_environment(caller)
        env_items = [i.id for i in w.items[self.env_name(env)]]
        user = {
            "student": w.student,
            "instructor": w.admin,  # homed in aw, a warehouse of the instructor's center
            "supervisor": w.student,
            "admin": w.admin,
            "admin_general": w.student_b,
        }[caller]
        ids = {
            "Center": [w.center_b.id if caller == "admin_general" else w.center_a.id],
            "Environment": [env.id],
            "User": [user.id],
            "InventoryItem": env_items,
            "InventoryMovement": [m for i in env_items for m in self.movements[i]],
            "AuditLogEntry": [self.audit_entry_id] if caller == "admin_general" and self.audit_entry_id else [],
        }[type_name]
        return [gid(type_name, i) for i in ids]

    def env_name(self, env: models.Environment) -> str:
        for name in ("a1", "a2", "aw", "b1", "bw"):
            if getattr(self.world, name).id == env.id:
                return name
        raise AssertionError(env)

    def item(self, caller: str) -> models.InventoryItem:
        """The group item (quantity 10) of the caller's in-scope environment."""
        return self.world.items[self.env_name(self.in_scope_environment(caller))][1]


async def _login(gql: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    data = await gql.data(
        "mutation L($input: LoginInput!) { login(input: $input) { __typename"
        " ... on AuthPayload { accessToken refreshToken user { id } } } }",
        {"input": {"email": email, "password": password}},
    )
    assert data["login"]["__typename"] == "AuthPayload", data
    result: dict[str, Any] = data["login"]
    return result


@pytest.fixture
async def scene(world: World, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> Scene:
    s = Scene(world=world, gql=gql, db=db, engine=engine)
    async with db() as session:
        rows = (await session.execute(select(models.InventoryMovement.item_id, models.InventoryMovement.id))).all()
    for item_id, movement_id in rows:
        s.movements.setdefault(item_id, []).append(movement_id)
    # A session of world B's student: a refresh token to try to revoke, and an audit entry.
    s.student_b_refresh = (await _login(gql, world.student_b.user.email))["refreshToken"]
    async with db() as session:
        s.audit_entry_id = await session.scalar(
            select(models.AuditLog.id).where(models.AuditLog.actor_id == world.student_b.id)
        )
    assert s.audit_entry_id is not None
    return s


# ---- database snapshots ------------------------------------------------------------------

# table -> (primary key column, column naming the user who owns the row, or None)
SNAPSHOT_TABLES = {
    "users": ("id", "id"),
    "user_settings": ("user_id", "user_id"),
    "refresh_tokens": ("id", "user_id"),
    "centers": ("id", None),
    "environments": ("id", None),
    "inventory_items": ("id", None),
    "inventory_movements": ("id", None),
}


async def snapshot(engine: AsyncEngine) -> dict[str, dict[str, tuple[str | None, str]]]:
    """table -> {primary key: (owner user id, md5 of the whole row)}."""
    out: dict[str, dict[str, tuple[str | None, str]]] = {}
    async with engine.connect() as connection:
        for table, (pk, owner) in SNAPSHOT_TABLES.items():
            owner_sql = f"t.{owner}::text" if owner else "NULL"
            rows = await connection.execute(text(f"SELECT t.{pk}::text, {owner_sql}, md5(t::text) FROM {table} t"))
            out[table] = {row[0]: (row[1], row[2]) for row in rows}
    return out


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(table, primary key, owner) of every row added, removed or changed."""
    changed: list[tuple[str, str, str | None]] = []
    for table in SNAPSHOT_TABLES:
        old, new = before[table], after[table]
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                owner = (new.get(key) or old.get(key) or (None, ""))[0]
                changed.append((table, key, owner))
    return changed


# ---- expectations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """An expected mutation result: a union member (and for ValidationError its field codes)."""

    typename: str
    field_errors: tuple[tuple[str, str], ...] = ()


NOT_FOUND = Outcome("NotFoundError")


def check_outcome(result: dict[str, Any], expected: Outcome, context: str) -> None:
    assert not result.get("errors"), f"{context}: {result}"
    value = result["data"]["result"]
    assert value["__typename"] == expected.typename, f"{context}: {value}"
    if expected.typename == "NotFoundError":
        assert value["code"] == "NOT_FOUND"
    if expected.typename == "ValidationError":
        got = tuple((e["field"], e["code"]) for e in value["fieldErrors"])
        assert got == expected.field_errors, f"{context}: {value}"


def check_denied(result: dict[str, Any], caller: str, context: str) -> None:
    # Non-null fields null the whole `data`; nullable ones are null themselves.
    assert result["data"] in (None, {"result": None}), f"{context}: {result}"
    assert error_codes(result) == [denial_code(caller)], f"{context}: {result}"


async def for_each_caller(check: Callable[[str], Awaitable[None]], callers: tuple[str, ...] = CALLERS) -> None:
    """Run `check` for every caller and report every failing caller, not just the first."""
    failures: list[str] = []
    for caller in callers:
        try:
            await check(caller)
        except AssertionError as error:
            failures.append(f"[{caller}] {error}")
    assert not failures, "\n\n".join(failures)


# ---- mutation table ----------------------------------------------------------------------

Builder = Callable[[Scene, str, str | None], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class MutationCase:
    """How to call one mutation in the matrix.

    target/slot: the Node type and input field of the object the mutation acts on (None for
        mutations acting on the caller only, or creating from scratch).
    extra_slots: other ID fields of the input, by type (each tried with a missing object).
    attack: input that names an out-of-scope object (`target_id`) or, without a target, that
        tries to reach another user's data.
    out_of_scope: what an allowed caller gets for the attack.
    in_scope: input that the caller may legitimately send (objects in scope).
    access: who may call it per SPEC.md: PUBLIC, AUTHENTICATED or a set of role names.
    success: the payload type of a successful call.
    self_only: a successful call may change the caller's own rows only.
    """

    access: Any
    attack: Builder
    out_of_scope: Outcome
    in_scope: Builder
    success: str
    target: str | None = None
    slot: str | None = None
    extra_slots: dict[str, str] = field(default_factory=dict)
    self_only: bool = False


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}".upper()


def _static(values: dict[str, Any]) -> Builder:
    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        return dict(values)

    return build


def _with_target(slot: str, **values: Any) -> Builder:
    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        return {slot: target, **values}

    return build


def _user_fields() -> dict[str, Any]:
    return {
        "email": f"{uuid.uuid4().hex[:10]}@test.local",
        "password": PASSWORD,
        "role": "STUDENT",
        "firstName": "New",
        "lastName": "Person",
    }


async def _system_principal(scene: Scene) -> Principal:
    u = scene.world.admin_general.user
    return Principal(u.id, u.role, None, None, "es", u.token_version)


def _in_scope_of(type_name: str, slot: str, prepare: str | None = None, **values: Any) -> Builder:
    """Input naming the caller's in-scope object of `type_name` (deactivated first if asked)."""

    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        w = scene.world
        if type_name == "InventoryItem":
            object_id = scene.item(caller).id
        elif type_name == "Environment":
            object_id = scene.in_scope_environment(caller).id
        elif type_name == "Center":
            object_id = w.center_b.id
        else:
            object_id = w.student_b.id
        if prepare == "deactivate":
            model = {"Center": models.Center, "Environment": models.Environment, "User": models.User}[type_name]
            async with scene.db.begin() as session:
                row = await session.get(model, object_id)
                assert row is not None
                if row.is_active:  # several callers share the object; deactivate it once
                    if type_name == "Center":
                        await organization.set_center_active(session, object_id, False)
                    elif type_name == "Environment":
                        await organization.set_environment_active(session, object_id, False)
                    else:
                        await users.set_active(session, await _system_principal(scene), object_id, active=False)
        return {slot: gid(type_name, object_id), **values}

    return build


async def _register_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": scene.world.student_b.user.email, "password": PASSWORD, "firstName": "Eve", "lastName": "B"}


async def _register_ok(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": f"new-{caller}@test.local", "password": PASSWORD, "firstName": "New", "lastName": "Student"}


async def _login_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    # Two accounts of world B in turn: five failures on one account would lock it.
    account = scene.world.student_b if CALLERS.index(caller) % 2 else scene.world.admin_b
    return {"email": account.user.email, "password": "Wrong-Password-1"}


def _own_user(scene: Scene, caller: str) -> models.User:
    return scene.world.role("student" if caller == ANONYMOUS else caller).user


async def _login_ok(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"email": _own_user(scene, caller).email, "password": PASSWORD}


async def _refresh_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"refreshToken": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode()}


async def _own_refresh_token(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return {"refreshToken": (await _login(scene.gql, _own_user(scene, caller).email))["refreshToken"]}


async def _logout_attack(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    # World B's student's live refresh token: logging it out must not touch that session.
    return {"refreshToken": scene.student_b_refresh}


MUTATIONS: dict[str, MutationCase] = {
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
        attack=_static({"firstName": "Changed", "phone": "555"}),
        out_of_scope=Outcome("MePayload"),
        in_scope=_static({"firstName": "Changed"}),
        success="MePayload",
        self_only=True,
    ),
    "changePassword": MutationCase(
        access=AUTHENTICATED,
        attack=_static({"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-7"}),
        out_of_scope=Outcome("AuthPayload"),
        in_scope=_static({"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-7"}),
        success="AuthPayload",
        self_only=True,
    ),
    "updateMySettings": MutationCase(
        access=AUTHENTICATED,
        attack=_static({"theme": "DARK", "language": "EN"}),
        out_of_scope=Outcome("SettingsPayload"),
        in_scope=_static({"theme": "DARK"}),
        success="SettingsPayload",
        self_only=True,
    ),
    # -- users (ADMIN_GENERAL) ------------------------------------------------------------
    "createUser": MutationCase(
        access=AG_ONLY,
        target="Environment",
        slot="environmentId",
        attack=lambda s, c, t: _with_target("environmentId", **_user_fields())(s, c, t),
        out_of_scope=Outcome("ValidationError", (("environmentId", "NOT_FOUND"),)),
        in_scope=lambda s, c, t: _in_scope_of("Environment", "environmentId", **_user_fields())(s, c, t),
        success="UserPayload",
    ),
    "updateUser": MutationCase(
        access=AG_ONLY,
        target="User",
        slot="id",
        extra_slots={"environmentId": "Environment"},
        attack=_with_target("id", firstName="Hijacked"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("User", "id", firstName="Renamed"),
        success="UserPayload",
    ),
    "deactivateUser": MutationCase(
        access=AG_ONLY,
        target="User",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("User", "id"),
        success="UserPayload",
    ),
    "activateUser": MutationCase(
        access=AG_ONLY,
        target="User",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("User", "id", prepare="deactivate"),
        success="UserPayload",
    ),
    # -- centers and environments (ADMIN_GENERAL) -----------------------------------------
    "createCenter": MutationCase(
        access=AG_ONLY,
        # Reusing world B's code must not overwrite or reveal more than "taken".
        attack=_static({"name": "Shadow", "code": "CB", "location": "X"}),
        out_of_scope=Outcome("ValidationError", (("code", "CODE_TAKEN"),)),
        in_scope=lambda s, c, t: _static({"name": "New", "code": _unique("NC"), "location": "X"})(s, c, t),
        success="CenterPayload",
    ),
    "updateCenter": MutationCase(
        access=AG_ONLY,
        target="Center",
        slot="id",
        attack=_with_target("id", name="Hijacked"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Center", "id", name="Renamed"),
        success="CenterPayload",
    ),
    "deactivateCenter": MutationCase(
        access=AG_ONLY,
        target="Center",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Center", "id"),
        success="CenterPayload",
    ),
    "activateCenter": MutationCase(
        access=AG_ONLY,
        target="Center",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Center", "id", prepare="deactivate"),
        success="CenterPayload",
    ),
    "createEnvironment": MutationCase(
        access=AG_ONLY,
        target="Center",
        slot="centerId",
        attack=lambda s, c, t: _with_target("centerId", name="Shadow", code=_unique("SE"), location="X")(s, c, t),
        out_of_scope=Outcome("ValidationError", (("centerId", "NOT_FOUND"),)),
        in_scope=lambda s, c, t: _in_scope_of("Center", "centerId", name="New", code=_unique("NE"), location="X")(
            s, c, t
        ),
        success="EnvironmentPayload",
    ),
    "updateEnvironment": MutationCase(
        access=AG_ONLY,
        target="Environment",
        slot="id",
        extra_slots={"centerId": "Center"},
        attack=_with_target("id", name="Hijacked"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Environment", "id", name="Renamed"),
        success="EnvironmentPayload",
    ),
    "deactivateEnvironment": MutationCase(
        access=AG_ONLY,
        target="Environment",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Environment", "id"),
        success="EnvironmentPayload",
    ),
    "activateEnvironment": MutationCase(
        access=AG_ONLY,
        target="Environment",
        slot="id",
        attack=_with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("Environment", "id", prepare="deactivate"),
        success="EnvironmentPayload",
    ),
    # -- items (SUPERVISOR in scope, ADMIN own warehouse, ADMIN_GENERAL) ------------------
    "createItem": MutationCase(
        access=ITEM_MANAGERS,
        target="Environment",
        slot="environmentId",
        attack=lambda s, c, t: _with_target(
            "environmentId", name="Planted", internalCode=_unique("PL-"), category="COMPUTER"
        )(s, c, t),
        out_of_scope=NOT_FOUND,
        in_scope=lambda s, c, t: _in_scope_of(
            "Environment", "environmentId", name="New", internalCode=_unique("NI-"), category="COMPUTER"
        )(s, c, t),
        success="ItemPayload",
    ),
    "updateItem": MutationCase(
        access=ITEM_MANAGERS,
        target="InventoryItem",
        slot="id",
        attack=_with_target("id", name="Hijacked"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("InventoryItem", "id", name="Renamed"),
        success="ItemPayload",
    ),
    "retireItem": MutationCase(
        access=ITEM_MANAGERS,
        target="InventoryItem",
        slot="id",
        attack=_with_target("id", note="gone"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("InventoryItem", "id", note="old"),
        success="ItemPayload",
    ),
    "adjustItemStock": MutationCase(
        access=ITEM_MANAGERS,
        target="InventoryItem",
        slot="itemId",
        attack=_with_target("itemId", expectedQuantity=10, delta={"quantity": -5}, reason="LOSS"),
        out_of_scope=NOT_FOUND,
        in_scope=_in_scope_of("InventoryItem", "itemId", expectedQuantity=10, delta={"quantity": 1}, reason="RESTOCK"),
        success="AdjustItemStockPayload",
    ),
}


def _case(name: str) -> MutationCase:
    case = MUTATIONS.get(name)
    if case is None:
        pytest.fail(f"mutation {name} has no entry in MUTATIONS: add one so the matrix covers it")
    return case


def _input_id_fields(name: str) -> set[str]:
    return {".".join(path[1:]) for path in id_slots(MUTATION_TYPE.fields[name].args)}


# ---- structure of the generated matrix ---------------------------------------------------


def test_generated_field_lists_are_the_real_schema() -> None:
    # Guards against a vacuous matrix: the generator must find the known fields.
    assert {"node", "nodes", "item", "items", "center", "environment", "environments", "user", "users"} <= set(
        QUERY_FIELDS_WITH_IDS
    )
    assert {"auditLog", "auditLogs"} <= set(QUERY_FIELDS_WITH_IDS)
    assert "me" not in QUERY_FIELDS_WITH_IDS
    # Every Node type of the schema is tried through node(id:)/nodes(ids:).
    node_interface = SCHEMA.get_type("Node")
    assert isinstance(node_interface, GraphQLInterfaceType)
    assert {t.name for t in SCHEMA.get_possible_types(node_interface)} == set(NODE_TYPES)
    assert {"createItem", "adjustItemStock", "login", "updateUser"} <= set(MUTATION_FIELDS)
    assert set(ACCESS) == {("Query", n) for n in QUERY_TYPE.fields} | {("Mutation", n) for n in MUTATION_FIELDS}


@pytest.mark.parametrize(
    "key",
    [("Query", n) for n in QUERY_FIELDS_WITH_IDS] + [("Mutation", n) for n in MUTATION_FIELDS],
    ids=lambda k: f"{k[0]}.{k[1]}",
)
def test_declared_directive_matches_the_spec(key: tuple[str, str]) -> None:
    # BFLA: the permission on the field is exactly the one SPEC.md gives the operation.
    assert ACCESS[key] == spec_access(*key)


def test_every_mutation_has_a_matrix_entry() -> None:
    missing = sorted(set(MUTATION_FIELDS) - set(MUTATIONS))
    stale = sorted(set(MUTATIONS) - set(MUTATION_FIELDS))
    assert missing == [], f"mutations without an authorization-matrix entry: {missing}"
    assert stale == [], f"entries for mutations that no longer exist: {stale}"


@pytest.mark.parametrize("name", MUTATION_FIELDS)
def test_mutation_entry_names_every_id_of_its_input(name: str) -> None:
    # A new ID field in an input (an object reference) must be covered by the matrix.
    case = _case(name)
    declared = ({case.slot} if case.slot else set()) | set(case.extra_slots)
    assert _input_id_fields(name) == declared
    assert (case.target is None) == (case.slot is None)
    if case.self_only or case.target is None:
        assert case.slot is None


@pytest.mark.parametrize("name", QUERY_FIELDS_WITH_IDS)
def test_query_id_slots_name_known_types(name: str) -> None:
    graphql_field = QUERY_TYPE.fields[name]
    for path in id_slots(graphql_field.args):
        assert slot_type(name, graphql_field, path) in (*NODE_TYPES, "Node")


# ---- queries: out of scope ---------------------------------------------------------------


async def _run_query(scene: Scene, field_name: str, slot_values: dict[tuple, Any], caller: str) -> dict[str, Any]:
    arguments = query_arguments(field_name, slot_values)
    return await scene.gql.execute(query_document(field_name, arguments), arguments, token=scene.actor(caller))


def _query_targets(field_name: str, pick: Callable[[str], list[str]]) -> list[dict]:
    """One {slot path: value} per call: each ID slot filled with the picked ids of its type."""
    graphql_field = QUERY_TYPE.fields[field_name]
    calls: list[dict[tuple, Any]] = []
    for path in id_slots(graphql_field.args):
        type_name = slot_type(field_name, graphql_field, path)
        types = NODE_TYPES if type_name == "Node" else (type_name,)
        is_list = isinstance(_strip_non_null(_arg_type(graphql_field, path)), GraphQLList)
        for t in types:
            ids = pick(t)
            if not ids:
                continue
            if is_list:
                calls.append({path: ids})
            else:
                calls.extend({path: one} for one in ids)
    return calls


def _strip_non_null(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _arg_type(graphql_field: GraphQLField, path: tuple[str, ...]) -> Any:
    type_: Any = graphql_field.args[path[0]].type
    for step in path[1:]:
        type_ = get_named_type(type_).fields[step].type
    return type_


def _assert_looks_missing(field_name: str, result: dict[str, Any], context: str) -> None:
    assert not result.get("errors"), f"{context}: {result}"
    value = result["data"]["result"]
    return_type = _unwrap(QUERY_TYPE.fields[field_name].type)
    if isinstance(_strip_non_null(QUERY_TYPE.fields[field_name].type), GraphQLList):
        assert value, context
        assert all(v is None for v in value), f"{context}: {value}"
    elif isinstance(return_type, GraphQLObjectType) and "edges" in return_type.fields:
        assert value == {"totalCount": 0, "edges": []}, f"{context}: {value}"
    else:
        assert value is None, f"{context}: {value}"


@pytest.mark.parametrize("field_name", QUERY_FIELDS_WITH_IDS)
async def test_query_with_out_of_scope_ids_looks_like_not_found(scene: Scene, field_name: str) -> None:
    before = await snapshot(scene.engine)
    await for_each_caller(lambda caller: _query_out_of_scope(scene, field_name, caller))
    assert changes(before, await snapshot(scene.engine)) == []


async def _query_out_of_scope(scene: Scene, field_name: str, caller: str) -> None:
    calls = _query_targets(field_name, lambda t: scene.out_of_scope(t, caller))
    assert calls, f"{field_name}: no out-of-scope object to try"
    missing = _query_targets(field_name, lambda t: [gid(t, uuid.uuid4())])
    reference = {path: await _run_query(scene, field_name, call, caller) for call in missing for path in call}
    for call in calls:
        result = await _run_query(scene, field_name, call, caller)
        context = f"{field_name} as {caller} with {call}"
        if not may_call("Query", field_name, caller):
            check_denied(result, caller, context)
            continue
        _assert_looks_missing(field_name, result, context)
        # Exactly the answer for an object that does not exist (same shape, same nulls).
        path = next(iter(call))
        if not isinstance(call[path], list):
            assert result == reference[path], context


# ---- queries: in scope -------------------------------------------------------------------


async def _expected_connection_ids(scene: Scene, field_name: str, filter_type: str, target: str) -> set[str]:
    """Ids a connection filtered by an in-scope object must return (read straight from SQL)."""
    node_type = _unwrap(QUERY_TYPE.fields[field_name].type).fields["edges"].type
    node_name = _unwrap(_unwrap(node_type).fields["node"].type).name
    parsed = parse_id(target)
    assert parsed is not None
    pk = parsed[1]
    queries = {
        ("InventoryItem", "Environment"): select(models.InventoryItem.id).where(
            models.InventoryItem.environment_id == pk
        ),
        ("User", "Environment"): select(models.User.id).where(models.User.environment_id == pk),
        ("AuditLogEntry", "User"): select(models.AuditLog.id).where(models.AuditLog.actor_id == pk),
        ("Environment", "Center"): select(models.Environment.id).where(models.Environment.center_id == pk),
    }
    query = queries.get((node_name, filter_type))
    if query is None:
        pytest.fail(f"{field_name}: no expectation for {node_name} filtered by {filter_type}; add one")
    async with scene.db() as session:
        rows = (await session.scalars(query)).all()
    return {gid(node_name, r) for r in rows}


SCOPE = {
    "student": {"a1"},
    "instructor": {"a1", "aw"},
    "supervisor": {"a1", "a2", "aw"},
    "admin": {"aw"},
    "admin_general": {"a1", "a2", "aw", "b1", "bw"},
}


@pytest.mark.parametrize("field_name", QUERY_FIELDS_WITH_IDS)
async def test_query_with_in_scope_ids_returns_them(scene: Scene, field_name: str) -> None:
    await for_each_caller(lambda caller: _query_in_scope(scene, field_name, caller))


async def _query_in_scope(scene: Scene, field_name: str, caller: str) -> None:
    graphql_field = QUERY_TYPE.fields[field_name]
    allowed = may_call("Query", field_name, caller)
    # A caller refused by role is refused even for real objects (ADMIN_GENERAL's, which exist).
    picker = caller if allowed else "admin_general"
    calls = _query_targets(field_name, lambda t: scene.in_scope(t, picker))
    assert calls
    for call in calls:
        result = await _run_query(scene, field_name, call, caller)
        context = f"{field_name} as {caller} with {call}"
        if not allowed:
            check_denied(result, caller, context)
            continue
        assert not result.get("errors"), f"{context}: {result}"
        ((path, value),) = call.items()
        data = result["data"]["result"]
        if isinstance(_strip_non_null(graphql_field.type), GraphQLList):
            assert [node["id"] for node in data] == value, context
        elif "edges" in _unwrap(graphql_field.type).fields:
            filter_type = slot_type(field_name, graphql_field, path)
            expected: set[str] = set()
            for target in value:
                expected |= await _expected_connection_ids(scene, field_name, filter_type, target)
            if filter_type == "Center":  # only the environments in the caller's scope
                scoped = {gid("Environment", getattr(scene.world, n).id) for n in SCOPE[caller]}
                expected &= scoped
            assert expected, f"{context}: the in-scope filter should match something"
            assert {edge["node"]["id"] for edge in data["edges"]} == expected, context
            assert data["totalCount"] == len(expected)
        else:
            assert data is not None, context
            assert data["id"] == value, f"{context}: {data}"


# ---- node(id:) / nodes(ids:) with malformed ids ------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def malformed_ids(scene: Scene) -> dict[str, str]:
    item_uuid = scene.world.items["a1"][0].id
    return {
        "garbage": "garbage!!",
        "not-base64": "this is not base64 at all",
        "empty": "",
        "10k-chars": "A" * 10_000,
        "10k-base64": _b64(b"InventoryItem:" + str(item_uuid).encode() + b" " * 7_500),
        "raw-uuid": str(item_uuid),
        "no-colon": _b64(b"InventoryItem"),
        "bad-uuid": _b64(b"InventoryItem:not-a-uuid"),
        "unknown-type": _b64(f"Secret:{item_uuid}".encode()),
        "lowercase-type": _b64(f"inventoryitem:{item_uuid}".encode()),
        "invalid-utf8": _b64(b"\xff\xfe:" + str(item_uuid).encode()),
        "unpadded": _b64(f"InventoryItem:{item_uuid}".encode()).rstrip("="),
        "trailing-junk": _b64(f"InventoryItem:{item_uuid}".encode()) + "!!",
        "int-id": _b64(b"InventoryItem:1"),
        "sql": _b64(b"InventoryItem:' OR 1=1 --"),
    }


SINGLE_ID_FIELDS = sorted(
    name for name in QUERY_FIELDS_WITH_IDS if list(id_slots(QUERY_TYPE.fields[name].args)) == [("id",)]
)


async def test_malformed_ids_are_null_never_an_error(scene: Scene) -> None:
    await for_each_caller(lambda caller: _malformed_ids(scene, caller), ROLES)


async def _malformed_ids(scene: Scene, caller: str) -> None:
    assert {"node", "item", "center", "environment", "user", "auditLog"} <= set(SINGLE_ID_FIELDS)
    bad = malformed_ids(scene)
    actor = scene.actor(caller)
    for field_name in SINGLE_ID_FIELDS:
        if not may_call("Query", field_name, caller):
            continue
        for label, value in bad.items():
            response = await scene.gql.post(query_document(field_name, {"id": value}), {"id": value}, token=actor)
            assert response.status_code == 200, (field_name, label, response.text)
            assert without_cost(response.json()) == {"data": {"result": None}}, (field_name, label, response.json())
    values = list(bad.values())
    data = await scene.gql.data(query_document("nodes", {"ids": values}), {"ids": values}, token=actor)
    assert data == {"result": [None] * len(values)}


async def test_an_id_of_another_type_is_null(scene: Scene) -> None:
    await for_each_caller(lambda caller: _another_type(scene, caller), ROLES)


async def _another_type(scene: Scene, caller: str) -> None:
    # Type confusion: a visible object's uuid under another type name resolves to nothing.
    w = scene.world
    env = scene.in_scope_environment(caller)
    item = scene.item(caller)
    cases = {
        "item": gid("Center", item.id),
        "environment": gid("InventoryItem", env.id),
        "center": gid("Environment", w.center_a.id),
        "node": gid("User", item.id),
    }
    actor = scene.actor(caller)
    for field_name, value in cases.items():
        data = await scene.gql.data(query_document(field_name, {"id": value}), {"id": value}, token=actor)
        assert data == {"result": None}, (field_name, value)
    # ...while the right type name finds them (the uuid itself is visible).
    right = [gid("InventoryItem", item.id), gid("Environment", env.id), gid("Center", w.center_a.id)]
    if caller == "admin_general":
        right[2] = gid("Center", w.center_b.id)
    data = await scene.gql.data(query_document("nodes", {"ids": right}), {"ids": right}, token=actor)
    assert [n["id"] for n in data["result"]] == right
    # nodes(ids:) keeps the order and nulls exactly the invisible entries of a mixed list.
    mixed = [gid("InventoryItem", w.items["bw"][0].id), gid("InventoryItem", item.id), "garbage!!"]
    data = await scene.gql.data(query_document("nodes", {"ids": mixed}), {"ids": mixed}, token=actor)
    visible_b = caller == "admin_general"
    assert data["result"] == [
        {"__typename": "InventoryItem", "id": mixed[0]} if visible_b else None,
        {"__typename": "InventoryItem", "id": mixed[1]},
        None,
    ]


# ---- mutations ---------------------------------------------------------------------------


async def _run_mutation(scene: Scene, name: str, variables: dict[str, Any], caller: str) -> dict[str, Any]:
    return await scene.gql.execute(mutation_document(name), {"input": variables}, token=scene.actor(caller))


def _attack_targets(scene: Scene, case: MutationCase, caller: str) -> list[str | None]:
    if case.target is None:
        return [None]
    targets: list[str | None] = list(scene.out_of_scope(case.target, caller))
    if caller != "admin_general":
        targets.append(gid(case.target, uuid.uuid4()))  # a missing one answers the same
    return targets


@pytest.mark.parametrize("name", MUTATION_FIELDS)
async def test_mutation_with_out_of_scope_object_changes_nothing(scene: Scene, name: str) -> None:
    await for_each_caller(lambda caller: _mutation_out_of_scope(scene, name, caller))


async def _mutation_out_of_scope(scene: Scene, name: str, caller: str) -> None:
    case = _case(name)
    allowed = may_call("Mutation", name, caller)
    for target in _attack_targets(scene, case, caller):
        variables = await case.attack(scene, caller, target)
        before = await snapshot(scene.engine)
        result = await _run_mutation(scene, name, variables, caller)
        after = await snapshot(scene.engine)
        context = f"{name} as {caller} with {variables}"
        if not allowed:
            check_denied(result, caller, context)
            assert changes(before, after) == [], context
            continue
        check_outcome(result, case.out_of_scope, context)
        diff = changes(before, after)
        if case.self_only:
            # Acting on oneself is fine; nothing of anyone else may change.
            assert {owner for _, _, owner in diff} <= {scene.own_id(caller)}, f"{context}: {diff}"
        else:
            assert diff == [], f"{context}: {diff}"
        if target is not None and caller != "admin_general":
            # Out of scope and missing are indistinguishable, message included.
            assert case.target is not None
            missing = await case.attack(scene, caller, gid(case.target, uuid.uuid4()))
            reference = await _run_mutation(scene, name, missing, caller)
            assert result == reference, context


@pytest.mark.parametrize("name", [n for n in MUTATION_FIELDS if MUTATIONS.get(n) and MUTATIONS[n].target])
async def test_mutation_with_an_id_of_another_type_is_not_found(scene: Scene, name: str) -> None:
    callers = tuple(c for c in ROLES if may_call("Mutation", name, c))
    assert callers
    await for_each_caller(lambda caller: _mutation_wrong_type(scene, name, caller), callers)


async def _mutation_wrong_type(scene: Scene, name: str, caller: str) -> None:
    # The uuid of an in-scope object under another type name must not reach the object.
    case = _case(name)
    assert case.slot is not None
    valid = await case.in_scope(scene, caller, None)
    parsed = parse_id(valid[case.slot])
    assert parsed is not None
    for wrong_type in (t for t in NODE_TYPES if t != case.target):
        before = await snapshot(scene.engine)
        result = await _run_mutation(scene, name, {**valid, case.slot: gid(wrong_type, parsed[1])}, caller)
        assert changes(before, await snapshot(scene.engine)) == [], wrong_type
        value = result["data"]["result"]
        # Either answer says "no such object"; a missing object of the right type may be
        # reported as a field error by create* mutations, which is equally uninformative.
        assert value["__typename"] in {"NotFoundError", "ValidationError"}, (wrong_type, value)
        if value["__typename"] == "ValidationError":
            assert [(e["field"], e["code"]) for e in value["fieldErrors"]] == [(case.slot, "NOT_FOUND")]


@pytest.mark.parametrize("name", [n for n in MUTATION_FIELDS if MUTATIONS.get(n) and MUTATIONS[n].target])
async def test_mutation_with_a_malformed_id_is_a_validation_error(scene: Scene, name: str) -> None:
    case = _case(name)
    assert case.slot is not None
    caller = "admin_general"
    valid = await case.in_scope(scene, caller, None)
    for value in ("garbage!!", "", _b64(b"Center"), "A" * 10_000):
        before = await snapshot(scene.engine)
        result = await _run_mutation(scene, name, {**valid, case.slot: value}, caller)
        assert changes(before, await snapshot(scene.engine)) == []
        check_outcome(result, Outcome("ValidationError", ((case.slot, "INVALID_ID"),)), f"{name} {value[:20]!r}")


@pytest.mark.parametrize(("name", "extra_slot"), [(n, s) for n, c in MUTATIONS.items() for s in c.extra_slots])
async def test_secondary_ids_naming_missing_objects_change_nothing(scene: Scene, name: str, extra_slot: str) -> None:
    case = MUTATIONS[name]
    variables = await case.in_scope(scene, "admin_general", None)
    variables[extra_slot] = gid(case.extra_slots[extra_slot], uuid.uuid4())
    before = await snapshot(scene.engine)
    result = await _run_mutation(scene, name, variables, "admin_general")
    assert changes(before, await snapshot(scene.engine)) == []
    check_outcome(result, Outcome("ValidationError", ((extra_slot, "NOT_FOUND"),)), name)


@pytest.mark.parametrize("name", MUTATION_FIELDS)
async def test_mutation_with_in_scope_object(scene: Scene, name: str) -> None:
    # The in-scope objects of different callers are independent (different rows, or refused
    # calls that change nothing), so the callers run one after the other on one world.
    await for_each_caller(lambda caller: _mutation_in_scope(scene, name, caller))


async def _mutation_in_scope(scene: Scene, name: str, caller: str) -> None:
    case = _case(name)
    variables = await case.in_scope(scene, caller, None)
    before = await snapshot(scene.engine)
    result = await _run_mutation(scene, name, variables, caller)
    diff = changes(before, await snapshot(scene.engine))
    context = f"{name} as {caller} with {variables}"
    if not may_call("Mutation", name, caller):
        # The role check comes first: even the caller's own objects are refused.
        check_denied(result, caller, context)
        assert diff == [], context
        return
    check_outcome(result, Outcome(case.success), context)
    assert diff, f"{context}: a successful call must change something"
    if case.self_only:
        assert {owner for _, _, owner in diff} == {scene.own_id(caller)}, f"{context}: {diff}"
    payload = result["data"]["result"]
    if case.slot == "id" or case.slot == "itemId":
        # The payload names the object that was asked for.
        node_ids = [v["id"] for v in payload.values() if isinstance(v, dict) and "id" in v]
        assert variables[case.slot] in node_ids, f"{context}: {payload}"


# ---- nested paths ------------------------------------------------------------------------

# Pages far larger than the world; the nested ones of 50 keep the whole under QUERY_COST_LIMIT
# (cost 15 400 of 25 000).
NESTED_QUERY = """
{
  me { id environment { id center { id environments(first: 100) { edges { node { id center { id } } } } } } }
  items(first: 100) { totalCount edges { node { id environment { id center { id } }
      movements(first: 50) { edges { node { id actor { id environment { id } } item { id environment { id } } } } }
  } } }
  environments(first: 100) { edges { node { id center { id environments(first: 50) { edges { node { id } } } } } } }
  centers(first: 100) { edges { node { id environments(first: 50) { edges { node { id center { id } } } } } } }
}
"""


def _collect_ids(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "id" and isinstance(sub, str):
                out.append(sub)
            else:
                _collect_ids(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _collect_ids(sub, out)


@pytest.fixture
async def nested_scene(scene: Scene, factory: Factory) -> Scene:
    """Cross-world references: a movement in room a1 made by a user who now lives in world B."""
    w = scene.world
    mover = await factory.user(models.Role.SUPERVISOR, w.a1)
    item = w.items["a1"][1]
    async with scene.db.begin() as session:
        _, movement = await item_service.adjust_item_stock(
            session,
            mover.principal,
            item.id,
            expected_quantity=item.quantity,
            delta=item_service.StockDelta(quantity=1),
            reason=models.MovementReason.RESTOCK,
            note=None,
        )
    scene.movements[item.id].append(movement.id)
    async with scene.db.begin() as session:
        await users.update_user(session, w.admin_general.principal, mover.id, changes={"environment_id": w.b1.id})
    scene.moved_user = mover.id
    return scene


async def test_nested_paths_never_reach_world_b(nested_scene: Scene) -> None:
    await for_each_caller(lambda caller: _nested(nested_scene, caller), ROLES)


async def _nested(s: Scene, caller: str) -> None:
    w = s.world
    data = await s.gql.data(NESTED_QUERY, token=s.actor(caller))
    ids: list[str] = []
    _collect_ids(data, ids)
    decoded = [parse_id(i) for i in ids]
    assert all(d is not None for d in decoded)
    world_b_users = {w.student_b.id, w.admin_b.id, s.moved_user}
    b_ids = {
        ("Center", w.center_b.id),
        *(("Environment", e) for e in s.b_objects("Environment")),
        *(("InventoryItem", i) for i in s.b_objects("InventoryItem")),
        *(("InventoryMovement", m) for m in s.b_objects("InventoryMovement")),
        *(("User", u) for u in world_b_users),
    }
    reached_b = {d for d in decoded if d in b_ids}
    if caller == "admin_general":
        # The positive control: the same query does reach world B when the scope allows it.
        assert {("Center", w.center_b.id), ("Environment", w.b1.id), ("User", s.moved_user)} <= reached_b
    else:
        assert reached_b == set(), f"{caller} reached world B objects: {reached_b}"
    # Every nested path shows exactly the environments and items in scope, no more, no fewer.
    environments = {d[1] for d in decoded if d and d[0] == "Environment"}
    assert environments == {getattr(w, name).id for name in SCOPE[caller]}
    item_ids = {d[1] for d in decoded if d and d[0] == "InventoryItem"}
    expected_items = {i.id for name in SCOPE[caller] for i in w.items[name]}
    assert item_ids == expected_items
    assert data["items"]["totalCount"] == len(expected_items)
    # The RESTOCK in room a1 by the user who has since moved to world B: its actor is hidden
    # from world A (and the INITIAL movement's actor, a home-less system user, too).
    a1_group = gid("InventoryItem", w.items["a1"][1].id)
    (edge,) = [e for e in data["items"]["edges"] if e["node"]["id"] == a1_group] or [None]
    if "a1" not in SCOPE[caller]:
        assert edge is None
    else:
        assert edge is not None
        actors = [m["node"]["actor"] for m in edge["node"]["movements"]["edges"]]
        if caller == "admin_general":
            assert len(actors) == 2
            assert actors[0] == {"id": gid("User", s.moved_user), "environment": {"id": gid("Environment", w.b1.id)}}
            assert actors[1] is not None
        else:
            assert actors == [None, None]
    assert data["me"]["id"] == s.world.role(caller).gid


# ---- where: filters never widen the scope -------------------------------------------------

ITEMS = "query Q($where: ItemWhere) { items(where: $where, first: 100) { totalCount edges { node { id } } } }"
ENVIRONMENTS = (
    "query Q($where: EnvironmentWhere) { environments(where: $where, first: 100) { totalCount edges { node { id } } } }"
)


def _ids(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in connection["edges"]}


async def test_where_filters_naming_out_of_scope_ids_do_not_widen_scope(scene: Scene) -> None:
    w = scene.world
    student = w.student
    b_envs = [gid("Environment", w.b1.id), gid("Environment", w.bw.id)]
    a1_items = {gid("InventoryItem", i.id) for i in w.items["a1"]}

    data = await scene.gql.data(ITEMS, {"where": {"environmentIds": [b_envs[0]]}}, token=student)
    assert data["items"] == {"totalCount": 0, "edges": []}
    data = await scene.gql.data(
        ITEMS, {"where": {"environmentIds": [gid("Environment", w.a1.id), *b_envs]}}, token=student
    )
    assert _ids(data["items"]) == a1_items
    assert data["items"]["totalCount"] == 2
    # A room of the student's own center is still out of the student's scope.
    data = await scene.gql.data(ITEMS, {"where": {"environmentIds": [gid("Environment", w.a2.id)]}}, token=student)
    assert data["items"] == {"totalCount": 0, "edges": []}
    # Garbage and ids of other types in a filter match nothing; they are not errors.
    data = await scene.gql.data(
        ITEMS, {"where": {"environmentIds": ["garbage!!", gid("Center", w.center_a.id)]}}, token=student
    )
    assert data["items"] == {"totalCount": 0, "edges": []}
    data = await scene.gql.data(ITEMS, {"where": {"environmentIds": []}}, token=student)
    assert data["items"] == {"totalCount": 0, "edges": []}

    data = await scene.gql.data(
        ENVIRONMENTS, {"where": {"centerIds": [gid("Center", w.center_b.id)]}}, token=w.supervisor
    )
    assert data["environments"] == {"totalCount": 0, "edges": []}
    data = await scene.gql.data(
        ENVIRONMENTS,
        {"where": {"centerIds": [gid("Center", w.center_a.id), gid("Center", w.center_b.id)]}},
        token=w.instructor,
    )
    assert _ids(data["environments"]) == {gid("Environment", w.a1.id), gid("Environment", w.aw.id)}
    # The positive control: ADMIN_GENERAL does get world B through the same filter.
    data = await scene.gql.data(ITEMS, {"where": {"environmentIds": [b_envs[0]]}}, token=w.admin_general)
    assert _ids(data["items"]) == {gid("InventoryItem", i.id) for i in w.items["b1"]}


# ---- registration never yields a role other than STUDENT -----------------------------------

REGISTER = (
    "mutation R($input: RegisterInput!) { register(input: $input) { __typename"
    " ... on AuthPayload { accessToken user { id role environment { id } } } } }"
)


def _registration(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "firstName": "Reg", "lastName": "Istered", **extra}


async def _user_count(scene: Scene) -> int:
    async with scene.engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM users")) or 0)


EXTRA_REGISTER_FIELDS = (
    {"role": "ADMIN_GENERAL"},
    {"role": "STUDENT"},
    {"environmentId": "RW52aXJvbm1lbnQ6MQ=="},
    {"isActive": True},
    {"tokenVersion": 0},
    {"passwordHash": "$2b$04$abcdefghijklmnopqrstuv"},
)


async def test_register_rejects_extra_input_fields(scene: Scene) -> None:
    before = await _user_count(scene)
    for extra in EXTRA_REGISTER_FIELDS:
        result = await scene.gql.execute(REGISTER, {"input": _registration("extra@test.local", **extra)})
        assert result["data"] is None, extra
        assert error_codes(result) == ["BAD_REQUEST"], extra
    assert await _user_count(scene) == before


async def test_register_with_a_role_literal_is_a_validation_error(scene: Scene) -> None:
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


async def test_registered_account_is_always_a_student(scene: Scene) -> None:
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


async def test_update_me_cannot_change_role_or_home(scene: Scene) -> None:
    for extra in ({"role": "ADMIN_GENERAL"}, {"environmentId": gid("Environment", scene.world.b1.id)}):
        before = await snapshot(scene.engine)
        result = await scene.gql.execute(
            "mutation U($input: UpdateMeInput!) { updateMe(input: $input) { __typename } }",
            {"input": {"firstName": "X", **extra}},
            token=scene.world.student,
        )
        assert result["data"] is None
        assert error_codes(result) == ["BAD_REQUEST"]
        assert changes(before, await snapshot(scene.engine)) == []
