"""Who the caller is, and which environments they may see: computed here and nowhere else.

Scope is expressed as SQL conditions, not as a list fetched up front, so that every read adds
the filter to its own statement (no extra round trip, and no check-after-fetch).

The caller's ids enter the SQL as the named parameters of `parameters(principal)`, so the
text of a scoped statement depends only on `shape(principal)`: the hot read paths compile it
once per shape (`graphql_api.db.reads`) and pass the values at each execution.

| role          | scope                                                                  |
|---------------|------------------------------------------------------------------------|
| STUDENT       | the home environment                                                   |
| INSTRUCTOR    | the home environment, the warehouses of its center, and the rooms      |
|               | where the instructor has an active schedule (not past its validity)    |
| SUPERVISOR    | every environment of the home environment's center                     |
| ADMIN         | the home environment (a warehouse)                                     |
| ADMIN_GENERAL | everything                                                             |

"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.db import reads
from graphql_api.db.models import Center, CheckStatus, Environment, InventoryCheck, Role, Schedule, User


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


def audience(principal: Principal) -> Hashable:
    """Callers with equal audiences see exactly the same rows (subscribers share one rendering
    of an event by it): the role, home environment and center; an instructor's rooms also
    depend on what that instructor teaches."""
    home = (principal.role, principal.environment_id, principal.center_id)
    return (*home, principal.id) if principal.role is Role.INSTRUCTOR else home


def parameters(principal: Principal) -> dict[str, Any]:
    """Values of the named parameters in the caller's scope conditions."""
    return {
        "scope_user": principal.id,
        "scope_environment": principal.environment_id,
        "scope_center": principal.center_id,
    }


NOBODY = uuid.UUID(int=0)
# Stand-ins for the caller's ids in statements built once per shape: they match no row, and
# finding one of them frozen as a literal in a compiled statement means a caller-dependent
# value was written into it instead of a named parameter (see `ScopedStatement`).
TEMPLATE_USER = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
TEMPLATE_ENVIRONMENT = uuid.UUID("00000000-0000-0000-0000-0000000000a2")
TEMPLATE_CENTER = uuid.UUID("00000000-0000-0000-0000-0000000000a3")
_TEMPLATE_NAMES = {
    TEMPLATE_USER: "principal.id",
    TEMPLATE_ENVIRONMENT: "principal.environment_id",
    TEMPLATE_CENTER: "principal.center_id",
}


def template(principal: Principal) -> Principal:
    """A caller of the same shape whose ids match nothing: statements built once per shape are
    built for it, so a scope parameter not given at execution can only hide rows."""
    return Principal(
        id=TEMPLATE_USER,
        role=principal.role,
        environment_id=None if principal.environment_id is None else TEMPLATE_ENVIRONMENT,
        center_id=None if principal.center_id is None else TEMPLATE_CENTER,
        language=principal.language,
        token_version=0,
    )


def caller(principal: Principal) -> BindParameter[uuid.UUID]:
    """The caller's id as the named parameter a rule such as "a requester sees their own
    loans" must use (`Loan.requester_id == scope.caller(principal)`): a plain `principal.id`
    would be frozen into statements compiled once per shape."""
    return _param("scope_user", principal.id)


def home_environment(principal: Principal) -> BindParameter[uuid.UUID]:
    """The caller's home environment as a named parameter (see `caller`)."""
    return _param("scope_environment", principal.environment_id)


def home_center(principal: Principal) -> BindParameter[uuid.UUID]:
    """The caller's home center as a named parameter (see `caller`)."""
    return _param("scope_center", principal.center_id)


class CallerValueInStatement(TypeError):
    """A statement compiled once per shape holds a value of one caller as a literal."""


class ScopedStatement:
    """A statement whose text depends on the caller, compiled once per scope shape (and
    `variant`, for statements with a few forms) and run with each caller's values.

    It is built for `template(principal)`, never for a real caller, and refused when a value
    of that template ended up in it as a literal: such a value would be the same for every
    later caller of the shape (`Loan.requester_id == principal.id` instead of
    `scope.caller(principal)`). Only named parameters change between executions; the caller's
    are `parameters(principal)`.
    """

    def __init__(self, build: Callable[[Principal | None, Hashable], Select[Any]]) -> None:
        self._build = build
        self._compiled: dict[Hashable, reads.Compiled] = {}

    def compiled(self, principal: Principal | None, variant: Hashable = None) -> reads.Compiled:
        key = (None if principal is None else shape(principal), variant)
        found = self._compiled.get(key)
        if found is None:
            stand_in = None if principal is None else template(principal)
            found = reads.compile_statement(self._build(stand_in, variant))
            _refuse_caller_literals(found)
            self._compiled[key] = found
        return found

    def shapes(self) -> int:
        """How many forms have been compiled (tests)."""
        return len(self._compiled)


def _refuse_caller_literals(compiled: reads.Compiled) -> None:
    for value in compiled.literals.values():
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, uuid.UUID) and item in _TEMPLATE_NAMES:
                raise CallerValueInStatement(
                    f"{_TEMPLATE_NAMES[item]} is written into a statement compiled once per scope shape, "
                    "so every later caller would get this caller's value; use scope.caller(), "
                    "scope.home_environment() or scope.home_center() (named parameters) instead:\n"
                    f"{compiled.sql}"
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
    if role is Role.INSTRUCTOR:
        return _instructor_environments(principal, column)
    if principal.environment_id is None:
        return false()
    home = _param("scope_environment", principal.environment_id)
    if role is Role.SUPERVISOR and center is not None:
        return column.in_(_center_environments(center))
    return column == home


def _instructor_environments(principal: Principal, column: Column) -> ColumnElement[bool]:
    scheduled = _scheduled(column, _param("scope_user", principal.id))
    if principal.environment_id is None:
        return scheduled
    home = column == _param("scope_environment", principal.environment_id)
    if principal.center_id is None:
        return or_(home, scheduled)
    return or_(home, column.in_(_center_warehouses(principal.center_id)), scheduled)


def _active_schedules() -> tuple[ColumnElement[bool], ...]:
    return Schedule.is_active.is_(True), Schedule.valid_until >= func.current_date()


def _open_check() -> ColumnElement[bool]:
    # Not IN (...): statements compiled once per shape take no expanding parameters.
    return or_(
        InventoryCheck.status == CheckStatus.STUDENT_PENDING, InventoryCheck.status == CheckStatus.INSTRUCTOR_REVIEW
    )


def _scheduled(column: Column, instructor: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """Rooms where the instructor teaches (an active schedule not past its validity), and
    those of their classes' checks still open (a slot deactivated after its check started
    does not strand the check: its instructor can still review it)."""
    teaching = select(Schedule.environment_id).where(Schedule.instructor_id == instructor, *_active_schedules())
    open_checks = (
        select(InventoryCheck.environment_id)
        .join(Schedule, Schedule.id == InventoryCheck.schedule_id)
        .where(Schedule.instructor_id == instructor, _open_check())
    )
    return or_(column.in_(teaching), column.in_(open_checks))


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


def reaches(environment_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on `User`: the user's scope contains the environment (the reverse of
    `environment_filter`, kept beside it so that the two change together): who is told of
    what happens in a room."""
    env = _param("reached_environment", environment_id)
    center_of_env = select(Environment.center_id).where(Environment.id == env).scalar_subquery()
    home_center = select(Environment.center_id).where(Environment.id == User.environment_id).scalar_subquery()
    is_warehouse = select(Environment.is_warehouse).where(Environment.id == env).scalar_subquery()
    at_home = User.environment_id == env
    return or_(
        User.role == Role.ADMIN_GENERAL,
        and_(User.role.in_((Role.STUDENT, Role.ADMIN, Role.INSTRUCTOR)), at_home),
        and_(User.role == Role.SUPERVISOR, home_center == center_of_env),
        and_(User.role == Role.INSTRUCTOR, is_warehouse.is_(True), home_center == center_of_env),
        and_(User.role == Role.INSTRUCTOR, _teaches_in(env)),
    )


def _teaches_in(environment: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """SQL condition on `User`: `_scheduled` gives the user the room."""
    teaching = select(Schedule.instructor_id).where(Schedule.environment_id == environment, *_active_schedules())
    open_checks = (
        select(Schedule.instructor_id)
        .join(InventoryCheck, InventoryCheck.schedule_id == Schedule.id)
        .where(InventoryCheck.environment_id == environment, _open_check())
    )
    return or_(User.id.in_(teaching), User.id.in_(open_checks))
