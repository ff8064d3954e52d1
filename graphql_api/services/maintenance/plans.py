"""Maintenance plans and the periodic job that acts on them.

A plan (one per item) falls due every N days or once on a fixed date. The job, in local dates
(APP_TIMEZONE):

* when the due date is within the plan's lead days, raises MAINTENANCE_DUE for the item, once
  per item and date (`last_alerted_for`, and the open-alert uniqueness of system_alerts);
* when the due date has come, opens a request through `open_request` with the system as the
  requester (no user: `requester` is null and the request names its plan), once per plan and
  due date (a unique index), then moves an interval plan's date on past today, or ends a
  fixed-date plan (no next date).

Plans are read and written by the item's managers only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter
from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    Environment,
    InventoryItem,
    ItemStatus,
    MaintenancePlan,
    MaintenancePriority,
    MaintenanceRequest,
)
from graphql_api.db.models.maintenance import MAX_INTERVAL_DAYS, MAX_LEAD_DAYS
from graphql_api.errors import FieldErrors
from graphql_api.services import alerts, audit, validation
from graphql_api.services.filtering import AnyOf, Equals, Filters, OrderField, Ordering
from graphql_api.services.maintenance.history import manageable_item
from graphql_api.services.maintenance.requests import PlanDue, open_request
from graphql_api.settings import Settings

P = MaintenancePlan
# The texts of the requests the system opens, in the server's default language.
_PLAN_REQUEST = {
    "es": (
        "Mantenimiento preventivo programado",
        "Abierta por el plan de mantenimiento del elemento (vence el {due}).",
    ),
    "en": ("Scheduled preventive maintenance", "Opened by the item's maintenance plan (due {due})."),
}


def visible_plans(principal: Principal) -> Select[Any]:
    """Plans of the items the caller manages (SUPERVISOR in scope, ADMIN in the own warehouse,
    ADMIN_GENERAL); nobody else sees them."""
    return select(P).where(
        environment_filter(principal, P.environment_id), manage_items_filter(principal, P.environment_id)
    )


def plans_with_due_date(principal: Principal) -> Select[Any]:
    """The active plans with a next due date, among those the caller manages: the work the
    caller has to have done (callers narrow by `next_due_date`)."""
    return visible_plans(principal).where(P.active.is_(True), P.next_due_date.is_not(None))


PLAN_FILTERS = Filters(
    "MaintenancePlan",
    "Filters for maintenance plans; all given conditions must hold.",
    {
        "environment_ids": AnyOf(P.environment_id, "Only plans of these environments.", ids="Environment"),
        "item_ids": AnyOf(P.item_id, "Only the plans of these items.", ids="InventoryItem"),
        "active": Equals(P.active, "Only active (or inactive) plans."),
    },
)
PLAN_ORDER = Ordering(
    "MaintenancePlan",
    {
        "NEXT_DUE_DATE": OrderField(P.next_due_date, "By next due date."),
        "CREATED_AT": OrderField(P.created_at, "By creation time."),
    },
    default="CREATED_AT",
    id_column=P.id,
)


@dataclass(frozen=True, slots=True)
class PlanFields:
    """`every_days` or `on_date`, one of the two; `next_due_date` (interval plans only): the
    first due date, today + every_days by default."""

    every_days: int | None = None
    on_date: date | None = None
    next_due_date: date | None = None
    units: int = 1
    lead_days: int = 7
    active: bool = True


def _checked(errors: FieldErrors, fields: PlanFields, item: InventoryItem, today: date) -> date:
    """Problems to `errors`; the plan's next due date."""
    if (fields.every_days is None) == (fields.on_date is None):
        errors.add("everyDays", "field.maintenance_plan_schedule")
    if fields.every_days is not None:
        validation.int_range(errors, "everyDays", fields.every_days, minimum=1, maximum=MAX_INTERVAL_DAYS)
    elif fields.next_due_date is not None:
        errors.add("nextDueDate", "field.maintenance_plan_schedule")
    due = fields.on_date or fields.next_due_date or date.fromordinal(today.toordinal() + (fields.every_days or 0))
    if due < today:
        errors.add("onDate" if fields.on_date is not None else "nextDueDate", "field.maintenance_date_in_past")
    validation.int_range(errors, "units", fields.units, minimum=1, maximum=item.quantity)
    validation.int_range(errors, "leadDays", fields.lead_days, minimum=0, maximum=MAX_LEAD_DAYS)
    return due


async def set_plan(
    session: AsyncSession, principal: Principal, *, item_id: uuid.UUID, fields: PlanFields, today: date
) -> MaintenancePlan:
    """Create or replace the plan of an item the caller manages (one statement: two callers
    setting the same item's plan at once end with one plan, the last one's)."""
    item = await manageable_item(session, principal, item_id)
    errors = FieldErrors()
    due = _checked(errors, fields, item, today)
    errors.raise_if_any()
    values = {
        "interval_days": fields.every_days,
        "fixed_date": fields.on_date,
        "next_due_date": due,
        "units": fields.units,
        "lead_days": fields.lead_days,
        "active": fields.active,
    }
    stmt: Any = (
        insert(P)
        .values(
            id=uuid.uuid4(), item_id=item.id, environment_id=item.environment_id, created_by_id=principal.id, **values
        )
        .on_conflict_do_update(index_elements=[P.item_id], set_={**values, "updated_at": func.now()})
        .returning(P, literal_column("xmax = 0"))
        .execution_options(populate_existing=True)
    )
    plan: MaintenancePlan
    plan, created = (await session.execute(stmt)).one()
    if created:
        audit.note_change(session, entity=P.__tablename__, entity_id=plan.id, action="create", new=values)
    else:
        audit.note_change(session, entity=P.__tablename__, entity_id=plan.id, new=values)
    return plan


# ---- the periodic job ----------------------------------------------------------------------

_TODAY = bindparam("today", type_=P.next_due_date.type)
# Plans with something to do today: an alert not raised yet for their due date, or a due date
# that has come and has no request yet. One statement, whatever the number of plans.
_DUE_SOON = (
    select(P, InventoryItem.quantity, InventoryItem.name, InventoryItem.internal_code, Environment.name)
    .join(InventoryItem, InventoryItem.id == P.item_id)
    .join(Environment, Environment.id == InventoryItem.environment_id)
    .where(
        P.active.is_(True),
        P.next_due_date.is_not(None),
        P.next_due_date - P.lead_days <= _TODAY,
        InventoryItem.status == ItemStatus.ACTIVE,
        or_(
            P.last_alerted_for.is_distinct_from(P.next_due_date),
            and_(
                P.next_due_date <= _TODAY,
                ~exists().where(MaintenanceRequest.plan_id == P.id, MaintenanceRequest.due_date == P.next_due_date),
            ),
        ),
    )
    .order_by(P.next_due_date, P.id)
)
# After opening its request: an interval plan's next date moves on by whole intervals past
# today; a fixed-date plan has nothing more due.
_ADVANCE = text(
    """
    UPDATE maintenance_plans SET updated_at = now(), next_due_date = CASE
        WHEN interval_days IS NULL THEN NULL
        ELSE next_due_date + interval_days * ((CAST(:today AS date) - next_due_date) / interval_days + 1)
    END
    WHERE id = ANY(:ids)
    """
)
_ALERTED = text(
    "UPDATE maintenance_plans SET last_alerted_for = next_due_date, updated_at = now() WHERE id = ANY(:ids)"
)


async def run_plans(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, Any]:
    """The periodic job (see the module's docstring); what it did, for `job_runs`."""
    today = now.astimezone(settings.timezone).date()
    rows = (await session.execute(_DUE_SOON, {"today": today})).all()
    alerted: list[uuid.UUID] = []
    opened: list[uuid.UUID] = []
    for plan, quantity, *named in rows:
        due = plan.next_due_date
        assert due is not None  # the statement selects only plans with a next date
        if plan.last_alerted_for != due:
            await _alert(session, plan, dict(zip(("item", "code", "environment"), named, strict=True)), due, today)
            alerted.append(plan.id)
        if due <= today:
            await _open_for(session, plan, due, min(plan.units, quantity), settings)
            opened.append(plan.id)
    if alerted:
        await session.execute(_ALERTED, {"ids": alerted})
    if opened:
        await session.execute(_ADVANCE, {"ids": opened, "today": today})
    return {"alerted": len(alerted), "opened": len(opened)}


async def _alert(session: AsyncSession, plan: MaintenancePlan, where: dict[str, str], due: date, today: date) -> None:
    await alerts.raise_alert(
        session,
        AlertType.MAINTENANCE_DUE,
        AlertSeverity.HIGH if due <= today else AlertSeverity.MEDIUM,
        subject_type="InventoryItem",
        subject_id=plan.item_id,
        environment_id=plan.environment_id,
        params={**where, "due_date": due.isoformat()},
    )


async def _open_for(session: AsyncSession, plan: MaintenancePlan, due: date, units: int, settings: Settings) -> None:
    title, description = _PLAN_REQUEST.get(settings.default_language, _PLAN_REQUEST["es"])
    await open_request(
        session,
        None,
        item_id=plan.item_id,
        units=units,
        title=title,
        description=description.format(due=due.isoformat()),
        priority=MaintenancePriority.MEDIUM,
        plan=PlanDue(plan.id, due),
    )
