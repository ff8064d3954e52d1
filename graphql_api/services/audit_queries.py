"""Reading the audit log: ADMIN_GENERAL only, in the SQL as on every other read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true

from graphql_api.auth.scope import Principal
from graphql_api.db.models import AuditLog, Role
from graphql_api.services.filtering import AnyOf, Bound, Custom, Equals, Filters, OrderField, Ordering


def visible_audit_entries(principal: Principal) -> Select[Any]:
    return select(AuditLog).where(true() if principal.role is Role.ADMIN_GENERAL else false())


def _entity_id(value: str) -> ColumnElement[bool]:
    try:
        return AuditLog.entity_id == uuid.UUID(value)
    except ValueError:
        return false()


AUDIT_FILTERS = Filters(
    "AuditLog",
    "Filters for the audit log; all given conditions must hold.",
    {
        "actor_ids": AnyOf(AuditLog.actor_id, "Only these actors.", ids="User"),
        "operations": AnyOf(AuditLog.operation, "Only these operations (mutation names)."),
        "entity_type": Equals(AuditLog.entity_type, "Only this table."),
        "entity_id": Custom(_entity_id, "Only this database id (UUID)."),
        "outcomes": AnyOf(AuditLog.outcome, "Only these outcomes."),
        "from_time": Bound(AuditLog.created_at, "At or after this time."),
        "to_time": Bound(AuditLog.created_at, "Before this time.", lower=False),
        "request_id": Equals(AuditLog.request_id, "Only this request."),
    },
)
AUDIT_ORDER = Ordering(
    "AuditLog",
    {"CREATED_AT": OrderField(AuditLog.created_at, "By time.")},
    default="CREATED_AT",
    default_descending=True,
    id_column=AuditLog.id,
    direction_only=True,
)
