"""API enums that mirror model enums member for member, and the two the kit itself needs.

Every stored value set has one model enum (`graphql_api.db.models`) and one GraphQL enum with
the same member names and descriptions for clients; `@mirrors(ModelEnum)` pairs them, so the
kit converts by name wherever it meets one (generated `from_model`, `where:` filters, inputs).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

import strawberry

from graphql_api.db import models

E = TypeVar("E", bound=enum.Enum)
# model enum -> API enum
_MIRRORS: dict[type[enum.Enum], type[enum.Enum]] = {}


def mirrors(model_enum: type[enum.Enum]) -> Callable[[type[E]], type[E]]:
    """Pair an API enum with the model enum it mirrors (same member names, same order)."""

    def register(api_enum: type[E]) -> type[E]:
        if [m.name for m in api_enum] != [m.name for m in model_enum]:
            raise TypeError(f"{api_enum.__name__} does not mirror {model_enum.__name__} member for member")
        _MIRRORS[model_enum] = api_enum
        return api_enum

    return register


def api_enum(model_enum: type[enum.Enum]) -> type[enum.Enum]:
    """The API enum that mirrors `model_enum`."""
    found = _MIRRORS.get(model_enum)
    if found is None:
        raise TypeError(f"no API enum mirrors {model_enum.__name__}: declare one with @mirrors")
    return found


def mirrored() -> dict[type[enum.Enum], type[enum.Enum]]:
    """Every pair declared so far (tests)."""
    return dict(_MIRRORS)


def to_model(value: enum.Enum, model_enum: type[E]) -> E:
    return model_enum[value.name]


def to_api(value: enum.Enum, api: type[E]) -> E:
    return api[value.name]


@mirrors(models.Role)
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


@strawberry.enum(description="Sort direction.")
class SortDirection(enum.Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending.")
    DESC = strawberry.enum_value("DESC", description="Descending.")
