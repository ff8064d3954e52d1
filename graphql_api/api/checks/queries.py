"""Read fields for daily checks; scope is applied in the SQL of each."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from graphql_api.api.checks.types import InventoryCheck
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.core.relay import require_id
from graphql_api.api.schedules.types import Schedule
from graphql_api.services.checks import CHECK_FILTERS, CHECK_ORDER, day_of_room, pending_for


def _pending(context: Any) -> Select[Any]:
    return pending_for(context.require_principal())


@strawberry.enum(description="How a class's check stands on a day.")
class ClassCheckStatus(enum.Enum):
    NOT_STARTED = strawberry.enum_value("NOT_STARTED", description="No check exists for the class that day.")
    STUDENT_PENDING = strawberry.enum_value("STUDENT_PENDING", description="The students are recording.")
    INSTRUCTOR_REVIEW = strawberry.enum_value("INSTRUCTOR_REVIEW", description="The instructor reviews.")
    SUPERVISOR_REVIEW = strawberry.enum_value("SUPERVISOR_REVIEW", description="Awaiting a supervisor.")
    APPROVED = strawberry.enum_value("APPROVED", description="Approved.")


def class_check_status(check: Any | None) -> ClassCheckStatus:
    """How a class's check of a day stands, given that check (None: there is none)."""
    return ClassCheckStatus.NOT_STARTED if check is None else ClassCheckStatus[check.status.name]


@strawberry.type(description="One class of a room on a day, and its check if there is one.")
class ClassCheck:
    schedule: Schedule = strawberry.field(description="The class.")
    status: ClassCheckStatus = strawberry.field(description="How its check stands (NOT_STARTED without one).")
    check: InventoryCheck | None = strawberry.field(description="Its check of that day, if any.")


@strawberry.type
class CheckQuery:
    inventory_check = by_id_field(
        InventoryCheck, description="One check by ID, if the caller may see it.", permission=permissions.authenticated()
    )
    inventory_checks = list_field(
        InventoryCheck,
        description="Checks of the rooms the caller may see, newest first.",
        filters=CHECK_FILTERS,
        ordering=CHECK_ORDER,
        permission=permissions.authenticated(),
        join=("environment", "schedule"),
    )
    my_pending_checks = list_field(
        InventoryCheck,
        description="The checks the caller must act on now: a student's to record and submit, an instructor's "
        "to review, a supervisor's to approve or reject.",
        ordering=CHECK_ORDER,
        permission=permissions.authenticated(),
        join=("environment", "schedule"),
        rows=_pending,
    )

    @strawberry.field(
        description="The classes of a room on a day (default: today, in the application's time zone), each with "
        "how its check stands. Empty for a room out of scope.",
        extensions=permissions.authenticated(),
    )
    async def class_checks(
        self,
        info: Info,
        environment_id: Annotated[strawberry.ID, strawberry.argument(description="The room.")],
        day: Annotated[date | None, strawberry.argument(description="The local date (default: today).")] = None,
    ) -> list[ClassCheck]:
        context = info.context
        room = require_id(environment_id, "Environment", "environmentId")
        stmt = day_of_room(context.require_principal(), room, day or context.now().date())
        async with context.db() as session:
            rows = (await session.execute(stmt)).all()
        return [
            ClassCheck(
                schedule=Schedule.from_model(slot),
                status=class_check_status(check),
                check=InventoryCheck.from_model(check) if check is not None else None,
            )
            for slot, check in rows
        ]
