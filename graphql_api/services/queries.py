"""Reusable pieces of read queries: text search and the integrity-error mapping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError

from graphql_api.errors import FieldError, ValidationFailed


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
