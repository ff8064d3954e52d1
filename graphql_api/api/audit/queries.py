"""The audit log, for ADMIN_GENERAL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.api.audit.types import AuditLogEntry
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import sort_key
from graphql_api.api.core.pagination import (
    NOT_GIVEN,
    After,
    Before,
    Connection,
    First,
    Last,
    NodeIdArg,
    PageArgs,
    connection,
)
from graphql_api.api.core.relay import decode_id, filter_ids
from graphql_api.api.enums import AuditOutcome, SortDirection, to_model
from graphql_api.db import models
from graphql_api.services import audit_queries


@strawberry.input(description="Filters for the audit log; all given conditions must hold.")
class AuditLogWhere:
    actor_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only these actors.")
    operations: list[str] | None = strawberry.field(default=None, description="Only these operations (mutation names).")
    entity_type: str | None = strawberry.field(default=None, description="Only this table.")
    entity_id: str | None = strawberry.field(default=None, description="Only this database id (UUID).")
    outcomes: list[AuditOutcome] | None = strawberry.field(default=None, description="Only these outcomes.")
    from_time: datetime | None = strawberry.field(default=None, description="At or after this time.")
    to_time: datetime | None = strawberry.field(default=None, description="Before this time.")
    request_id: str | None = strawberry.field(default=None, description="Only this request.")


AUDIT_ADMIN = permissions.roles(models.Role.ADMIN_GENERAL)


@strawberry.type
class AuditQuery:
    @strawberry.field(description="One audit entry by ID.", extensions=AUDIT_ADMIN)
    async def audit_log(self, info: Info, id: NodeIdArg) -> AuditLogEntry | None:
        pk = decode_id(id, "AuditLogEntry")
        row = await info.context.loaders.audit_log_by_id.load(pk) if pk else None
        return AuditLogEntry.from_model(row) if row else None

    @strawberry.field(description="The audit log, filtered.", extensions=AUDIT_ADMIN)
    def audit_logs(
        self,
        info: Info,
        where: Annotated[AuditLogWhere | None, strawberry.argument(description="Filters.")] = None,
        direction: Annotated[
            SortDirection, strawberry.argument(description="By time; newest first by default.")
        ] = SortDirection.DESC,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[AuditLogEntry]:
        filters = audit_queries.AuditFilter()
        if where is not None:
            filters = audit_queries.AuditFilter(
                actor_ids=filter_ids(where.actor_ids, "User"),
                operations=where.operations,
                entity_type=where.entity_type,
                entity_id=where.entity_id,
                outcomes=[to_model(o, models.AuditOutcome) for o in where.outcomes] if where.outcomes else None,
                from_time=where.from_time,
                to_time=where.to_time,
                request_id=where.request_id,
            )
        key = sort_key("audit:time", models.AuditLog.created_at, models.AuditLog.id, direction)
        return connection(
            info.context,
            audit_queries.audit_query(filters),
            key,
            PageArgs(first, after, last, before),
            AuditLogEntry.from_model,
        )
