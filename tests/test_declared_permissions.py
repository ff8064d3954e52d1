"""Every root field declares who may call it, and the permission classes cannot be bypassed.

* Every Query, Mutation (and Subscription) field carries `@isAuthenticated` or `@hasRole`,
  except the public allow-list below; a public field must not carry one.
* The directive printed in the SDL is the permission that actually runs (a PermissionExtension
  with the same class and roles), so the documentation cannot drift from the enforcement.
* `has_permission` is either `async def` or a plain `def` returning a real bool: a plain
  `def` that returns an awaitable was never awaited and counted as "allowed" in strawberry
  0.217-0.326.0 (CVE-2026-107728 / GHSA-pfvf-fwfp-25mp).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import FieldDefinitionNode, GraphQLError, ObjectTypeDefinitionNode, parse
from strawberry.permission import BasePermission, PermissionExtension

from graphql_api.api.core import permissions
from graphql_api.api.core.mutation import TransactionalMutation
from graphql_api.api.schema import build_schema, printed_schema
from graphql_api.auth.scope import Principal
from graphql_api.db.models import Role

PUBLIC_FIELDS = {
    ("Mutation", "register"),
    ("Mutation", "login"),
    ("Mutation", "refreshToken"),
}
PERMISSION_DIRECTIVES = {"isAuthenticated", "hasRole"}
ROOTS = ("Query", "Mutation", "Subscription")

SCHEMA = build_schema()
GRAPHQL_SCHEMA = SCHEMA._schema


def _sdl_root_fields() -> dict[tuple[str, str], FieldDefinitionNode]:
    document = parse(printed_schema())
    fields: dict[tuple[str, str], FieldDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value in ROOTS:
            for field in definition.fields or ():
                fields[(definition.name.value, field.name.value)] = field
    return fields


SDL_FIELDS = _sdl_root_fields()


def _code_root_fields() -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for root in ROOTS:
        graphql_type = GRAPHQL_SCHEMA.get_type(root)
        if graphql_type is None:
            continue
        for name, field in graphql_type.fields.items():  # type: ignore[attr-defined]
            out[(root, name)] = field.extensions["strawberry-definition"]
    return out


CODE_FIELDS = _code_root_fields()


def _permission_extensions(strawberry_field: Any) -> list[PermissionExtension]:
    return [e for e in strawberry_field.extensions if isinstance(e, PermissionExtension)]


def _directive_names(field: FieldDefinitionNode) -> list[str]:
    return [d.name.value for d in field.directives or ()]


def _has_role_roles(field: FieldDefinitionNode) -> list[str]:
    for directive in field.directives or ():
        if directive.name.value == "hasRole":
            (argument,) = directive.arguments
            assert argument.name.value == "roles"
            return [value.value for value in argument.value.values]  # type: ignore[attr-defined]
    raise AssertionError("no @hasRole")


def test_sdl_and_code_list_the_same_root_fields() -> None:
    assert set(SDL_FIELDS) == set(CODE_FIELDS)
    assert len(SDL_FIELDS) >= 30  # the scan found the real schema, not an empty document


def test_public_allow_list_names_existing_fields() -> None:
    # A renamed public field must not leave a stale entry that would excuse a new one.
    assert set(SDL_FIELDS) >= PUBLIC_FIELDS


@pytest.mark.parametrize("key", sorted(SDL_FIELDS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_root_field_declares_a_permission_directive(key: tuple[str, str]) -> None:
    directives = [name for name in _directive_names(SDL_FIELDS[key]) if name in PERMISSION_DIRECTIVES]
    if key in PUBLIC_FIELDS:
        assert directives == [], f"{key} is on the public allow-list but declares {directives}"
    else:
        assert len(directives) == 1, f"{key[0]}.{key[1]} must declare exactly one of @isAuthenticated / @hasRole"


@pytest.mark.parametrize("key", sorted(CODE_FIELDS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_declared_directive_is_the_enforced_permission(key: tuple[str, str]) -> None:
    extensions = _permission_extensions(CODE_FIELDS[key])
    if key in PUBLIC_FIELDS:
        assert extensions == []
        return
    assert len(extensions) == 1, f"{key}: expected one PermissionExtension, got {CODE_FIELDS[key].extensions}"
    (extension,) = extensions
    # fail_silently would turn a denial into null/[] instead of an error, hiding misuse.
    assert extension.fail_silently is False
    assert extension.use_directives is True
    (permission,) = extension.permissions
    sdl_field = SDL_FIELDS[key]
    if type(permission) is permissions.IsAuthenticated:
        assert _directive_names(sdl_field) == ["isAuthenticated"]
    elif type(permission) is permissions.HasRole:
        assert _directive_names(sdl_field) == ["hasRole"]
        assert _has_role_roles(sdl_field) == [role.name for role in Role if role in permission.roles]
        assert permission.roles, "an empty role set would deny everyone silently"
    else:
        pytest.fail(f"{key}: unknown permission class {type(permission).__name__}; teach this test about it")


@pytest.mark.parametrize("name", sorted(GRAPHQL_SCHEMA.mutation_type.fields))  # type: ignore[union-attr]
def test_every_mutation_is_transactional_and_audits_denials(name: str) -> None:
    # Extensions wrap innermost first: the transaction/audit wrapper must be last so that it
    # also sees (and records) permission denials.
    extensions = CODE_FIELDS[("Mutation", name)].extensions
    assert isinstance(extensions[-1], TransactionalMutation)
    assert sum(isinstance(e, TransactionalMutation) for e in extensions) == 1


# ---- has_permission must not hand back an un-awaited awaitable (CVE-2026-107728 class) ------


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _project_permission_classes() -> list[type[BasePermission]]:
    return sorted(
        (c for c in _all_subclasses(BasePermission) if c.__module__.startswith("graphql_api")),
        key=lambda c: c.__qualname__,
    )


def _permissions_in_schema() -> list[BasePermission]:
    instances: list[BasePermission] = []
    for strawberry_field in CODE_FIELDS.values():
        for extension in _permission_extensions(strawberry_field):
            instances.extend(extension.permissions)
    return instances


def _principal(role: Role) -> Principal:
    return Principal(uuid.uuid4(), role, uuid.uuid4(), uuid.uuid4(), "en", 0)


def _info(principal: Principal | None) -> Any:
    return SimpleNamespace(context=SimpleNamespace(principal=principal, auth_error=None, language="en"))


def test_project_defines_and_uses_permission_classes() -> None:
    classes = _project_permission_classes()
    assert {permissions.IsAuthenticated, permissions.HasRole} <= set(classes)
    used = {type(p) for p in _permissions_in_schema()}
    assert used <= set(classes)


def test_strawberry_has_the_permission_extension_fix() -> None:
    version = tuple(int(part) for part in importlib.metadata.version("strawberry-graphql").split(".")[:3])
    assert version >= (0, 326, 1)


@pytest.mark.parametrize("cls", _project_permission_classes(), ids=lambda c: c.__qualname__)
def test_has_permission_is_async_or_returns_a_plain_bool(cls: type[BasePermission]) -> None:
    method = cls.has_permission
    assert method is not BasePermission.has_permission, f"{cls.__name__} must implement has_permission"
    if inspect.iscoroutinefunction(method):
        return  # strawberry awaits it
    assert not inspect.isasyncgenfunction(method)
    assert not inspect.isgeneratorfunction(method)
    # Call every instance the schema uses with an allowed and a refused caller: allowed must
    # be exactly True (not a truthy awaitable), refused must raise, never return.
    instances = [p for p in _permissions_in_schema() if type(p) is cls]
    assert instances, f"{cls.__name__} is defined but unused; remove it or cover it here"
    for permission in instances:
        allowed_roles = getattr(permission, "roles", frozenset(Role))
        allowed = permission.has_permission(None, _info(_principal(next(iter(allowed_roles)))))
        assert not inspect.isawaitable(allowed)
        assert allowed is True
        refused_callers: list[Principal | None] = [None]
        refused_callers += [_principal(role) for role in Role if role not in allowed_roles]
        for caller in refused_callers:
            with pytest.raises(GraphQLError) as denied:
                permission.has_permission(None, _info(caller))
            expected = "UNAUTHENTICATED" if caller is None else "FORBIDDEN"
            assert denied.value.extensions == {"code": expected}
            assert denied.value.message in {"You must sign in.", "Your role does not allow this operation."}
