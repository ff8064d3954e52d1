"""The agenda's entries: a union of one type per kind, each wrapping its domain's own type
(so nested fields load, and are scoped, through that domain's loaders)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry

from graphql_api.api.checks.queries import ClassCheckStatus
from graphql_api.api.checks.types import InventoryCheck
from graphql_api.api.loans.types import Loan
from graphql_api.api.maintenance.types import MaintenancePlan, MaintenanceRequest
from graphql_api.api.schedules.types import Schedule

DATE = "The local date (APP_TIMEZONE) the entry is for."
LATE = "Dated before today and still to do."


@strawberry.enum(description="The kinds of agenda entries (see the union's members).")
class AgendaEntryKind(enum.Enum):
    CLASS = strawberry.enum_value("CLASS", description="A class the caller takes part in (AgendaClass).")
    CHECK_REVIEW = strawberry.enum_value("CHECK_REVIEW", description="A check awaiting the caller (AgendaCheckReview).")
    LOAN = strawberry.enum_value("LOAN", description="A loan awaiting the caller (AgendaLoan).")
    MAINTENANCE_REQUEST = strawberry.enum_value(
        "MAINTENANCE_REQUEST", description="A maintenance request assigned to the caller (AgendaMaintenanceRequest)."
    )
    MAINTENANCE_PLAN = strawberry.enum_value(
        "MAINTENANCE_PLAN", description="A maintenance plan falling due (AgendaMaintenancePlan)."
    )


@strawberry.enum(description="What a loan awaits from the caller.")
class AgendaLoanAction(enum.Enum):
    DECIDE = strawberry.enum_value("DECIDE", description="Approve or reject the request (dated by its start date).")
    DELIVER = strawberry.enum_value("DELIVER", description="Hand out the approved loan (dated by its start date).")
    RECEIVE = strawberry.enum_value("RECEIVE", description="Take the units back (dated by the end date).")
    RETURN = strawberry.enum_value("RETURN", description="Bring back the units you borrowed (dated by the end date).")


@strawberry.type(
    description="A class the caller takes part in on a day (an instructor's own; a student's home room's), with "
    "how its check of that day stands."
)
class AgendaClass:
    date: dt.date = strawberry.field(description=DATE)
    start_time: dt.time = strawberry.field(description="When the class starts (local time).")
    end_time: dt.time = strawberry.field(description="When the class ends (local time).")
    schedule: Schedule = strawberry.field(description="The class slot.")
    # Not `check`: AgendaCheckReview's `check` is non-null, and same-named fields of a union's
    # members must agree for one query to select both.
    inventory_check: InventoryCheck | None = strawberry.field(description="Its check of that day, if there is one.")
    check_status: ClassCheckStatus = strawberry.field(
        description="How its check of that day stands: NOT_STARTED while there is none (every future day)."
    )


@strawberry.type(
    description="A check the caller must act on now: a student's to record and submit, an instructor's to "
    "review, a supervisor's to approve or reject."
)
class AgendaCheckReview:
    date: dt.date = strawberry.field(description="The check's local date.")
    late: bool = strawberry.field(description=LATE)
    check: InventoryCheck = strawberry.field(description="The check.")


@strawberry.type(
    description="A loan awaiting the caller: a warehouse's requests to decide, loans to hand out and to take "
    "back (its ADMIN, ADMIN_GENERAL); the borrower's units to bring back."
)
class AgendaLoan:
    date: dt.date = strawberry.field(
        description="The day it is due: the start date to decide or deliver, else the end date."
    )
    late: bool = strawberry.field(description=LATE + " An OVERDUE loan always is.")
    action: AgendaLoanAction = strawberry.field(description="What it awaits from the caller.")
    loan: Loan = strawberry.field(description="The loan.")


@strawberry.type(description="An open maintenance request assigned to the caller, to start or complete.")
class AgendaMaintenanceRequest:
    date: dt.date = strawberry.field(description="Its due date; the range's first day when it has none.")
    late: bool = strawberry.field(description=LATE)
    request: MaintenanceRequest = strawberry.field(description="The request.")


@strawberry.type(description="An active maintenance plan of an item the caller manages, with its next due date.")
class AgendaMaintenancePlan:
    date: dt.date = strawberry.field(description="The plan's next due date.")
    late: bool = strawberry.field(description=LATE)
    plan: MaintenancePlan = strawberry.field(description="The plan.")


AgendaEntry = Annotated[
    AgendaClass | AgendaCheckReview | AgendaLoan | AgendaMaintenanceRequest | AgendaMaintenancePlan,
    strawberry.union("AgendaEntry", description="One thing on the caller's agenda."),
]
