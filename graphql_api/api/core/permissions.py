"""Authorization declared on fields; each permission prints as a directive in schema.graphql.

    @isAuthenticated                      any signed-in, active user
    @hasRole(roles: [SUPERVISOR, ...])    signed in with one of these roles

Each permission also states its rule in words, and the field's description ends with it
("Requires: signed in with the role ADMIN_GENERAL."), so GraphiQL's docs explorer shows who
may call a field from the same declaration that enforces it.

Object-level rules (scope, ownership) are not here: they live in the SQL of every read and in
the services' writes, so an object out of scope looks exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import Role
from graphql_api.db.engine import is_db_unavailable
from graphql_api.db.models import Role as ModelRole
from graphql_api.i18n import translate


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasRole",
    description="Only callers with one of these roles may use the field.",
)
class HasRoleDirective:
    roles: list[Role]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="isAuthenticated",
    description="Only signed-in callers (valid, unrevoked access token) may use the field.",
)
class IsAuthenticatedDirective:
    pass


def _denied(info: Info, code: str, key: str) -> GraphQLError:
    """The error to raise; a database outage during authentication wins over UNAUTHENTICATED."""
    language = info.context.language
    error = info.context.auth_error
    reason = is_db_unavailable(error) if error is not None else None
    if reason is not None:
        return GraphQLError(
            translate("error.db_unavailable", language), extensions={"code": "DB_UNAVAILABLE", "reason": reason}
        )
    return GraphQLError(translate(key, language), extensions={"code": code})


# Permission instances are shared by all requests, so they keep no per-request state: a
# denial raises its error straight from `has_permission` instead of via `on_unauthorized`.
# `has_permission` is `async def` (awaited by PermissionExtension), never a plain `def`
# returning an awaitable (the CVE-2026-107728 pattern).
class IsAuthenticated(BasePermission):
    """The caller presented a valid, unrevoked access token of an active account."""

    _schema_directive = IsAuthenticatedDirective()
    rule = "signed in"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if await info.context.authenticate() is None:
            raise _denied(info, "UNAUTHENTICATED", "error.unauthenticated")
        return True


class HasRole(BasePermission):
    """The caller is signed in and has one of `roles`."""

    def __init__(self, *roles: ModelRole) -> None:
        self.roles = frozenset(roles)
        ordered = [role for role in ModelRole if role in self.roles]
        self._schema_directive = HasRoleDirective(roles=[Role[role.name] for role in ordered])  # type: ignore[misc]
        names = ", ".join(role.name for role in ordered)
        self.rule = (
            f"signed in with one of the roles {names}" if len(ordered) > 1 else f"signed in with the role {names}"
        )

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = await info.context.authenticate()
        if principal is None:
            raise _denied(info, "UNAUTHENTICATED", "error.unauthenticated")
        if principal.role not in self.roles:
            raise _denied(info, "FORBIDDEN", "error.forbidden")
        return True


class DeclaredPermission(PermissionExtension):
    """strawberry's permission extension, which also appends the rule to the field's description
    when the schema is built."""

    permissions: list[IsAuthenticated | HasRole]  # type: ignore[assignment]

    def __init__(self, permission: IsAuthenticated | HasRole) -> None:
        super().__init__(permissions=[permission])

    def apply(self, field: StrawberryField) -> None:
        super().apply(field)
        rule = "Requires: " + " and ".join(permission.rule for permission in self.permissions) + "."
        # Field objects outlive a schema (tests and the CLI build several), so append only once.
        if not (field.description or "").endswith(rule):
            field.description = f"{field.description}\n\n{rule}" if field.description else rule


def authenticated() -> list[FieldExtension]:
    return [DeclaredPermission(IsAuthenticated())]


def roles(*allowed: ModelRole) -> list[FieldExtension]:
    return [DeclaredPermission(HasRole(*allowed))]
