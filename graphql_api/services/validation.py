"""Small input checks shared by services; each adds to a `FieldErrors` instead of raising."""

from __future__ import annotations

import re

from graphql_api.errors import FieldErrors

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def camel(name: str) -> str:
    """The API's name of an input field (`valid_from` -> `validFrom`), for field errors."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def text(errors: FieldErrors, field: str, value: str | None, *, max_len: int, required: bool = False) -> str | None:
    """The trimmed value; blank optional text becomes None."""
    if value is None:
        if required:
            errors.add(field, "field.required")
        return None
    cleaned = value.strip()
    if not cleaned:
        if required:
            errors.add(field, "field.blank")
        return None
    if len(cleaned) > max_len:
        errors.add(field, "field.too_long", max=max_len)
    return cleaned


def required_text(errors: FieldErrors, field: str, value: str, *, max_len: int) -> str:
    return text(errors, field, value, max_len=max_len, required=True) or ""


def email(errors: FieldErrors, field: str, value: str) -> str:
    cleaned = value.strip().lower()
    if len(cleaned) > 255 or not EMAIL_RE.match(cleaned):
        errors.add(field, "field.invalid_email")
    return cleaned


def url(errors: FieldErrors, field: str, value: str | None) -> str | None:
    cleaned = text(errors, field, value, max_len=500)
    if cleaned is not None and not cleaned.lower().startswith(("http://", "https://")):
        errors.add(field, "field.invalid_url")
    return cleaned


def int_range(
    errors: FieldErrors,
    field: str,
    value: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    if minimum is not None and value < minimum:
        errors.add(field, "field.min_value", min=minimum)
    if maximum is not None and value > maximum:
        errors.add(field, "field.max_value", max=maximum)
    return value
