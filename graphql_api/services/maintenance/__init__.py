"""Maintenance: requests for an item's units or for an environment, their state machine
(`transitions`), the history of work done (`history`) and per-item plans with their periodic
job (`plans`).

The public interface other domains call inside their own transactions (the daily check's
approval opens requests for damaged units) is `open_request`.
"""

from graphql_api.services.maintenance import messages as _messages  # noqa: F401  (registers the texts)
from graphql_api.services.maintenance.history import (
    RECORD_FILTERS,
    RECORD_ORDER,
    RecordFields,
    add_record,
    visible_records,
)
from graphql_api.services.maintenance.plans import (
    PLAN_FILTERS,
    PLAN_ORDER,
    PlanFields,
    plans_with_due_date,
    run_plans,
    set_plan,
    visible_plans,
)
from graphql_api.services.maintenance.requests import (
    CHANGED,
    REQUEST_FILTERS,
    REQUEST_ORDER,
    PlanDue,
    assigned_to_caller,
    open_request,
    visible_requests,
)
from graphql_api.services.maintenance.transitions import (
    TRANSITIONS,
    assign_request,
    cancel_request,
    complete_request,
    start_request,
)

__all__ = [
    "CHANGED",
    "PLAN_FILTERS",
    "PLAN_ORDER",
    "RECORD_FILTERS",
    "RECORD_ORDER",
    "REQUEST_FILTERS",
    "REQUEST_ORDER",
    "TRANSITIONS",
    "PlanDue",
    "PlanFields",
    "RecordFields",
    "add_record",
    "assign_request",
    "assigned_to_caller",
    "cancel_request",
    "complete_request",
    "open_request",
    "plans_with_due_date",
    "run_plans",
    "set_plan",
    "start_request",
    "visible_plans",
    "visible_records",
    "visible_requests",
]
