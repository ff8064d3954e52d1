"""GraphQL enums. Each mirrors a model enum member for member (a test checks it), so
conversion is by name: `models.Role[gql_role.name]`."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=enum.Enum)


def to_model(value: enum.Enum, model_enum: type[E]) -> E:
    return model_enum[value.name]


def to_api(value: enum.Enum, api_enum: type[E]) -> E:
    return api_enum[value.name]


@strawberry.enum(description="What a user may do; see the README's permission table.")
class Role(enum.Enum):
    STUDENT = strawberry.enum_value("STUDENT", description="Trainee: first stage of the daily check of the home room.")
    INSTRUCTOR = strawberry.enum_value(
        "INSTRUCTOR", description="Teacher: reviews checks, requests loans, manages own schedules."
    )
    SUPERVISOR = strawberry.enum_value(
        "SUPERVISOR", description="Approves checks and manages items and maintenance in the center."
    )
    ADMIN = strawberry.enum_value("ADMIN", description="Warehouse administrator: manages one warehouse and its loans.")
    ADMIN_GENERAL = strawberry.enum_value("ADMIN_GENERAL", description="System-wide administrator.")


@strawberry.enum(description="Language of messages, notifications and reports.")
class Language(enum.Enum):
    ES = strawberry.enum_value("ES", description="Spanish (default).")
    EN = strawberry.enum_value("EN", description="English.")


@strawberry.enum(description="Colour theme preferred by the user in the clients.")
class Theme(enum.Enum):
    LIGHT = strawberry.enum_value("LIGHT", description="Light theme.")
    DARK = strawberry.enum_value("DARK", description="Dark theme.")
    SYSTEM = strawberry.enum_value("SYSTEM", description="Follow the device setting.")


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


@strawberry.enum(description="Whether an item row is one unit or a group of identical units.")
class ItemType(enum.Enum):
    INDIVIDUAL = strawberry.enum_value("INDIVIDUAL", description="One serial-numbered unit (quantity 1).")
    GROUP = strawberry.enum_value("GROUP", description="N identical units counted together.")


@strawberry.enum(description="Lifecycle of an item. Items are retired, never deleted.")
class ItemStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="In service.")
    RETIRED = strawberry.enum_value("RETIRED", description="Out of service for good; history is kept.")


@strawberry.enum(description="Display condition, computed from the unit buckets (never stored).")
class ItemCondition(enum.Enum):
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="Every unit is available.")
    IN_USE = strawberry.enum_value("IN_USE", description="Every unit is out on loan.")
    MAINTENANCE = strawberry.enum_value("MAINTENANCE", description="Every unit is in maintenance.")
    DAMAGED = strawberry.enum_value("DAMAGED", description="Every unit is damaged.")
    MISSING = strawberry.enum_value("MISSING", description="Every unit is missing.")
    PARTIAL = strawberry.enum_value("PARTIAL", description="A mix of available and unavailable units.")


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


@strawberry.enum(description="How an audited operation ended.")
class AuditOutcome(enum.Enum):
    SUCCESS = strawberry.enum_value("SUCCESS", description="The operation succeeded and its changes were committed.")
    FAILURE = strawberry.enum_value("FAILURE", description="The operation failed; nothing was changed.")
    DENIED = strawberry.enum_value("DENIED", description="The caller was not allowed to run the operation.")


@strawberry.enum(description="Sort direction.")
class SortDirection(enum.Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending.")
    DESC = strawberry.enum_value("DESC", description="Descending.")
