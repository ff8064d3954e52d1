"""Audit log entries as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphql_api.api.core.context import Info
from graphql_api.api.core.relay import Node, encode_id
from graphql_api.api.enums import AuditOutcome, Role, to_api
from graphql_api.api.users.types import User
from graphql_api.db import models


@strawberry.type(description="One audited operation: a mutation (success or failure) or a sign-in attempt.")
class AuditLogEntry(Node):
    _model: strawberry.Private[models.AuditLog]
    operation: str = strawberry.field(description="GraphQL mutation name, e.g. `adjustItemStock`.")
    actor_role: Role | None = strawberry.field(description="The actor's role at the time.")
    entity_type: str | None = strawberry.field(description="Table of the main object changed.")
    entity_id: str | None = strawberry.field(description="Database id (UUID) of the main object changed.")
    changes: JSON = strawberry.field(description="Old and new values of every changed field; secrets are never stored.")
    outcome: AuditOutcome = strawberry.field(description="How it ended.")
    error_code: str | None = strawberry.field(description="Error code when it failed.")
    client_ip: str | None = strawberry.field(description="Client address (proxy headers only from trusted proxies).")
    user_agent: str | None = strawberry.field(description="Client user agent.")
    request_id: str | None = strawberry.field(description="Request id, also in the server log.")
    duration_ms: int = strawberry.field(description="Time the operation took.")
    created_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_model(cls, row: models.AuditLog) -> AuditLogEntry:
        return cls(
            _model=row,
            id=encode_id("AuditLogEntry", row.id),
            operation=row.operation,
            actor_role=to_api(row.actor_role, Role) if row.actor_role else None,
            entity_type=row.entity_type,
            entity_id=str(row.entity_id) if row.entity_id else None,
            changes=cast(JSON, row.changes),
            outcome=to_api(row.outcome, AuditOutcome),
            error_code=row.error_code,
            client_ip=row.client_ip,
            user_agent=row.user_agent,
            request_id=row.request_id,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
        )

    @strawberry.field(description="Who did it (null for anonymous attempts).")
    async def actor(self, info: Info) -> User | None:
        if self._model.actor_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self._model.actor_id)
        return User.from_model(row) if row else None
