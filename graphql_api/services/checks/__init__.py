"""The daily inventory check of a room (SPEC §6): reads, the state machine, the supervisor's
stage with the findings it applies, and the reminder job."""

from graphql_api.services.checks.approval import approve_check, reject_check
from graphql_api.services.checks.reads import (
    CHECK_FILTERS,
    CHECK_ORDER,
    RECORD_ORDER,
    REVIEW_ORDER,
    TOTALS,
    Counts,
    ItemChange,
    changes_since_previous,
    classes_between,
    day_of_room,
    pending_for,
    visible_check_items,
    visible_checks,
    visible_reviews,
)
from graphql_api.services.checks.reminders import remind_pending_checks
from graphql_api.services.checks.workflow import (
    CHECK_CHANGED,
    record_item,
    start_check,
    submit_instructor_review,
    submit_student_check,
)

__all__ = [
    "CHECK_CHANGED",
    "CHECK_FILTERS",
    "CHECK_ORDER",
    "RECORD_ORDER",
    "REVIEW_ORDER",
    "TOTALS",
    "Counts",
    "ItemChange",
    "approve_check",
    "changes_since_previous",
    "classes_between",
    "day_of_room",
    "pending_for",
    "record_item",
    "reject_check",
    "remind_pending_checks",
    "start_check",
    "submit_instructor_review",
    "submit_student_check",
    "visible_check_items",
    "visible_checks",
    "visible_reviews",
]
