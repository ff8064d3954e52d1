"""Loans of equipment from a warehouse (issue 12).

* `requests`: who may ask for what; idempotent creation.
* `transitions`: the state machine, one conditional UPDATE per transition.
* `operations`: what each transition does besides (capacity check, ledger movements, alerts,
  notifications).
* `reservations`: units held by date; the approval rule and `itemAvailability`.
* `overdue`: the periodic job.
* `visibility`: who sees which loans; the lists' filters and orderings.
* `duties`: what each loan asks of the caller next (the agenda).

Stock moves only through the ledger (`graphql_api.services.ledger`): delivery writes LOAN_OUT
(units into the on-loan bucket), a return LOAN_RETURN (off loan, damaged and missing units into
their buckets). A loan of an unregistered item has no stock: nothing is reserved or moved.
"""

from graphql_api.services.loans.calendar import Calendar
from graphql_api.services.loans.duties import Duty, duties
from graphql_api.services.loans.messages import LOAN_CHANGED
from graphql_api.services.loans.operations import (
    ReturnCounts,
    approve_loan,
    cancel_loan,
    deliver_loan,
    reject_loan,
    return_loan,
)
from graphql_api.services.loans.overdue import mark_overdue
from graphql_api.services.loans.requests import MAX_LOAN_DAYS, LoanRequest, create_loan
from graphql_api.services.loans.reservations import (
    MAX_CONFLICTS,
    MAX_ITEMS,
    MAX_RANGE_DAYS,
    Availability,
    item_availability,
)
from graphql_api.services.loans.transitions import TRANSITIONS
from graphql_api.services.loans.visibility import (
    LOAN_FILTERS,
    LOAN_ORDER,
    MY_LOAN_FILTERS,
    MY_LOAN_ORDER,
    own_loans,
    visible_loans,
    visible_requesters,
)

__all__ = [
    "LOAN_CHANGED",
    "LOAN_FILTERS",
    "LOAN_ORDER",
    "MAX_CONFLICTS",
    "MAX_ITEMS",
    "MAX_LOAN_DAYS",
    "MAX_RANGE_DAYS",
    "MY_LOAN_FILTERS",
    "MY_LOAN_ORDER",
    "TRANSITIONS",
    "Availability",
    "Calendar",
    "Duty",
    "LoanRequest",
    "ReturnCounts",
    "approve_loan",
    "cancel_loan",
    "create_loan",
    "deliver_loan",
    "duties",
    "item_availability",
    "mark_overdue",
    "own_loans",
    "reject_loan",
    "return_loan",
    "visible_loans",
    "visible_requesters",
]
