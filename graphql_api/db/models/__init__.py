"""All ORM models; Alembic's env.py imports this package to see the whole metadata."""

from graphql_api.db.base import Base
from graphql_api.db.models.audit import AuditLog
from graphql_api.db.models.enums import (
    AuditOutcome,
    ItemCategory,
    ItemCondition,
    ItemStatus,
    ItemType,
    Language,
    MovementReason,
    Role,
    Theme,
)
from graphql_api.db.models.item import BUCKETS, MAX_QUANTITY, InventoryItem, InventoryMovement
from graphql_api.db.models.organization import Center, Environment
from graphql_api.db.models.user import LoginThrottle, RefreshToken, User, UserSettings

__all__ = [
    "BUCKETS",
    "MAX_QUANTITY",
    "AuditLog",
    "AuditOutcome",
    "Base",
    "Center",
    "Environment",
    "InventoryItem",
    "InventoryMovement",
    "ItemCategory",
    "ItemCondition",
    "ItemStatus",
    "ItemType",
    "Language",
    "LoginThrottle",
    "MovementReason",
    "RefreshToken",
    "Role",
    "Theme",
    "User",
    "UserSettings",
]
