"""All ORM models; Alembic's env.py imports this package to see the whole metadata."""

from graphql_api.db.base import Base
from graphql_api.db.models.alert import AlertSettings, SystemAlert
from graphql_api.db.models.audit import AuditLog
from graphql_api.db.models.check import CheckItem, CheckReminder, CheckReview, InventoryCheck
from graphql_api.db.models.enums import (
    AlertSeverity,
    AlertStatus,
    AlertType,
    AuditOutcome,
    CheckStatus,
    ItemCategory,
    ItemCondition,
    ItemStatus,
    ItemType,
    Language,
    LoanPriority,
    LoanStatus,
    MaintenancePriority,
    MaintenanceStatus,
    MaintenanceType,
    MovementReason,
    NotificationPriority,
    ReviewDecision,
    Role,
    Theme,
)
from graphql_api.db.models.events import JobRun, OutboxEvent
from graphql_api.db.models.item import BUCKETS, MAX_QUANTITY, InventoryItem, InventoryMovement
from graphql_api.db.models.loan import HOLDING, Loan
from graphql_api.db.models.maintenance import MaintenancePlan, MaintenanceRecord, MaintenanceRequest
from graphql_api.db.models.notification import Notification
from graphql_api.db.models.organization import Center, Environment
from graphql_api.db.models.schedule import Schedule
from graphql_api.db.models.user import LoginThrottle, RefreshToken, User, UserSettings

__all__ = [
    "BUCKETS",
    "HOLDING",
    "MAX_QUANTITY",
    "AlertSettings",
    "AlertSeverity",
    "AlertStatus",
    "AlertType",
    "AuditLog",
    "AuditOutcome",
    "Base",
    "Center",
    "CheckItem",
    "CheckReminder",
    "CheckReview",
    "CheckStatus",
    "Environment",
    "InventoryCheck",
    "InventoryItem",
    "InventoryMovement",
    "ItemCategory",
    "ItemCondition",
    "ItemStatus",
    "ItemType",
    "JobRun",
    "Language",
    "Loan",
    "LoanPriority",
    "LoanStatus",
    "LoginThrottle",
    "MaintenancePlan",
    "MaintenancePriority",
    "MaintenanceRecord",
    "MaintenanceRequest",
    "MaintenanceStatus",
    "MaintenanceType",
    "MovementReason",
    "Notification",
    "NotificationPriority",
    "OutboxEvent",
    "RefreshToken",
    "ReviewDecision",
    "Role",
    "Schedule",
    "SystemAlert",
    "Theme",
    "User",
    "UserSettings",
]
