"""Who sees which loans, and the declarations of the loan lists' filters and orderings.

| role          | loans                                                                  |
|---------------|------------------------------------------------------------------------|
| STUDENT       | their own (never any: students do not request loans)                   |
| INSTRUCTOR    | their own                                                              |
| SUPERVISOR    | the loans to instructors from the warehouses of their center           |
| ADMIN         | every loan of their warehouse                                          |
| ADMIN_GENERAL | all                                                                    |

A loan lives in its warehouse: besides the rule of the role, its warehouse is in the caller's
scope (`environment_filter`), so a visible loan's warehouse and item are always visible too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter, user_filter
from graphql_api.db.models import Loan, LoanStatus, Role, User
from graphql_api.services.filtering import AnyOf, Custom, Filters, Flag, OrderField, Ordering, Search


def visible_loans(principal: Principal) -> Select[Any]:
    """Loans the caller may see (the table in the module's docstring)."""
    stmt = select(Loan)
    if principal.role is Role.ADMIN_GENERAL:
        return stmt
    in_scope = environment_filter(principal, Loan.warehouse_id)
    if principal.role is Role.ADMIN:
        return stmt.where(in_scope)
    if principal.role is Role.SUPERVISOR:
        return stmt.where(in_scope, Loan.requester_role == Role.INSTRUCTOR)
    return stmt.where(in_scope, Loan.requester_id == scope.caller(principal))


def own_loans(principal: Principal) -> Select[Any]:
    """The caller's own requests (among those they may see)."""
    return visible_loans(principal).where(Loan.requester_id == scope.caller(principal))


def visible_requesters(principal: Principal) -> Select[Any]:
    """Users the caller may see, and the requesters of the loans the caller may see: a
    warehouse's administrator learns who asked, wherever that person's home is."""
    requesters = visible_loans(principal).with_only_columns(Loan.requester_id)
    return select(User).where(or_(user_filter(principal), User.id.in_(requesters)))


def effective_end(today: Any) -> ColumnElement[Any]:
    """The last day a loan holds its units: a delivered (or overdue) loan past its end date
    holds them until they come back, so at least until `today`."""
    return case((Loan.status == LoanStatus.APPROVED, Loan.end_date), else_=func.greatest(Loan.end_date, today))


def _dates(column: InstrumentedAttribute[Any], later: bool) -> Custom:
    if later:
        return Custom(lambda day: column >= day, "Only loans whose end date is this day or later.", date)
    return Custom(lambda day: column <= day, "Only loans whose start date is this day or earlier.", date)


_STATUS = AnyOf(Loan.status, "Only loans in these states.")
_ACTIVE_FROM = _dates(Loan.end_date, later=True)
_ACTIVE_UNTIL = _dates(Loan.start_date, later=False)
_OVERDUE = Flag(
    lambda: Loan.status == LoanStatus.OVERDUE,
    "Only overdue loans (marked by the periodic job once the end date has passed).",
)

LOAN_FILTERS = Filters(
    "Loan",
    "Filters for loans; all given conditions must hold. They narrow what the caller may see, never widen it."
    " `activeFrom` and `activeUntil` together select the loans whose dates overlap that range.",
    {
        "statuses": _STATUS,
        "warehouse_ids": AnyOf(Loan.warehouse_id, "Only loans from these warehouses.", ids="Environment"),
        "requester_ids": AnyOf(Loan.requester_id, "Only loans requested by these users.", ids="User"),
        "item_ids": AnyOf(Loan.item_id, "Only loans of these registered items.", ids="InventoryItem"),
        "priorities": AnyOf(Loan.priority, "Only these priorities."),
        "active_from": _ACTIVE_FROM,
        "active_until": _ACTIVE_UNTIL,
        "overdue": _OVERDUE,
        "search": Search(
            (Loan.purpose, Loan.item_description), "Text in the purpose or the unregistered item's description."
        ),
    },
)
MY_LOAN_FILTERS = Filters(
    "MyLoan",
    "Filters for the caller's own loans; all given conditions must hold.",
    {"statuses": _STATUS, "active_from": _ACTIVE_FROM, "active_until": _ACTIVE_UNTIL, "overdue": _OVERDUE},
)


def _ordering(name: str) -> Ordering:
    return Ordering(
        name,
        {
            "CREATED_AT": OrderField(Loan.created_at, "By time of the request."),
            "START_DATE": OrderField(Loan.start_date, "By start date."),
            "END_DATE": OrderField(Loan.end_date, "By end (due) date."),
            "UPDATED_AT": OrderField(Loan.updated_at, "By last change."),
        },
        default="CREATED_AT",
        default_descending=True,
        id_column=Loan.id,
    )


LOAN_ORDER = _ordering("Loan")
MY_LOAN_ORDER = _ordering("MyLoan")
