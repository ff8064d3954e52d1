"""GraphQL error types, the handlers that turn domain exceptions into them, and the
extension that gives every top-level error a stable `extensions.code`.

Expected failures of a mutation are members of its result union (ValidationError,
NotFoundError, ConflictError, PermissionDeniedError, ...), produced by the exception handlers
below, so resolvers contain no try/except. Everything else is a top-level error whose code is
one of UNAUTHENTICATED, FORBIDDEN, BAD_REQUEST, RATE_LIMITED, DB_UNAVAILABLE or INTERNAL;
INTERNAL errors are masked and logged with the request id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult, StreamExecutionResult
from strawberry.types.field import StrawberryField

from graphql_api import errors
from graphql_api.api.core.context import Info
from graphql_api.db.engine import is_db_unavailable
from graphql_api.i18n import translate

log = logging.getLogger("graphql_api.errors")


@strawberry.interface(description="An expected failure of a mutation, returned in its result union.")
class Error:
    message: str = strawberry.field(description="Human-readable explanation, in the caller's language.")
    code: str = strawberry.field(description="Stable machine-readable code; never translated.")


@strawberry.type(name="FieldError", description="A problem with one input field.")
class FieldErrorType:
    field: str = strawberry.field(description="The input field, as named in the schema (camelCase).")
    message: str = strawberry.field(description="What is wrong, in the caller's language.")
    code: str = strawberry.field(description="Stable code, e.g. `EMAIL_TAKEN`, `TOO_LONG`.")


@strawberry.type(description="The input broke one or more rules; nothing was changed.")
class ValidationError(Error):
    field_errors: list[FieldErrorType] = strawberry.field(description="One entry per offending field.")


@strawberry.type(description="The object does not exist, or is outside what the caller may see.")
class NotFoundError(Error):
    pass


@strawberry.type(description="The state changed under you (wrong status, duplicate, stale version); reload and retry.")
class ConflictError(Error):
    pass


@strawberry.type(description="The caller can see the object but may not do this to it.")
class PermissionDeniedError(Error):
    pass


@strawberry.type(description="Wrong e-mail or password, or an invalid refresh token. Same answer whatever the cause.")
class InvalidCredentialsError(Error):
    pass


def _language(info: Info) -> str:
    return info.context.language


def field_error_code(key: str) -> str:
    return key.split(".", 1)[-1].upper()


class ValidationHandler(strawberry.ExceptionHandler[errors.ValidationFailed, ValidationError]):
    def handle(self, exception: errors.ValidationFailed, *, field: StrawberryField, info: Info) -> ValidationError:
        language = _language(info)
        return ValidationError(
            message=translate(exception.message_key, language),
            code="VALIDATION_FAILED",
            field_errors=[
                FieldErrorType(
                    field=e.field, message=translate(e.code, language, e.params), code=field_error_code(e.code)
                )
                for e in exception.field_errors
            ],
        )


class NotFoundHandler(strawberry.ExceptionHandler[errors.NotFound, NotFoundError]):
    def handle(self, exception: errors.NotFound, *, field: StrawberryField, info: Info) -> NotFoundError:
        return NotFoundError(message=translate(exception.message_key, _language(info)), code="NOT_FOUND")


class ConflictHandler(strawberry.ExceptionHandler[errors.Conflict, ConflictError]):
    def handle(self, exception: errors.Conflict, *, field: StrawberryField, info: Info) -> ConflictError:
        return ConflictError(
            message=translate(exception.message_key, _language(info), exception.params),
            code="CONFLICT",
        )


class PermissionDeniedHandler(strawberry.ExceptionHandler[errors.PermissionDenied, PermissionDeniedError]):
    def handle(
        self, exception: errors.PermissionDenied, *, field: StrawberryField, info: Info
    ) -> PermissionDeniedError:
        return PermissionDeniedError(
            message=translate(exception.message_key, _language(info)), code="PERMISSION_DENIED"
        )


class InvalidCredentialsHandler(strawberry.ExceptionHandler[errors.InvalidCredentials, InvalidCredentialsError]):
    def handle(
        self, exception: errors.InvalidCredentials, *, field: StrawberryField, info: Info
    ) -> InvalidCredentialsError:
        return InvalidCredentialsError(
            message=translate(exception.message_key, _language(info)), code="INVALID_CREDENTIALS"
        )


EXCEPTION_HANDLERS = (
    ValidationHandler(),
    NotFoundHandler(),
    ConflictHandler(),
    PermissionDeniedHandler(),
    InvalidCredentialsHandler(),
)

# Top-level codes for domain errors that reach the top (no union member for them).
_TOP_LEVEL_CODES: dict[type[errors.DomainError], str] = {
    errors.RateLimited: "RATE_LIMITED",
    errors.PermissionDenied: "FORBIDDEN",
    errors.InvalidCredentials: "UNAUTHENTICATED",
}


# No document, no operation of that name in it, or an operation type the transport refuses.
_REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)

# strawberry's message for `null` sent to a non-nullable update field embeds Python reprs of
# the type (enum definitions and all); clients get a plain sentence instead.
_MAYBE_NULL = re.compile(r"cannot be explicitly set to null")
_FIELD_NAME = re.compile(r"(?:Field|Argument) '(\w+)'")


def _public_message(error: GraphQLError) -> str:
    if _MAYBE_NULL.search(error.message):
        named = _FIELD_NAME.search(error.message)
        target = f"'{named.group(1)}'" if named else "This field"
        return f"{target} cannot be null; leave it out to keep the current value."
    return error.message


def _unwrap(error: GraphQLError) -> BaseException | None:
    original: BaseException | None = error.original_error
    # graphql-core wraps errors raised in resolvers; a GraphQLError raised on purpose keeps
    # its own extensions.
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def format_error(error: GraphQLError, language: str, request_id: str | None) -> GraphQLError:
    original = _unwrap(error)
    extensions = dict(error.extensions or {})
    if isinstance(original, GraphQLError):
        extensions = {**(original.extensions or {}), **extensions}
        original = None
    if original is None:
        extensions.setdefault("code", "BAD_REQUEST")
        return _rebuild(error, _public_message(error), extensions)
    if isinstance(original, errors.DomainError):
        code = _TOP_LEVEL_CODES.get(type(original), "BAD_REQUEST")
        extra: dict[str, Any] = {"code": code}
        if isinstance(original, errors.RateLimited):
            extra["retryAfterSeconds"] = original.retry_after_seconds
        if isinstance(original, errors.ValidationFailed):
            # A query's bad arguments (no result union to carry them): which, and why.
            extra["fieldErrors"] = [
                {"field": e.field, "code": field_error_code(e.code), "message": translate(e.code, language, e.params)}
                for e in original.field_errors
            ]
        return _rebuild(error, translate(original.message_key, language, original.params), extra)
    reason = is_db_unavailable(original)
    if reason is not None:
        log.warning("database unavailable (%s) request_id=%s: %r", reason, request_id, original)
        return _rebuild(
            error, translate("error.db_unavailable", language), {"code": "DB_UNAVAILABLE", "reason": reason}
        )
    if isinstance(original, _REQUEST_ERRORS):
        # Schema.stream (WebSockets) reports these inside the result; over HTTP they are 400s.
        return _rebuild(error, error.message, {"code": "BAD_REQUEST"})
    if isinstance(original, ValueError | TypeError) and _is_input_error(original):
        return _rebuild(error, translate("error.bad_request", language), {"code": "BAD_REQUEST"})
    log.error(
        "unexpected error request_id=%s path=%s",
        request_id,
        error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _rebuild(error, translate("error.internal", language), {"code": "INTERNAL", "requestId": request_id})


def _is_input_error(error: BaseException) -> bool:
    from strawberry.relay.types import GlobalIDValueError

    return isinstance(error, GlobalIDValueError)


def _rebuild(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Rewrite every top-level error: stable code, translated message, internals masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context = self.execution_context.context
        language = getattr(context, "language", "es")
        meta = getattr(context, "meta", None)
        request_id = getattr(meta, "request_id", None)
        result.errors = [format_error(e, language, request_id) for e in result.errors]

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Schema.stream (operations over WebSockets) sends each result before on_operation
        # resumes: without this, their errors would go out without codes, and unmasked.
        if isinstance(result, ExecutionResult) and result.errors:
            context = self.execution_context.context
            language = getattr(context, "language", "es")
            request_id = getattr(getattr(context, "meta", None), "request_id", None)
            result.errors = [format_error(e, language, request_id) for e in result.errors]
        yield
