"""Value sets shared by the database, the services and the API (one definition each)."""

from __future__ import annotations

import enum


class Role(enum.Enum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"
    ADMIN_GENERAL = "ADMIN_GENERAL"


class Language(enum.Enum):
    ES = "ES"
    EN = "EN"


class Theme(enum.Enum):
    LIGHT = "LIGHT"
    DARK = "DARK"
    SYSTEM = "SYSTEM"


class ItemCategory(enum.Enum):
    COMPUTER = "COMPUTER"
    PROJECTOR = "PROJECTOR"
    KEYBOARD = "KEYBOARD"
    MOUSE = "MOUSE"
    TV = "TV"
    CAMERA = "CAMERA"
    MICROPHONE = "MICROPHONE"
    TABLET = "TABLET"
    OTHER = "OTHER"


class ItemType(enum.Enum):
    INDIVIDUAL = "INDIVIDUAL"
    GROUP = "GROUP"


class ItemStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class ItemCondition(enum.Enum):
    """Computed from the buckets for display; never stored."""

    AVAILABLE = "AVAILABLE"
    IN_USE = "IN_USE"
    MAINTENANCE = "MAINTENANCE"
    DAMAGED = "DAMAGED"
    MISSING = "MISSING"
    PARTIAL = "PARTIAL"


class MovementReason(enum.Enum):
    INITIAL = "INITIAL"
    RESTOCK = "RESTOCK"
    CORRECTION = "CORRECTION"
    VERIFICATION_FINDING = "VERIFICATION_FINDING"
    LOAN_OUT = "LOAN_OUT"
    LOAN_RETURN = "LOAN_RETURN"
    MAINTENANCE_OUT = "MAINTENANCE_OUT"
    MAINTENANCE_RETURN = "MAINTENANCE_RETURN"
    LOSS = "LOSS"
    RETIRE = "RETIRE"


class AuditOutcome(enum.Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    DENIED = "DENIED"


class NotificationPriority(enum.Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class AlertType(enum.Enum):
    LOW_STOCK = "LOW_STOCK"
    MAINTENANCE_DUE = "MAINTENANCE_DUE"
    EQUIPMENT_MISSING = "EQUIPMENT_MISSING"
    LOAN_OVERDUE = "LOAN_OVERDUE"
    VERIFICATION_PENDING = "VERIFICATION_PENDING"


class AlertSeverity(enum.Enum):
    """In increasing order: a minimum severity admits its own and every later one."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class AlertStatus(enum.Enum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class CheckStatus(enum.Enum):
    STUDENT_PENDING = "STUDENT_PENDING"
    INSTRUCTOR_REVIEW = "INSTRUCTOR_REVIEW"
    SUPERVISOR_REVIEW = "SUPERVISOR_REVIEW"
    APPROVED = "APPROVED"


class ReviewDecision(enum.Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class MaintenanceStatus(enum.Enum):
    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class MaintenancePriority(enum.Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    URGENT = "URGENT"


class MaintenanceType(enum.Enum):
    PREVENTIVE = "PREVENTIVE"
    CORRECTIVE = "CORRECTIVE"
    UPGRADE = "UPGRADE"


class LoanStatus(enum.Enum):
    """PENDING → APPROVED → DELIVERED → RETURNED; PENDING → REJECTED | CANCELLED;
    DELIVERED → OVERDUE (periodic job) → RETURNED."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    DELIVERED = "DELIVERED"
    OVERDUE = "OVERDUE"
    RETURNED = "RETURNED"


class LoanPriority(enum.Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
