"""The audit log: written by the server for every mutation and sign-in, read by ADMIN_GENERAL."""

from graphql_api.api.audit.queries import AuditQuery
from graphql_api.api.audit.types import AuditLogEntry
from graphql_api.api.core.domain import Domain

DOMAIN = Domain(name="audit", query=AuditQuery, types=(AuditLogEntry,))
