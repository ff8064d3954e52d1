"""What the audit domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById
from graphql_api.db import models
from graphql_api.services import audit_queries

AUDIT_ENTRY_BY_ID = ById(models.AuditLog, audit_queries.visible_audit_entries)
