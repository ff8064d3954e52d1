"""The check's workflow: start, record, submit; review; approve or reject."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.api.checks.types import CheckItemRecord, InventoryCheck
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.db.models import Role
from graphql_api.services import checks

STUDENTS = permissions.roles(Role.STUDENT)
RECORDERS = permissions.roles(Role.STUDENT, Role.INSTRUCTOR)
INSTRUCTORS = permissions.roles(Role.INSTRUCTOR)
SUPERVISORS = permissions.roles(Role.SUPERVISOR)


@strawberry.input(description="Which class to check today.")
class StartInventoryCheckInput:
    schedule_id: strawberry.ID = ref("Schedule", description="A class of the student's room that meets today.")


@strawberry.type(description="Today's check of the class.")
class StartInventoryCheckPayload:
    check: InventoryCheck = strawberry.field(description="The check.")
    started: bool = strawberry.field(description="True if this call opened it; false if it was already open.")


@strawberry.input(description="What was found of one item.")
class RecordCheckItemInput:
    check_id: strawberry.ID = ref("InventoryCheck", description="The check.")
    item_id: strawberry.ID = ref("InventoryItem", description="An item of the check.")
    found: int = strawberry.field(description="Units in good condition.")
    damaged: int = strawberry.field(description="Units damaged.")
    missing: int = strawberry.field(description="Units not found; the three add up to the expected units.")
    notes: str | None = strawberry.field(default=None, description="Remarks (max 1000).")


@strawberry.type(description="The record and its check.")
class RecordCheckItemPayload:
    record: CheckItemRecord = strawberry.field(description="The item's record.")


@strawberry.input(description="The students hand the check to the instructor.")
class SubmitStudentCheckInput:
    check_id: strawberry.ID = ref("InventoryCheck", description="The check; every item must be recorded.")
    cleaning_notes: str | None = strawberry.field(default=None, description="Notes on cleanliness (max 2000).")


@strawberry.input(description="The instructor's review.")
class SubmitInstructorReviewInput:
    check_id: strawberry.ID = ref("InventoryCheck", description="The check.")
    is_clean: bool = strawberry.field(description="The room is clean.")
    is_organized: bool = strawberry.field(description="The room is organized.")
    inventory_complete: bool = strawberry.field(description="The inventory is complete.")
    comments: str | None = strawberry.field(default=None, description="Comments (max 2000).")


@strawberry.input(description="A supervisor approves a check.")
class ApproveInventoryCheckInput:
    check_id: strawberry.ID = ref("InventoryCheck", description="The check.")
    comments: str | None = strawberry.field(default=None, description="Comments (max 2000).")


@strawberry.input(description="A supervisor sends a check back to the instructor.")
class RejectInventoryCheckInput:
    check_id: strawberry.ID = ref("InventoryCheck", description="The check.")
    reason: str = strawberry.field(description="Why (required, max 2000); the students and instructor read it.")


@strawberry.type(description="The check after the change.")
class InventoryCheckPayload:
    check: InventoryCheck = strawberry.field(description="The check.")


StartResult = Annotated[
    StartInventoryCheckPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union("StartInventoryCheckResult", description="Today's check, or why not."),
]
RecordResult = Annotated[
    RecordCheckItemPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union(
        "RecordCheckItemResult", description="The record, or why not (ConflictError: not the caller's stage)."
    ),
]
CheckResult = Annotated[
    InventoryCheckPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union(
        "InventoryCheckResult", description="The check, or why not (ConflictError: not in the state for it)."
    ),
]


@strawberry.type
class CheckMutation:
    @mutation(
        description="Open today's check of a class of the student's room (or get it, if open).", permission=STUDENTS
    )
    async def start_inventory_check(self, info: Info, input: StartInventoryCheckInput) -> StartResult:
        context = info.context
        check, started = await checks.start_check(
            context.require_session(),
            context.require_principal(),
            values(input)["schedule_id"],
            now=context.now(),
            zone=context.settings.timezone,
        )
        return StartInventoryCheckPayload(check=InventoryCheck.from_model(check), started=started)

    @mutation(
        description="Record what was found of one item: the students while the check is theirs, the instructor "
        "during the review. The item's stock does not change.",
        permission=RECORDERS,
    )
    async def record_check_item(self, info: Info, input: RecordCheckItemInput) -> RecordResult:
        context, given = info.context, values(input)
        record = await checks.record_item(
            context.require_session(), context.require_principal(), given.pop("check_id"), given.pop("item_id"), **given
        )
        return RecordCheckItemPayload(record=CheckItemRecord.from_model(record))

    @mutation(description="Hand the check to the instructor, once every item is recorded.", permission=STUDENTS)
    async def submit_student_check(self, info: Info, input: SubmitStudentCheckInput) -> CheckResult:
        context, given = info.context, values(input)
        check = await checks.submit_student_check(
            context.require_session(), context.require_principal(), given.pop("check_id"), **given
        )
        return InventoryCheckPayload(check=InventoryCheck.from_model(check))

    @mutation(description="The instructor's review; the check goes to the supervisors.", permission=INSTRUCTORS)
    async def submit_instructor_review(self, info: Info, input: SubmitInstructorReviewInput) -> CheckResult:
        context, given = info.context, values(input)
        check = await checks.submit_instructor_review(
            context.require_session(), context.require_principal(), given.pop("check_id"), **given
        )
        return InventoryCheckPayload(check=InventoryCheck.from_model(check))

    @mutation(
        description="Approve a check: its findings reach the inventory (ledger movements, alerts for missing "
        "units, maintenance requests for damaged ones), in one transaction.",
        permission=SUPERVISORS,
    )
    async def approve_inventory_check(self, info: Info, input: ApproveInventoryCheckInput) -> CheckResult:
        context, given = info.context, values(input)
        check = await checks.approve_check(
            context.require_session(), context.require_principal(), given.pop("check_id"), **given
        )
        return InventoryCheckPayload(check=InventoryCheck.from_model(check))

    @mutation(description="Send a check back to the instructor with a reason.", permission=SUPERVISORS)
    async def reject_inventory_check(self, info: Info, input: RejectInventoryCheckInput) -> CheckResult:
        context, given = info.context, values(input)
        check = await checks.reject_check(
            context.require_session(), context.require_principal(), given.pop("check_id"), **given
        )
        return InventoryCheckPayload(check=InventoryCheck.from_model(check))
