"""Reusable pieces of queries: text search, rows locked for update, and flushing under unique
constraints."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.errors import FieldError, NotFound, ValidationFailed

T = TypeVar("T")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(value: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match over `columns`; `%` and `_` in `value` are literal."""
    pattern = f"%{escape_like(value.strip()[:100])}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def constraint_name(error: IntegrityError) -> str:
    original = getattr(error, "orig", None)
    name = getattr(original, "constraint_name", None)
    if name is None and original is not None:
        name = getattr(getattr(original, "__cause__", None), "constraint_name", None)
    return name or str(original or error)


def raise_for_unique(error: IntegrityError, fields: dict[str, tuple[str, str]]) -> None:
    """Turn a unique/check violation named in `fields` ({constraint: (field, code)}) into a
    ValidationFailed; re-raise anything else."""
    name = constraint_name(error)
    for constraint, (field, code) in fields.items():
        if constraint in name:
            raise ValidationFailed(FieldError(field, code)) from None
    raise error


async def flush_unique(session: AsyncSession, fields: dict[str, tuple[str, str]]) -> None:
    """Flush pending changes; a violated unique constraint named in `fields` becomes the
    ValidationFailed of its field (in a savepoint, so the transaction stays usable)."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise_for_unique(error, fields)


async def get_for_update(session: AsyncSession, model: type[T], row_id: uuid.UUID, what: str) -> T:
    """The row locked for the rest of the transaction, or NotFound(`what`)."""
    row = await session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFound(what)
    return row
