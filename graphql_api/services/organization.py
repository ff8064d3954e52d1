"""Training centers and environments: reads within scope, writes for ADMIN_GENERAL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, center_filter, environment_filter
from graphql_api.db.models import Center, Environment
from graphql_api.errors import Conflict, FieldErrors, NotFound
from graphql_api.services import validation
from graphql_api.services.queries import raise_for_unique, search_condition


@dataclass(frozen=True, slots=True)
class CenterFilter:
    search: str | None = None
    is_active: bool | None = None


@dataclass(frozen=True, slots=True)
class EnvironmentFilter:
    center_ids: list[uuid.UUID] | None = None
    is_warehouse: bool | None = None
    is_active: bool | None = None
    search: str | None = None


def centers_query(principal: Principal, where: CenterFilter | None = None) -> Select[Center]:
    stmt = select(Center).where(center_filter(principal))
    if where is not None:
        if where.search:
            stmt = stmt.where(search_condition(where.search, Center.name, Center.code))
        if where.is_active is not None:
            stmt = stmt.where(Center.is_active.is_(where.is_active))
    return stmt


def environments_query(principal: Principal, where: EnvironmentFilter | None = None) -> Select[Environment]:
    stmt = select(Environment).where(environment_filter(principal, Environment.id))
    if where is not None:
        if where.center_ids is not None:
            stmt = stmt.where(Environment.center_id.in_(where.center_ids))
        if where.is_warehouse is not None:
            stmt = stmt.where(Environment.is_warehouse.is_(where.is_warehouse))
        if where.is_active is not None:
            stmt = stmt.where(Environment.is_active.is_(where.is_active))
        if where.search:
            stmt = stmt.where(search_condition(where.search, Environment.name, Environment.code, Environment.location))
    return stmt


_CODE_CONSTRAINTS = {
    "uq_centers_code": ("code", "field.code_taken"),
    "uq_environments_code": ("code", "field.code_taken"),
}


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise_for_unique(error, _CODE_CONSTRAINTS)


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
    await _flush_unique(session)
    return center


async def get_center_for_update(session: AsyncSession, center_id: uuid.UUID) -> Center:
    center = await session.get(Center, center_id, with_for_update=True)
    if center is None:
        raise NotFound("center")
    return center


async def update_center(session: AsyncSession, center_id: uuid.UUID, **changes: object) -> Center:
    center = await get_center_for_update(session, center_id)
    errors = FieldErrors()
    fields = _clean_fields(errors, changes)
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(center, key, value)
    await _flush_unique(session)
    return center


async def set_center_active(session: AsyncSession, center_id: uuid.UUID, active: bool) -> Center:
    center = await get_center_for_update(session, center_id)
    if center.is_active == active:
        raise Conflict("error.already_in_state")
    center.is_active = active
    await session.flush()
    return center


async def create_environment(session: AsyncSession, **values: object) -> Environment:
    errors = FieldErrors()
    fields = _clean_fields(errors, values)
    center = await session.get(Center, fields.get("center_id"))
    if center is None:
        errors.add("centerId", "field.not_found")
    errors.raise_if_any()
    environment = Environment(**fields)
    session.add(environment)
    await _flush_unique(session)
    return environment


async def get_environment_for_update(session: AsyncSession, environment_id: uuid.UUID) -> Environment:
    environment = await session.get(Environment, environment_id, with_for_update=True)
    if environment is None:
        raise NotFound("environment")
    return environment


async def update_environment(session: AsyncSession, environment_id: uuid.UUID, **changes: object) -> Environment:
    environment = await get_environment_for_update(session, environment_id)
    errors = FieldErrors()
    fields = _clean_fields(errors, changes)
    if "center_id" in fields and await session.get(Center, fields["center_id"]) is None:
        errors.add("centerId", "field.not_found")
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(environment, key, value)
    await _flush_unique(session)
    return environment


async def set_environment_active(session: AsyncSession, environment_id: uuid.UUID, active: bool) -> Environment:
    environment = await get_environment_for_update(session, environment_id)
    if environment.is_active == active:
        raise Conflict("error.already_in_state")
    environment.is_active = active
    await session.flush()
    return environment
