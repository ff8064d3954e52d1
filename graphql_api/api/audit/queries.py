"""The audit log, for ADMIN_GENERAL."""

from __future__ import annotations

import strawberry

from graphql_api.api.audit.types import AuditLogEntry
from graphql_api.api.core import permissions
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.db import models
from graphql_api.services import audit_queries

AUDIT_ADMIN = permissions.roles(models.Role.ADMIN_GENERAL)


@strawberry.type
class AuditQuery:
    audit_log = by_id_field(AuditLogEntry, description="One audit entry by ID.", permission=AUDIT_ADMIN)
    audit_logs = list_field(
        AuditLogEntry,
        description="The audit log, filtered.",
        filters=audit_queries.AUDIT_FILTERS,
        ordering=audit_queries.AUDIT_ORDER,
        permission=AUDIT_ADMIN,
    )
