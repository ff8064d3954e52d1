"""Domain exceptions raised by services; the API layer maps each to a GraphQL error type.

    DomainError
    ├── NotFound            the object does not exist *or is outside the caller's scope*
    ├── Conflict            the state changed under you: wrong status, duplicate, stale version
    ├── ValidationFailed    the input breaks a rule; carries one FieldError per offending field
    ├── PermissionDenied    the caller may see the object but not do this to it
    ├── InvalidCredentials  login failed (same answer for unknown user and wrong password)
    └── RateLimited         too many attempts; carries the seconds to wait

Messages are catalogue keys (see `graphql_api.i18n`), translated when the error is rendered, so
services never deal with languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    code = "ERROR"
    message_key = "error.generic"

    def __init__(self, message_key: str | None = None, **params: Any) -> None:
        self.message_key = message_key or type(self).message_key
        self.params = params
        super().__init__(self.message_key)


class NotFound(DomainError):
    code = "NOT_FOUND"
    message_key = "error.not_found"

    def __init__(self, entity: str = "object", message_key: str | None = None) -> None:
        super().__init__(message_key, entity=entity)
        self.entity = entity


class Conflict(DomainError):
    code = "CONFLICT"
    message_key = "error.conflict"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    message_key = "error.permission_denied"


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    message_key = "error.invalid_credentials"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    message_key = "error.rate_limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(None, seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"
    message_key = "error.validation"

    def __init__(self, *field_errors: FieldError) -> None:
        super().__init__(None)
        self.field_errors = list(field_errors)

    @classmethod
    def single(cls, field_name: str, code: str, **params: Any) -> ValidationFailed:
        return cls(FieldError(field_name, code, params))


class FieldErrors:
    """Collects field errors while validating an input, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field_name: str, code: str, **params: Any) -> None:
        self.errors.append(FieldError(field_name, code, params))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(*self.errors)
