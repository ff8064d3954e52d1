"""GraphQL enums of the domains; each mirrors a model enum member for member (`@mirrors`)."""

from __future__ import annotations

import enum

import strawberry

from graphql_api.api.core.enums import Role, SortDirection, mirrors, to_api, to_model
from graphql_api.db import models


@mirrors(models.Language)
@strawberry.enum(description="Language of messages, notifications and reports.")
class Language(enum.Enum):
    ES = strawberry.enum_value("ES", description="Spanish (default).")
    EN = strawberry.enum_value("EN", description="English.")


@mirrors(models.Theme)
@strawberry.enum(description="Colour theme preferred by the user in the clients.")
class Theme(enum.Enum):
    LIGHT = strawberry.enum_value("LIGHT", description="Light theme.")
    DARK = strawberry.enum_value("DARK", description="Dark theme.")
    SYSTEM = strawberry.enum_value("SYSTEM", description="Follow the device setting.")


@mirrors(models.ItemCategory)
@strawberry.enum(description="Kind of equipment.")
class ItemCategory(enum.Enum):
    COMPUTER = strawberry.enum_value("COMPUTER", description="Desktop or laptop computer.")
    PROJECTOR = strawberry.enum_value("PROJECTOR", description="Video projector.")
    KEYBOARD = strawberry.enum_value("KEYBOARD", description="Keyboard.")
    MOUSE = strawberry.enum_value("MOUSE", description="Mouse.")
    TV = strawberry.enum_value("TV", description="Television or large display.")
    CAMERA = strawberry.enum_value("CAMERA", description="Photo or video camera.")
    MICROPHONE = strawberry.enum_value("MICROPHONE", description="Microphone.")
    TABLET = strawberry.enum_value("TABLET", description="Tablet.")
    OTHER = strawberry.enum_value("OTHER", description="Anything else.")


@mirrors(models.ItemType)
@strawberry.enum(description="Whether an item row is one unit or a group of identical units.")
class ItemType(enum.Enum):
    INDIVIDUAL = strawberry.enum_value("INDIVIDUAL", description="One serial-numbered unit (quantity 1).")
    GROUP = strawberry.enum_value("GROUP", description="N identical units counted together.")


@mirrors(models.ItemStatus)
@strawberry.enum(description="Lifecycle of an item. Items are retired, never deleted.")
class ItemStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="In service.")
    RETIRED = strawberry.enum_value("RETIRED", description="Out of service for good; history is kept.")


@mirrors(models.ItemCondition)
@strawberry.enum(description="Display condition, computed from the unit buckets (never stored).")
class ItemCondition(enum.Enum):
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="Every unit is available.")
    IN_USE = strawberry.enum_value("IN_USE", description="Every unit is out on loan.")
    MAINTENANCE = strawberry.enum_value("MAINTENANCE", description="Every unit is in maintenance.")
    DAMAGED = strawberry.enum_value("DAMAGED", description="Every unit is damaged.")
    MISSING = strawberry.enum_value("MISSING", description="Every unit is missing.")
    PARTIAL = strawberry.enum_value("PARTIAL", description="A mix of available and unavailable units.")


@mirrors(models.MovementReason)
@strawberry.enum(description="Why a stock movement happened.")
class MovementReason(enum.Enum):
    INITIAL = strawberry.enum_value("INITIAL", description="Stock registered when the item was created.")
    RESTOCK = strawberry.enum_value("RESTOCK", description="Units added (purchase, transfer in).")
    CORRECTION = strawberry.enum_value("CORRECTION", description="Manual correction of a counting error.")
    VERIFICATION_FINDING = strawberry.enum_value(
        "VERIFICATION_FINDING", description="Applied from an approved daily check."
    )
    LOAN_OUT = strawberry.enum_value("LOAN_OUT", description="Units delivered on loan.")
    LOAN_RETURN = strawberry.enum_value("LOAN_RETURN", description="Units returned from a loan.")
    MAINTENANCE_OUT = strawberry.enum_value("MAINTENANCE_OUT", description="Units sent to maintenance.")
    MAINTENANCE_RETURN = strawberry.enum_value("MAINTENANCE_RETURN", description="Units back from maintenance.")
    LOSS = strawberry.enum_value("LOSS", description="Units lost or written off.")
    RETIRE = strawberry.enum_value("RETIRE", description="The item was retired.")


@mirrors(models.AuditOutcome)
@strawberry.enum(description="How an audited operation ended.")
class AuditOutcome(enum.Enum):
    SUCCESS = strawberry.enum_value("SUCCESS", description="The operation succeeded and its changes were committed.")
    FAILURE = strawberry.enum_value("FAILURE", description="The operation failed; nothing was changed.")
    DENIED = strawberry.enum_value("DENIED", description="The caller was not allowed to run the operation.")


__all__ = [
    "AuditOutcome",
    "ItemCategory",
    "ItemCondition",
    "ItemStatus",
    "ItemType",
    "Language",
    "MovementReason",
    "Role",
    "SortDirection",
    "Theme",
    "to_api",
    "to_model",
]
