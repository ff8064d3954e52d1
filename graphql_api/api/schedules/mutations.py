"""Creating, changing and (de)activating class slots."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.schedules.types import Schedule
from graphql_api.services import schedules

MANAGERS = permissions.roles(*schedules.MANAGERS)


@strawberry.input(description="A new class slot.")
class CreateScheduleInput:
    environment_id: strawberry.ID = ref("Environment", description="The room (not a warehouse).")
    instructor_id: strawberry.ID | None = ref(
        "User",
        default=None,
        description="Who teaches it: an active instructor of the room's center "
        "(an instructor may only name themselves; default: the caller).",
    )
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday ... 7 = Sunday.")
    start_time: time = strawberry.field(description="Start, e.g. `07:00` (to the minute, local time).")
    end_time: time = strawberry.field(description="End, after the start.")
    valid_from: date = strawberry.field(description="First date.")
    valid_until: date = strawberry.field(description="Last date, not before the first.")
    program: str = strawberry.field(description="Training program (max 200).")
    group_number: str = strawberry.field(description='Group number, "ficha" (max 40).')
    topic: str | None = strawberry.field(default=None, description="What the class is about (max 200).")
    student_count: int = strawberry.field(default=0, description="Number of students (0-1000).")


@strawberry.input(description="Changes to a class slot; omitted fields stay as they are.")
class UpdateScheduleInput:
    id: strawberry.ID = ref("Schedule", description="The slot.")
    environment_id: strawberry.Maybe[strawberry.ID] = ref("Environment", description="Another room.")
    instructor_id: strawberry.Maybe[strawberry.ID] = ref("User", description="Another instructor.")
    weekday: strawberry.Maybe[int] = strawberry.field(description="New weekday (1-7).")
    start_time: strawberry.Maybe[time] = strawberry.field(description="New start.")
    end_time: strawberry.Maybe[time] = strawberry.field(description="New end.")
    valid_from: strawberry.Maybe[date] = strawberry.field(description="New first date.")
    valid_until: strawberry.Maybe[date] = strawberry.field(description="New last date.")
    program: strawberry.Maybe[str] = strawberry.field(description="New program.")
    group_number: strawberry.Maybe[str] = strawberry.field(description="New group number.")
    topic: strawberry.Maybe[str | None] = strawberry.field(description="New topic; null clears it.")
    student_count: strawberry.Maybe[int] = strawberry.field(description="New number of students.")


@strawberry.input(description="Identifies a class slot.")
class ScheduleIdInput:
    id: strawberry.ID = ref("Schedule", description="The slot.")


@strawberry.type(description="The class slot after the change.")
class SchedulePayload:
    schedule: Schedule = strawberry.field(description="The slot.")


ScheduleResult = Annotated[
    SchedulePayload | ValidationError | NotFoundError | ConflictError | PermissionDeniedError,
    strawberry.union(
        "ScheduleResult",
        description="A class slot, or why the change failed (ConflictError: it overlaps another active "
        "slot of the room).",
    ),
]


@strawberry.type
class ScheduleMutation:
    @mutation(description="Create a class slot of a room.", permission=MANAGERS)
    async def create_schedule(self, info: Info, input: CreateScheduleInput) -> ScheduleResult:
        context = info.context
        row = await schedules.create_schedule(context.require_session(), context.require_principal(), **values(input))
        return SchedulePayload(schedule=Schedule.from_model(row))

    @mutation(description="Change a class slot.", permission=MANAGERS)
    async def update_schedule(self, info: Info, input: UpdateScheduleInput) -> ScheduleResult:
        context, changes = info.context, values(input)
        row = await schedules.update_schedule(
            context.require_session(), context.require_principal(), changes.pop("id"), changes=changes
        )
        return SchedulePayload(schedule=Schedule.from_model(row))

    @mutation(description="Deactivate a class slot (kept for the history of its checks).", permission=MANAGERS)
    async def deactivate_schedule(self, info: Info, input: ScheduleIdInput) -> ScheduleResult:
        return await _set_active(info, input, active=False)

    @mutation(
        description="Activate a deactivated class slot again (unless it now overlaps another).", permission=MANAGERS
    )
    async def activate_schedule(self, info: Info, input: ScheduleIdInput) -> ScheduleResult:
        return await _set_active(info, input, active=True)


async def _set_active(info: Info, input: ScheduleIdInput, *, active: bool) -> SchedulePayload:
    context = info.context
    row = await schedules.set_schedule_active(
        context.require_session(), context.require_principal(), values(input)["id"], active=active
    )
    return SchedulePayload(schedule=Schedule.from_model(row))
