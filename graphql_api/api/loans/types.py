"""Loans as GraphQL types."""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.cost import list_size
from graphql_api.api.core.enums import mirrors
from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, extends, model_type
from graphql_api.api.items.loaders import ITEM_BY_ID
from graphql_api.api.items.types import InventoryItem
from graphql_api.api.loans.loaders import LOAN_BY_ID, LOAN_REQUESTER, LOANS_OF_ITEM
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models
from graphql_api.services import loans


@mirrors(models.LoanStatus)
@strawberry.enum(description="Where a loan is in its life.")
class LoanStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Requested; waiting for the warehouse's decision.")
    APPROVED = strawberry.enum_value(
        "APPROVED", description="Approved: the units are reserved for its dates (registered items)."
    )
    REJECTED = strawberry.enum_value("REJECTED", description="Rejected by the warehouse, with a reason. Final.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Withdrawn by the requester while pending. Final.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="Handed out: the units are on loan.")
    OVERDUE = strawberry.enum_value(
        "OVERDUE", description="Delivered and not returned by its end date (set by the periodic job)."
    )
    RETURNED = strawberry.enum_value("RETURNED", description="Back in the warehouse, with its return counts. Final.")


@mirrors(models.LoanPriority)
@strawberry.enum(description="How urgent a loan request is.")
class LoanPriority(enum.Enum):
    LOW = strawberry.enum_value("LOW", description="Whenever convenient.")
    MEDIUM = strawberry.enum_value("MEDIUM", description="The usual.")
    HIGH = strawberry.enum_value("HIGH", description="Needed soon.")


def _user(column: str) -> Relation:
    return Relation(USER_BY_ID, column, lambda: User, required=False)


@model_type(
    models.Loan,
    loader=LOAN_BY_ID,
    description=(
        "Equipment lent from a warehouse: a registered item and a quantity, or an unregistered item described"
        " in words (no stock behind it: nothing is reserved or moved for it)."
    ),
    related={
        "item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem),
        "warehouse": Relation(ENVIRONMENT_BY_ID, "warehouse_id", lambda: Environment),
        "requester": Relation(LOAN_REQUESTER, "requester_id", lambda: User),
        "approved_by": _user("approved_by_id"),
        "rejected_by": _user("rejected_by_id"),
        "delivered_by": _user("delivered_by_id"),
        "received_by": _user("received_by_id"),
    },
)
class Loan(Node, ModelObject):
    _model: strawberry.Private[models.Loan]
    item: InventoryItem | None = strawberry.field(description="The registered item lent; null for an unregistered one.")
    item_description: str | None = strawberry.field(
        description="The unregistered item, in words; null for a registered one."
    )
    warehouse: Environment = strawberry.field(description="The warehouse lending it.")
    requester: User = strawberry.field(description="Who asked for it.")
    quantity: int = strawberry.field(description="Units lent.")
    purpose: str = strawberry.field(description="What the equipment is for.")
    priority: LoanPriority = strawberry.field(description="How urgent the request is.")
    start_date: date = strawberry.field(description="First day of the loan.")
    end_date: date = strawberry.field(description="Last day of the loan: the units are due back by then.")
    status: LoanStatus = strawberry.field(description="Where the loan is in its life.")
    approved_by: User | None = strawberry.field(description="Who approved it, if visible to the caller.")
    approved_at: datetime | None = strawberry.field(description="When it was approved.")
    rejected_by: User | None = strawberry.field(description="Who rejected it, if visible to the caller.")
    rejected_at: datetime | None = strawberry.field(description="When it was rejected.")
    rejection_reason: str | None = strawberry.field(description="Why it was rejected.")
    cancelled_at: datetime | None = strawberry.field(description="When the requester cancelled it.")
    delivered_by: User | None = strawberry.field(description="Who handed it out, if visible to the caller.")
    delivered_at: datetime | None = strawberry.field(description="When it was handed out.")
    overdue_at: datetime | None = strawberry.field(description="When the periodic job marked it overdue.")
    received_by: User | None = strawberry.field(description="Who received the return, if visible to the caller.")
    returned_at: datetime | None = strawberry.field(description="When the return was recorded.")
    return_date: date | None = strawberry.field(description="The day the units came back (local date).")
    returned_quantity: int | None = strawberry.field(description="Units returned in good condition.")
    returned_damaged: int | None = strawberry.field(
        description="Units returned damaged (now in the item's damaged bucket)."
    )
    returned_missing: int | None = strawberry.field(
        description="Units not returned (now in the item's missing bucket)."
    )
    return_notes: str | None = strawberry.field(description="Notes of whoever received the return.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @strawberry.field(
        description="Past its end date (in APP_TIMEZONE) without being returned: OVERDUE, or DELIVERED and due before today."
    )
    def is_overdue(self, info: Info) -> bool:
        row = self._model
        if row.status is models.LoanStatus.OVERDUE:
            return True
        today = loans.Calendar.of(info.context.settings).today
        return row.status is models.LoanStatus.DELIVERED and row.end_date < today


@extends("InventoryItem")
class ItemLoans:
    loans = children_field(
        LOANS_OF_ITEM, "Loan", __name__, description="Loans of this item that the caller may see, newest first."
    )


@strawberry.type(
    description="How many units of an item are free to lend over a range of days, and the loans holding the others."
)
class ItemAvailability:
    id: strawberry.ID = strawberry.field(description="Global ID of the item (the one asked for).")
    item: InventoryItem = strawberry.field(description="The item.")
    from_: date = strawberry.field(name="from", description="First day of the range.")
    to: date = strawberry.field(description="Last day of the range.")
    lendable: int = strawberry.field(
        description="Units that can be lent at all: quantity minus damaged, missing and in maintenance (units on loan count: their loans are subtracted by date)."
    )
    reserved: int = strawberry.field(
        description="The most units held on one day of the range by APPROVED, DELIVERED and OVERDUE loans (a delivered loan past its end date holds its units until they come back)."
    )
    free: int = strawberry.field(
        description="Units free on every day of the range: lendable minus reserved, never below 0."
    )
    conflicts: list[Loan] = strawberry.field(
        description=f"The loans holding units of the item on a day of the range that the caller may see, earliest first (at most {loans.MAX_CONFLICTS}).",
        metadata=list_size(loans.MAX_CONFLICTS),
    )
