"""Maintenance mutations. Who may act on which request (managers, the assignee, the requester)
is decided in the service, per request; the directives say who may call at all."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.maintenance.types import (
    MaintenancePlan,
    MaintenancePriority,
    MaintenanceRecord,
    MaintenanceRequest,
    MaintenanceType,
)
from graphql_api.db import models
from graphql_api.services import maintenance

MANAGERS = permissions.roles(models.Role.SUPERVISOR, models.Role.ADMIN, models.Role.ADMIN_GENERAL)
SIGNED_IN = permissions.authenticated()


def _today(info: Info) -> date:
    return datetime.now(info.context.settings.timezone).date()


@strawberry.input(description="A new maintenance request: for units of an item, or for an environment itself.")
class CreateMaintenanceRequestInput:
    item_id: strawberry.ID | None = ref("InventoryItem", default=None, description="The item (or give environmentId).")
    environment_id: strawberry.ID | None = ref(
        "Environment", default=None, description="The environment, for a request about the room itself."
    )
    units: int | None = strawberry.field(
        default=None, description="Units of the item affected (1..quantity; default 1); none for an environment."
    )
    units_already_damaged: bool = strawberry.field(
        default=False, description="The units are among the item's damaged ones (they leave that bucket on start)."
    )
    title: str = strawberry.field(description="Short title (max 200).")
    description: str = strawberry.field(description="What is wrong (max 5000).")
    priority: MaintenancePriority = strawberry.field(default=MaintenancePriority.MEDIUM, description="How urgent.")


@strawberry.input(description="Assign a pending request, or reassign an assigned one.")
class AssignMaintenanceRequestInput:
    id: strawberry.ID = ref("MaintenanceRequest", description="The request.")
    assignee_id: strawberry.ID = ref(
        "User", description="The technician: an active user who can see the request's environment."
    )


@strawberry.input(description="Identifies a maintenance request.")
class StartMaintenanceRequestInput:
    id: strawberry.ID = ref("MaintenanceRequest", description="The request (ASSIGNED).")


@strawberry.input(description="The work done, as a history record gives it.")
class WorkDone:
    maintenance_type: MaintenanceType = strawberry.field(description="Kind of work done.")
    description: str = strawberry.field(description="What was done (max 5000).")
    cost: Decimal | None = strawberry.field(default=None, description="What it cost (>= 0, two decimals at most).")
    parts: str | None = strawberry.field(default=None, description="Parts replaced (max 2000).")
    performed_on: date | None = strawberry.field(default=None, description="When it was done (default: today).")
    next_date: date | None = strawberry.field(default=None, description="Next maintenance, after performedOn.")


@strawberry.input(description="Finish the work of a request: its history record and the units that come back damaged.")
class CompleteMaintenanceRequestInput(WorkDone):
    id: strawberry.ID = ref("MaintenanceRequest", description="The request (IN_PROGRESS).")
    returned_damaged: int = strawberry.field(
        default=0, description="Units that come back damaged (0..units); the rest are available again."
    )


@strawberry.input(description="Call off a request that is not completed.")
class CancelMaintenanceRequestInput:
    id: strawberry.ID = ref("MaintenanceRequest", description="The request.")
    reason: str | None = strawberry.field(default=None, description="Why (max 2000).")


@strawberry.input(description="A manual history entry for work done on an item outside a request.")
class AddMaintenanceRecordInput(WorkDone):
    item_id: strawberry.ID = ref("InventoryItem", description="The item.")


@strawberry.input(description="Create or replace an item's maintenance plan: everyDays or onDate, one of the two.")
class SetMaintenancePlanInput:
    item_id: strawberry.ID = ref("InventoryItem", description="The item.")
    every_days: int | None = strawberry.field(default=None, description="Due every this many days (1..3650).")
    on_date: date | None = strawberry.field(default=None, description="Due once, on this date (today or later).")
    next_due_date: date | None = strawberry.field(
        default=None, description="For everyDays: the first due date (default: today + everyDays)."
    )
    units: int = strawberry.field(default=1, description="Units each request covers (1..quantity).")
    lead_days: int = strawberry.field(default=7, description="Raise MAINTENANCE_DUE this many days ahead (0..365).")
    active: bool = strawberry.field(default=True, description="false pauses the plan.")


@strawberry.type(description="The request after the change.")
class MaintenanceRequestPayload:
    request: MaintenanceRequest = strawberry.field(description="The request.")


@strawberry.type(description="The completed request and the history record written for it.")
class CompleteMaintenanceRequestPayload:
    request: MaintenanceRequest = strawberry.field(description="The request, COMPLETED.")
    record: MaintenanceRecord = strawberry.field(description="Its history record.")


@strawberry.type(description="The history record written.")
class MaintenanceRecordPayload:
    record: MaintenanceRecord = strawberry.field(description="The record.")


@strawberry.type(description="The plan as it is now.")
class MaintenancePlanPayload:
    plan: MaintenancePlan = strawberry.field(description="The plan.")


Failures = ValidationError | NotFoundError | ConflictError | PermissionDeniedError
MaintenanceRequestResult = Annotated[
    MaintenanceRequestPayload | Failures,
    strawberry.union("MaintenanceRequestResult", description="The request, or why the change failed."),
]
CompleteMaintenanceRequestResult = Annotated[
    CompleteMaintenanceRequestPayload | Failures,
    strawberry.union("CompleteMaintenanceRequestResult", description="The completed request, or why not."),
]
MaintenanceRecordResult = Annotated[
    MaintenanceRecordPayload | Failures,
    strawberry.union("MaintenanceRecordResult", description="The record, or why it was not written."),
]
MaintenancePlanResult = Annotated[
    MaintenancePlanPayload | Failures,
    strawberry.union("MaintenancePlanResult", description="The plan, or why it was not set."),
]


def _record_fields(given: dict[str, object]) -> maintenance.RecordFields:
    names = ("maintenance_type", "description", "cost", "parts", "performed_on", "next_date")
    return maintenance.RecordFields(**{name: given[name] for name in names})  # type: ignore[arg-type]


def _request(row: models.MaintenanceRequest) -> MaintenanceRequestPayload:
    return MaintenanceRequestPayload(request=MaintenanceRequest.from_model(row))


@strawberry.type
class MaintenanceMutation:
    @mutation(
        description="Open a maintenance request for an item or environment in scope; the managers are notified.",
        permission=SIGNED_IN,
    )
    async def create_maintenance_request(
        self, info: Info, input: CreateMaintenanceRequestInput
    ) -> MaintenanceRequestResult:
        context = info.context
        row = await maintenance.open_request(context.require_session(), context.require_principal(), **values(input))
        return _request(row)

    @mutation(description="Assign (or reassign while ASSIGNED) a request to a technician.", permission=MANAGERS)
    async def assign_maintenance_request(
        self, info: Info, input: AssignMaintenanceRequestInput
    ) -> MaintenanceRequestResult:
        given, context = values(input), info.context
        row = await maintenance.assign_request(
            context.require_session(), context.require_principal(), given["id"], assignee_id=given["assignee_id"]
        )
        return _request(row)

    @mutation(
        description="Start the work (managers or the assignee): the units move into maintenance.",
        permission=SIGNED_IN,
    )
    async def start_maintenance_request(
        self, info: Info, input: StartMaintenanceRequestInput
    ) -> MaintenanceRequestResult:
        context = info.context
        row = await maintenance.start_request(
            context.require_session(), context.require_principal(), values(input)["id"]
        )
        return _request(row)

    @mutation(
        description="Complete the work (managers or the assignee): history record, item dates, units back.",
        permission=SIGNED_IN,
    )
    async def complete_maintenance_request(
        self, info: Info, input: CompleteMaintenanceRequestInput
    ) -> CompleteMaintenanceRequestResult:
        given, context = values(input), info.context
        row, record = await maintenance.complete_request(
            context.require_session(),
            context.require_principal(),
            given["id"],
            returned_damaged=given["returned_damaged"],
            fields=_record_fields(given),
            today=_today(info),
        )
        return CompleteMaintenanceRequestPayload(
            request=MaintenanceRequest.from_model(row), record=MaintenanceRecord.from_model(record)
        )

    @mutation(
        description="Cancel a request that is not completed (managers; the requester while PENDING).",
        permission=SIGNED_IN,
    )
    async def cancel_maintenance_request(
        self, info: Info, input: CancelMaintenanceRequestInput
    ) -> MaintenanceRequestResult:
        given, context = values(input), info.context
        row = await maintenance.cancel_request(
            context.require_session(), context.require_principal(), given["id"], reason=given["reason"]
        )
        return _request(row)

    @mutation(description="Add a manual entry to an item's maintenance history.", permission=MANAGERS)
    async def add_maintenance_record(self, info: Info, input: AddMaintenanceRecordInput) -> MaintenanceRecordResult:
        given, context = values(input), info.context
        row = await maintenance.add_record(
            context.require_session(),
            context.require_principal(),
            item_id=given["item_id"],
            fields=_record_fields(given),
            today=_today(info),
        )
        return MaintenanceRecordPayload(record=MaintenanceRecord.from_model(row))

    @mutation(description="Create or replace an item's maintenance plan.", permission=MANAGERS)
    async def set_maintenance_plan(self, info: Info, input: SetMaintenancePlanInput) -> MaintenancePlanResult:
        given, context = values(input), info.context
        item_id = given.pop("item_id")
        row = await maintenance.set_plan(
            context.require_session(),
            context.require_principal(),
            item_id=item_id,
            fields=maintenance.PlanFields(**given),
            today=_today(info),
        )
        return MaintenancePlanPayload(plan=MaintenancePlan.from_model(row))
