"""Training centers and environments: reads within scope, writes for ADMIN_GENERAL."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, center_filter, environment_filter
from graphql_api.db.models import Center, Environment
from graphql_api.errors import Conflict, FieldErrors
from graphql_api.services import validation
from graphql_api.services.filtering import AnyOf, Equals, Filters, OrderField, Ordering, Search
from graphql_api.services.queries import flush_unique, get_for_update


def visible_centers(principal: Principal) -> Select[Any]:
    """Centers holding at least one environment in the caller's scope."""
    return select(Center).where(center_filter(principal))


def visible_environments(principal: Principal) -> Select[Any]:
    """Environments (rooms and warehouses) in the caller's scope."""
    return select(Environment).where(environment_filter(principal, Environment.id))


CENTER_FILTERS = Filters(
    "Center",
    "Filters for centers; all given conditions must hold.",
    {
        "search": Search((Center.name, Center.code), "Text in name or code."),
        "is_active": Equals(Center.is_active, "Only active (true) or inactive (false)."),
    },
)
CENTER_ORDER = Ordering(
    "Center",
    {
        "NAME": OrderField(Center.name, "By name."),
        "CODE": OrderField(Center.code, "By code."),
        "CREATED_AT": OrderField(Center.created_at, "By creation time."),
    },
    default="NAME",
    id_column=Center.id,
)
ENVIRONMENT_FILTERS = Filters(
    "Environment",
    "Filters for environments; all given conditions must hold.",
    {
        "center_ids": AnyOf(Environment.center_id, "Only these centers.", ids="Center"),
        "is_warehouse": Equals(Environment.is_warehouse, "Only warehouses (true) or rooms (false)."),
        "is_active": Equals(Environment.is_active, "Only active or inactive ones."),
        "search": Search((Environment.name, Environment.code, Environment.location), "Text in name, code or location."),
    },
)
ENVIRONMENT_ORDER = Ordering(
    "Environment",
    {
        "NAME": OrderField(Environment.name, "By name."),
        "CODE": OrderField(Environment.code, "By code."),
        "CREATED_AT": OrderField(Environment.created_at, "By creation time."),
    },
    default="NAME",
    id_column=Environment.id,
)


_CODE_CONSTRAINTS = {
    "uq_centers_code": ("code", "field.code_taken"),
    "uq_environments_code": ("code", "field.code_taken"),
}


_TEXT_LIMITS = {"name": 100, "code": 30, "location": 200}


def _clean_fields(errors: FieldErrors, values: dict[str, object]) -> dict[str, object]:
    """Validated values of a center or environment (the keys a caller sent, nothing else)."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in _TEXT_LIMITS:
            out[key] = validation.required_text(errors, key, str(value or ""), max_len=_TEXT_LIMITS[key])
        elif key == "description":
            out[key] = validation.text(errors, key, value if isinstance(value, str) else None, max_len=2000)
        elif key == "capacity":
            number = value if isinstance(value, int) else 0
            out[key] = validation.int_range(errors, key, number, minimum=0, maximum=10_000)
        elif key in {"is_warehouse", "center_id"}:
            out[key] = value
    return out


async def create_center(session: AsyncSession, **values: object) -> Center:
    errors = FieldErrors()
    fields = _clean_fields(errors, values)
    errors.raise_if_any()
    center = Center(**fields)
    session.add(center)
    await flush_unique(session, _CODE_CONSTRAINTS)
    return center


async def update_center(session: AsyncSession, center_id: uuid.UUID, **changes: object) -> Center:
    return await _update(session, Center, center_id, "center", changes)


async def set_center_active(session: AsyncSession, center_id: uuid.UUID, active: bool) -> Center:
    return await _set_active(session, Center, center_id, "center", active)


async def create_environment(session: AsyncSession, **values: object) -> Environment:
    errors = FieldErrors()
    fields = _clean_fields(errors, values)
    center = await session.get(Center, fields.get("center_id"))
    if center is None:
        errors.add("centerId", "field.not_found")
    errors.raise_if_any()
    environment = Environment(**fields)
    session.add(environment)
    await flush_unique(session, _CODE_CONSTRAINTS)
    return environment


async def update_environment(session: AsyncSession, environment_id: uuid.UUID, **changes: object) -> Environment:
    errors = FieldErrors()
    if "center_id" in changes and await session.get(Center, changes["center_id"]) is None:
        errors.add("centerId", "field.not_found")
    return await _update(session, Environment, environment_id, "environment", changes, errors)


async def set_environment_active(session: AsyncSession, environment_id: uuid.UUID, active: bool) -> Environment:
    return await _set_active(session, Environment, environment_id, "environment", active)


Row = TypeVar("Row", Center, Environment)


async def _update(
    session: AsyncSession,
    model: type[Row],
    row_id: uuid.UUID,
    what: str,
    changes: dict[str, object],
    errors: FieldErrors | None = None,
) -> Row:
    row = await get_for_update(session, model, row_id, what)
    errors = errors or FieldErrors()
    fields = _clean_fields(errors, changes)
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(row, key, value)
    await flush_unique(session, _CODE_CONSTRAINTS)
    return row


async def _set_active(session: AsyncSession, model: type[Row], row_id: uuid.UUID, what: str, active: bool) -> Row:
    row = await get_for_update(session, model, row_id, what)
    if row.is_active == active:
        raise Conflict("error.already_in_state")
    row.is_active = active
    await session.flush()
    return row
