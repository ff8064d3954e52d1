"""`myAgenda(from, to)`: what the caller must do over a range of local days, in one list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from graphql_api.api.agenda.types import (
    AgendaCheckReview,
    AgendaClass,
    AgendaEntry,
    AgendaEntryKind,
    AgendaLoan,
    AgendaLoanAction,
    AgendaMaintenancePlan,
    AgendaMaintenanceRequest,
)
from graphql_api.api.checks.queries import class_check_status
from graphql_api.api.checks.types import InventoryCheck
from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.cost import list_size
from graphql_api.api.loans.types import Loan
from graphql_api.api.maintenance.types import MaintenancePlan, MaintenanceRequest
from graphql_api.api.schedules.types import Schedule
from graphql_api.services import agenda as service

KINDS = len(service.Kind)


@strawberry.type(description="The caller's agenda over a range of local days.")
class Agenda:
    from_: dt.date = strawberry.field(name="from", description="The first day of the range.")
    to: dt.date = strawberry.field(description="The last day of the range.")
    today: dt.date = strawberry.field(
        description="Today in the application's time zone: entries dated before it are late."
    )
    entries: list[AgendaEntry] = strawberry.field(
        description="The entries, by date, then time (entries without a time after those with one), then kind "
        f"(in AgendaEntryKind's order) and ID. At most {service.LIMIT} of each kind, the earliest.",
        metadata=list_size(service.LIMIT * KINDS),
    )
    truncated: list[AgendaEntryKind] = strawberry.field(
        description=f"The kinds that had more than {service.LIMIT} entries (only the earliest are listed); "
        "empty when the list is complete. Ask for a shorter range to see the rest.",
    )


def _entry(entry: service.Entry) -> Any:
    kind, row = entry.kind, entry.row
    if kind is service.Kind.CLASS:
        check = entry.check
        return AgendaClass(
            date=entry.day,
            start_time=row.start_time,
            end_time=row.end_time,
            schedule=Schedule.from_model(row),
            inventory_check=InventoryCheck.from_model(check) if check is not None else None,
            check_status=class_check_status(check),
        )
    if kind is service.Kind.CHECK_REVIEW:
        return AgendaCheckReview(date=entry.day, late=entry.late, check=InventoryCheck.from_model(row))
    if kind is service.Kind.LOAN:
        assert entry.duty is not None
        action = AgendaLoanAction[entry.duty.name]
        return AgendaLoan(date=entry.day, late=entry.late, action=action, loan=Loan.from_model(row))
    if kind is service.Kind.MAINTENANCE_REQUEST:
        return AgendaMaintenanceRequest(date=entry.day, late=entry.late, request=MaintenanceRequest.from_model(row))
    return AgendaMaintenancePlan(date=entry.day, late=entry.late, plan=MaintenancePlan.from_model(row))


@strawberry.type
class AgendaQuery:
    @strawberry.field(
        description="What the caller must do from `from` to `to` (local dates in the application's time zone, "
        f"at most {service.MAX_DAYS} days), in one list: the classes they take part in with how each day's check "
        "stands; the checks awaiting them; the loans awaiting them; the maintenance requests assigned to them; "
        "the maintenance plans of the items they manage falling due. Besides what is dated in the range, what "
        "is still to do from before today (late) is always listed, on its own date. A bad range is a "
        "BAD_REQUEST error with `fieldErrors`.",
        extensions=permissions.authenticated(),
    )
    async def my_agenda(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from", description="The first local date.")],
        to: Annotated[dt.date, strawberry.argument(description="The last local date (on or after `from`).")],
    ) -> Agenda:
        context = info.context
        today = context.now().date()
        service.check_range(from_, to)
        async with context.db() as session:
            found = await service.agenda(session, context.require_principal(), from_, to, today=today)
        return Agenda(
            from_=from_,
            to=to,
            today=today,
            entries=[_entry(entry) for entry in found.entries],
            truncated=[AgendaEntryKind[kind.name] for kind in found.truncated],
        )
