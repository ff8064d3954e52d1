"""Audit log entries as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from graphql_api.api.audit.loaders import AUDIT_ENTRY_BY_ID
from graphql_api.api.core.enums import Role
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.enums import AuditOutcome
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models


@model_type(
    models.AuditLog,
    name="AuditLogEntry",
    loader=AUDIT_ENTRY_BY_ID,
    description="One audited operation: a mutation (success or failure) or a sign-in attempt.",
    computed={"entity_id": lambda row: str(row.entity_id) if row.entity_id else None},
    related={"actor": Relation(USER_BY_ID, "actor_id", lambda: User, required=False)},
)
class AuditLogEntry(Node, ModelObject):
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
    actor: User | None = strawberry.field(description="Who did it (null for anonymous attempts).")
