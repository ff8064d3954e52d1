"""Loan requests and the warehouse's decisions. Who may act on which loan (the ADMIN of its
warehouse, ADMIN_GENERAL; the requester to cancel) is checked in the service, with the state."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.loans.types import Loan, LoanPriority
from graphql_api.db import models
from graphql_api.services import loans

REQUESTERS = permissions.roles(models.Role.INSTRUCTOR, models.Role.ADMIN)
DECIDERS = permissions.roles(models.Role.ADMIN, models.Role.ADMIN_GENERAL)


@strawberry.input(
    description=(
        "A loan request: a registered item of the warehouse (`itemId`) and a quantity, or an unregistered item in"
        " words (`itemDescription`), never both."
    )
)
class CreateLoanInput:
    warehouse_id: strawberry.ID = ref(
        "Environment", description="The warehouse: one of the caller's center (INSTRUCTOR) or the caller's own (ADMIN)."
    )
    item_id: strawberry.ID | None = ref(
        "InventoryItem", default=None, description="A registered item of that warehouse."
    )
    item_description: str | None = strawberry.field(
        default=None,
        description="An unregistered item, in words (max 200); it has no stock, so nothing is reserved or moved.",
    )
    quantity: int = strawberry.field(default=1, description="Units wanted (at most what the item can lend at all).")
    purpose: str = strawberry.field(description="What the equipment is for (max 2000).")
    priority: LoanPriority = strawberry.field(default=LoanPriority.MEDIUM, description="How urgent it is.")
    start_date: date = strawberry.field(description="First day (today or later, in APP_TIMEZONE).")
    end_date: date = strawberry.field(description="Last day (on or after the first; at most 366 days in all).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string up to 100 characters: sending the same key again returns the loan the first call created; the same key with another input is a ValidationError.",
    )


@strawberry.input(description="Identifies a loan.")
class LoanIdInput:
    id: strawberry.ID = ref("Loan", description="The loan.")


@strawberry.input(description="Reject a pending loan.")
class RejectLoanInput:
    id: strawberry.ID = ref("Loan", description="The loan.")
    reason: str = strawberry.field(description="Why (required, max 2000); the requester is told.")


@strawberry.input(
    description="The return of a delivered or overdue loan: returned + damaged + missing must equal the loan's quantity."
)
class ReturnLoanInput:
    id: strawberry.ID = ref("Loan", description="The loan.")
    returned: int = strawberry.field(description="Units back in good condition.")
    damaged: int = strawberry.field(default=0, description="Units back damaged (to the item's damaged bucket).")
    missing: int = strawberry.field(
        default=0, description="Units not back (to the item's missing bucket; raises an EQUIPMENT_MISSING alert)."
    )
    return_date: date | None = strawberry.field(
        default=None, description="The day they came back (default: today; not in the future, not before the delivery)."
    )
    notes: str | None = strawberry.field(default=None, description="Remarks (max 2000).")


@strawberry.type(description="The loan after the change.")
class LoanPayload:
    loan: Loan = strawberry.field(description="The loan.")


LoanResult = Annotated[
    LoanPayload | ValidationError | NotFoundError | ConflictError | PermissionDeniedError,
    strawberry.union("LoanResult", description="The loan, or why the change failed (nothing was changed)."),
]


def _calendar(info: Info) -> loans.Calendar:
    return loans.Calendar.of(info.context.settings)


@strawberry.type
class LoanMutation:
    @mutation(
        description="Request a loan (PENDING); the warehouse's administrators are told. Idempotent with `idempotencyKey`.",
        permission=REQUESTERS,
    )
    async def create_loan(self, info: Info, input: CreateLoanInput) -> LoanResult:
        given, context = values(input), info.context
        key = given.pop("idempotency_key")
        row = await loans.create_loan(
            context.require_session(),
            context.require_principal(),
            loans.LoanRequest(**given),
            calendar=_calendar(info),
            idempotency_key=key,
        )
        return LoanPayload(loan=Loan.from_model(row))

    @mutation(
        description="Approve a pending loan: its units are reserved for its dates, if free on every one of them (else a ConflictError).",
        permission=DECIDERS,
    )
    async def approve_loan(self, info: Info, input: LoanIdInput) -> LoanResult:
        context = info.context
        row = await loans.approve_loan(
            context.require_session(), context.require_principal(), values(input)["id"], calendar=_calendar(info)
        )
        return LoanPayload(loan=Loan.from_model(row))

    @mutation(description="Reject a pending loan, with the reason.", permission=DECIDERS)
    async def reject_loan(self, info: Info, input: RejectLoanInput) -> LoanResult:
        given, context = values(input), info.context
        row = await loans.reject_loan(
            context.require_session(), context.require_principal(), given["id"], reason=given["reason"]
        )
        return LoanPayload(loan=Loan.from_model(row))

    @mutation(description="Withdraw one's own pending loan request.", permission=REQUESTERS)
    async def cancel_loan(self, info: Info, input: LoanIdInput) -> LoanResult:
        context = info.context
        row = await loans.cancel_loan(context.require_session(), context.require_principal(), values(input)["id"])
        return LoanPayload(loan=Loan.from_model(row))

    @mutation(
        description="Hand out an approved loan: a LOAN_OUT movement puts its units on loan (registered items; a ConflictError if they are not available now).",
        permission=DECIDERS,
    )
    async def deliver_loan(self, info: Info, input: LoanIdInput) -> LoanResult:
        context = info.context
        row = await loans.deliver_loan(context.require_session(), context.require_principal(), values(input)["id"])
        return LoanPayload(loan=Loan.from_model(row))

    @mutation(
        description="Receive a delivered or overdue loan back: a LOAN_RETURN movement with the returned, damaged and missing units (registered items).",
        permission=DECIDERS,
    )
    async def return_loan(self, info: Info, input: ReturnLoanInput) -> LoanResult:
        given, context = values(input), info.context
        loan_id = given.pop("id")
        row = await loans.return_loan(
            context.require_session(),
            context.require_principal(),
            loan_id,
            loans.ReturnCounts(**given),
            calendar=_calendar(info),
        )
        return LoanPayload(loan=Loan.from_model(row))
