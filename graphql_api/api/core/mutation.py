"""Every mutation runs through `TransactionalMutation`: one transaction, one audit row.

    audit + transaction (outermost)  ->  permission check  ->  resolver  ->  service

On success the audit row (actor, operation, entity, old/new values, outcome, request id,
duration) is written in the mutation's own transaction, then it commits, then the after-commit
callbacks run (events). On any failure the transaction rolls back, the service's `on_failure`
effects and a FAILURE/DENIED audit row are written in a fresh transaction, and the exception
continues to the exception handlers, which turn expected ones into result-union members.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import FieldExtension

from graphql_api.api.core.context import Context, Info
from graphql_api.db.engine import is_db_unavailable
from graphql_api.db.models import AuditOutcome, Role
from graphql_api.errors import DomainError
from graphql_api.services import audit, unit_of_work
from graphql_api.services.unit_of_work import commit_callbacks, failure_effects

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def _actor(context: Context, session: AsyncSession | None) -> Any:
    if session is not None and audit.ACTOR_KEY in session.info:
        return session.info[audit.ACTOR_KEY]
    principal = context.principal
    return (principal.id, principal.role) if principal is not None else None


class TransactionalMutation(FieldExtension):
    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        context = info.context
        operation = info.field_name
        started = time.perf_counter()
        session: AsyncSession | None = None
        try:
            async with context.db.transaction() as session:
                # What loaders hold from before may be stale once this transaction writes;
                # loads made inside it see its writes (and are forgotten if it rolls back).
                context.loaders.clear()
                # The caller is loaded in the transaction, as its first statement (the
                # permission check below then finds it done).
                await context.authenticate()
                _reset_unit_of_work(session)
                context.session = session
                result = await next_(source, info, **kwargs)
                await audit.write_entry(
                    session,
                    operation=operation,
                    outcome=AuditOutcome.SUCCESS,
                    actor=_actor(context, session),
                    meta=context.meta,
                    duration_ms=_elapsed_ms(started),
                    changes=audit.collected_changes(session),
                )
            callbacks = commit_callbacks(session)
        except Exception as error:
            context.loaders.clear()
            await self._record_failure(context, session, operation, error, started)
            raise
        finally:
            context.session = None
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                # The change is committed; a lost event must not turn success into an error.
                log.exception("after-commit callback failed in %s", operation)
        return result

    async def _record_failure(
        self,
        context: Context,
        failed_session: AsyncSession | None,
        operation: str,
        error: Exception,
        started: float,
    ) -> None:
        if is_db_unavailable(error):
            return  # nowhere to write it; the error log has the request id
        if isinstance(error, GraphQLError):
            outcome, code = AuditOutcome.DENIED, str((error.extensions or {}).get("code", "DENIED"))
        elif isinstance(error, DomainError):
            outcome, code = AuditOutcome.FAILURE, error.code
        else:
            outcome, code = AuditOutcome.FAILURE, "INTERNAL"
        effects = failure_effects(failed_session) if failed_session is not None else []
        targets = audit.targets(failed_session) if failed_session is not None else []
        actor = _actor(context, failed_session)
        try:
            async with context.db.transaction() as session:
                _reset_unit_of_work(session)
                for effect in effects:
                    await effect(session)
                await audit.write_entry(
                    session,
                    operation=operation,
                    outcome=outcome,
                    actor=actor,
                    meta=context.meta,
                    duration_ms=_elapsed_ms(started),
                    changes=targets,
                    error_code=code,
                )
        except Exception:
            log.exception("could not record the failure of %s", operation)


def _reset_unit_of_work(session: AsyncSession) -> None:
    # The session lives for the whole request; each mutation starts with clean bookkeeping.
    for key in (audit.CHANGES_KEY, audit.ACTOR_KEY, audit.TARGET_KEY, *unit_of_work.KEYS):
        session.info.pop(key, None)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def mutation(
    *,
    description: str,
    permission: list[FieldExtension] | None = None,
) -> Callable[[F], Any]:
    """Declare a mutation: permission (if any), then the transaction and audit wrapper.

    Field extensions wrap in list order, innermost first, so the transaction is listed last
    to see (and audit) permission denials too.
    """

    def decorator(resolver: F) -> Any:
        field = strawberry.mutation(
            resolver=resolver,
            description=description,
            extensions=[*(permission or []), TransactionalMutation()],
        )
        for argument in field.arguments:
            if argument.python_name == "input" and not argument.description:
                argument.description = "What to do; see the input type's fields."
        return field

    return decorator


__all__ = ["Role", "TransactionalMutation", "mutation"]
