"""Who the caller is, and which environments they may see: computed here and nowhere else.

Scope is expressed as SQL conditions, not as a list fetched up front, so that every read adds
the filter to its own statement (no extra round trip, and no check-after-fetch).

The caller's ids enter the SQL as the named parameters of `parameters(principal)`, so the
text of a scoped statement depends only on `shape(principal)`: the hot read paths compile it
once per shape (`graphql_api.db.reads`) and pass the values at each execution.

| role          | scope                                                                  |
|---------------|------------------------------------------------------------------------|
| STUDENT       | the home environment                                                   |
| INSTRUCTOR    | the home environment and the warehouses of its center                  |
| SUPERVISOR    | every environment of the home environment's center                     |
| ADMIN         | the home environment (a warehouse)                                     |
| ADMIN_GENERAL | everything                                                             |

The instructor's environments with an active schedule join the scope with the schedules
domain (a later migration); `instructor_extra_environments` is the hook for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, false, or_, select, true
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.db.models import Center, Environment, Role, User


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as loaded from the database for this request."""

    id: uuid.UUID
    role: Role
    environment_id: uuid.UUID | None
    center_id: uuid.UUID | None
    language: str
    token_version: int

    @property
    def is_admin_general(self) -> bool:
        return self.role is Role.ADMIN_GENERAL


Column = InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None]


def shape(principal: Principal) -> Hashable:
    """What the SQL text of the caller's scope conditions depends on."""
    return (principal.role, principal.environment_id is None, principal.center_id is None)


def parameters(principal: Principal) -> dict[str, Any]:
    """Values of the named parameters in the caller's scope conditions."""
    return {
        "scope_user": principal.id,
        "scope_environment": principal.environment_id,
        "scope_center": principal.center_id,
    }


NOBODY = uuid.UUID(int=0)


def template(principal: Principal) -> Principal:
    """A caller of the same shape whose ids match nothing: statements built once per shape are
    built for it, so a scope parameter not given at execution can only hide rows."""
    return Principal(
        id=NOBODY,
        role=principal.role,
        environment_id=None if principal.environment_id is None else NOBODY,
        center_id=None if principal.center_id is None else NOBODY,
        language=principal.language,
        token_version=0,
    )


def _param(name: str, value: uuid.UUID | None) -> BindParameter[uuid.UUID]:
    return bindparam(name, value, type_=UUID(as_uuid=True))


def _center_environments(center_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Environment.id).where(Environment.center_id == _param("scope_center", center_id))


def _center_warehouses(center_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Environment.id).where(
        Environment.center_id == _param("scope_center", center_id), Environment.is_warehouse.is_(True)
    )


def environment_filter(principal: Principal, column: Column) -> ColumnElement[bool]:
    """SQL condition: `column` (an environment id) is within the caller's scope."""
    role, center = principal.role, principal.center_id
    if role is Role.ADMIN_GENERAL:
        return true()
    if principal.environment_id is None:
        return false()
    home = _param("scope_environment", principal.environment_id)
    if role in (Role.STUDENT, Role.ADMIN):
        return column == home
    if role is Role.SUPERVISOR and center is not None:
        return column.in_(_center_environments(center))
    if role is Role.INSTRUCTOR and center is not None:
        return or_(column == home, column.in_(_center_warehouses(center)))
    return column == home


def manage_items_filter(principal: Principal, column: Column) -> ColumnElement[bool]:
    """SQL condition: the caller may create, edit, retire and adjust items in `column`."""
    if principal.role is Role.ADMIN_GENERAL:
        return true()
    if principal.role is Role.SUPERVISOR:
        return environment_filter(principal, column)
    if principal.role is Role.ADMIN and principal.environment_id is not None:
        return column == _param("scope_environment", principal.environment_id)
    return false()


def center_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on `Center.id`: centers holding at least one environment in scope."""
    if principal.is_admin_general:
        return true()
    return Center.id.in_(select(Environment.center_id).where(environment_filter(principal, Environment.id)))


def user_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on `User`: the caller, or users whose home environment is in scope."""
    if principal.is_admin_general:
        return true()
    return or_(User.id == _param("scope_user", principal.id), environment_filter(principal, User.environment_id))
