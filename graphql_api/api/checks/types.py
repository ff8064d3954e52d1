"""Daily inventory checks as GraphQL types: the check, its item records, its review history,
its totals (from its own records) and what changed since the room's previous approved check."""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry

from graphql_api.api.checks.loaders import (
    CHECK_BY_ID,
    RECORD_BY_ID,
    RECORDS_OF_CHECK,
    REVIEW_BY_ID,
    REVIEWS_OF_CHECK,
    TOTALS_OF_CHECK,
)
from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import mirrors
from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.items.loaders import ITEM_BY_ID
from graphql_api.api.items.types import InventoryItem
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.schedules.loaders import SCHEDULE_BY_ID
from graphql_api.api.schedules.types import Schedule
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models
from graphql_api.services import checks


@mirrors(models.CheckStatus)
@strawberry.enum(description="Where a daily check stands; APPROVED is final.")
class CheckStatus(enum.Enum):
    STUDENT_PENDING = strawberry.enum_value("STUDENT_PENDING", description="The students record every item.")
    INSTRUCTOR_REVIEW = strawberry.enum_value(
        "INSTRUCTOR_REVIEW", description="The instructor reviews (and may correct) the records."
    )
    SUPERVISOR_REVIEW = strawberry.enum_value("SUPERVISOR_REVIEW", description="A supervisor approves or rejects.")
    APPROVED = strawberry.enum_value("APPROVED", description="Approved: its findings reached the inventory. Final.")


@mirrors(models.ReviewDecision)
@strawberry.enum(description="A supervisor's decision on a check.")
class ReviewDecision(enum.Enum):
    APPROVED = strawberry.enum_value("APPROVED", description="Approved.")
    REJECTED = strawberry.enum_value("REJECTED", description="Sent back to the instructor, with a reason.")


def _user(column: str) -> Relation:
    return Relation(USER_BY_ID, column, lambda: User, required=False)


@model_type(
    models.CheckItem,
    loader=RECORD_BY_ID,
    name="CheckItemRecord",
    description="One item of a check: what was expected at the start and what was found.",
    related={"item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem), "recorded_by": _user("recorded_by_id")},
    computed={"is_recorded": lambda row: row.recorded_at is not None},
)
class CheckItemRecord(Node, ModelObject):
    _model: strawberry.Private[models.CheckItem]
    position: int = strawberry.field(description="Its place in the check (by item name at the start).")
    expected: int = strawberry.field(
        description="Units that should be in the room at the start: owned, not on loan, not in maintenance."
    )
    known_damaged: int = strawberry.field(description="Of those, units already known damaged at the start.")
    known_missing: int = strawberry.field(description="Of those, units already known missing at the start.")
    is_recorded: bool = strawberry.field(description="Whether the findings are recorded.")
    found: int | None = strawberry.field(description="Units found in good condition (null until recorded).")
    damaged: int | None = strawberry.field(description="Units found damaged.")
    missing: int | None = strawberry.field(description="Units not found. found + damaged + missing = expected.")
    notes: str | None = strawberry.field(description="Remarks about the item.")
    recorded_at: datetime | None = strawberry.field(description="When it was last recorded.")
    item: InventoryItem = strawberry.field(description="The item.")
    recorded_by: User | None = strawberry.field(description="Who recorded it last, if the caller may see that user.")


@model_type(
    models.CheckReview,
    loader=REVIEW_BY_ID,
    name="CheckReview",
    description="A supervisor's decision on a check; the history keeps every one.",
    related={"reviewer": _user("reviewer_id")},
)
class CheckReview(Node, ModelObject):
    _model: strawberry.Private[models.CheckReview]
    decision: ReviewDecision = strawberry.field(description="Approved or rejected.")
    comments: str | None = strawberry.field(description="The comments, or the reason of a rejection.")
    created_at: datetime = strawberry.field(description="When it was decided.")
    reviewer: User | None = strawberry.field(description="Who decided, if the caller may see that user.")


@strawberry.type(description="A check's figures, from its own records (later stock movements never change them).")
class CheckTotals:
    items: int = strawberry.field(description="Items the check covers.")
    recorded: int = strawberry.field(description="Items recorded so far.")
    good: int = strawberry.field(description="Units found in good condition.")
    damaged: int = strawberry.field(description="Units found damaged.")
    missing: int = strawberry.field(description="Units not found.")


@strawberry.type(description="Found, damaged and missing units of an item in one check.")
class CheckCounts:
    found: int | None = strawberry.field(description="Found in good condition.")
    damaged: int | None = strawberry.field(description="Damaged.")
    missing: int | None = strawberry.field(description="Missing.")


@strawberry.type(description="An item whose findings differ from the room's previous approved check.")
class CheckItemChange:
    item: InventoryItem | None = strawberry.field(description="The item, if the caller may see it.")
    previous: CheckCounts | None = strawberry.field(description="In the previous approved check (null: not in it).")
    current: CheckCounts | None = strawberry.field(description="In this check (null: not in it).")


@model_type(
    models.InventoryCheck,
    loader=CHECK_BY_ID,
    description="The daily inventory check of a room for one class and local date: the students record every "
    "item, the instructor reviews, a supervisor approves (the findings then reach the inventory) or rejects.",
    related={
        "environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment),
        "schedule": Relation(SCHEDULE_BY_ID, "schedule_id", lambda: Schedule),
        "started_by": _user("started_by_id"),
        "student_submitted_by": _user("student_submitted_by_id"),
        "reviewed_by": _user("instructor_id"),
        "approved_by": _user("approved_by_id"),
    },
)
class InventoryCheck(Node, ModelObject):
    _model: strawberry.Private[models.InventoryCheck]
    check_date: date = strawberry.field(description="The local date (APP_TIMEZONE) it is for.")
    status: CheckStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was started.")
    student_submitted_at: datetime | None = strawberry.field(description="When the students submitted it.")
    cleaning_notes: str | None = strawberry.field(description="The students' notes on the room's cleanliness.")
    instructor_reviewed_at: datetime | None = strawberry.field(description="When the instructor last reviewed it.")
    is_clean: bool | None = strawberry.field(description="Instructor's checklist: the room is clean.")
    is_organized: bool | None = strawberry.field(description="Instructor's checklist: the room is organized.")
    inventory_complete: bool | None = strawberry.field(description="Instructor's checklist: the inventory is complete.")
    instructor_comments: str | None = strawberry.field(description="The instructor's comments.")
    approved_at: datetime | None = strawberry.field(description="When it was approved.")
    updated_at: datetime = strawberry.field(description="Last change.")
    environment: Environment = strawberry.field(description="The room.")
    schedule: Schedule = strawberry.field(description="The class it is for.")
    started_by: User | None = strawberry.field(description="The student who started it.")
    student_submitted_by: User | None = strawberry.field(description="The student who submitted it.")
    reviewed_by: User | None = strawberry.field(description="The instructor who reviewed it last.")
    approved_by: User | None = strawberry.field(description="The supervisor who approved it.")
    records = children_field(
        RECORDS_OF_CHECK, "CheckItemRecord", __name__, description="Its item records, in the check's order."
    )
    reviews = children_field(
        REVIEWS_OF_CHECK, "CheckReview", __name__, description="The supervisors' decisions, oldest first."
    )

    @strawberry.field(description="Its figures, from its own records.")
    async def totals(self, info: Info) -> CheckTotals:
        figures = await info.context.loaders[TOTALS_OF_CHECK].load(self._model.id)
        return CheckTotals(items=self._model.item_count, **{k: int(figures.get(k, 0)) for k in checks.TOTALS})

    @strawberry.field(description="Any damaged or missing unit recorded, or a failed instructor checklist item.")
    async def has_issues(self, info: Info) -> bool:
        row = self._model
        if False in (row.is_clean, row.is_organized, row.inventory_complete):
            return True
        figures = await info.context.loaders[TOTALS_OF_CHECK].load(row.id)
        return bool(figures.get("damaged") or figures.get("missing"))

    @strawberry.field(
        description="Per item, what differs from the room's last approved check before this one "
        "(empty when there is none). One statement per check asked for."
    )
    async def changes_since_previous_approved(self, info: Info) -> list[CheckItemChange]:
        async with info.context.db() as session:
            changes = await checks.changes_since_previous(session, self._model)
        items = await info.context.loaders[ITEM_BY_ID].load_many([change.item_id for change in changes])
        return [_change(change, item) for change, item in zip(changes, items, strict=True)]


def _change(change: checks.ItemChange, item: object | None) -> CheckItemChange:
    def counts(value: checks.Counts | None) -> CheckCounts | None:
        return None if value is None else CheckCounts(found=value.found, damaged=value.damaged, missing=value.missing)

    return CheckItemChange(
        item=InventoryItem.from_model(item) if item is not None else None,
        previous=counts(change.previous),
        current=counts(change.current),
    )
