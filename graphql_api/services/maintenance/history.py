"""Maintenance history: one record per completed request, or a manual entry for work done
outside a request; each record of an item moves the item's last and next maintenance dates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal, environment_filter, manage_items_filter
from graphql_api.db.models import InventoryItem, ItemStatus, MaintenanceRecord, MaintenanceType
from graphql_api.db.models.maintenance import MAX_COST
from graphql_api.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from graphql_api.services import validation
from graphql_api.services.filtering import AnyOf, Bound, Filters, OrderField, Ordering, Search


def visible_records(principal: Principal) -> Select[Any]:
    """History records of the environments in the caller's scope."""
    return select(MaintenanceRecord).where(environment_filter(principal, MaintenanceRecord.environment_id))


RECORD_FILTERS = Filters(
    "MaintenanceRecord",
    "Filters for maintenance history; all given conditions must hold. They narrow the caller's scope, never widen it.",
    {
        "item_ids": AnyOf(MaintenanceRecord.item_id, "Only records of these items.", ids="InventoryItem"),
        "environment_ids": AnyOf(
            MaintenanceRecord.environment_id, "Only records of these environments.", ids="Environment"
        ),
        "maintenance_types": AnyOf(MaintenanceRecord.maintenance_type, "Only these kinds of work."),
        "performed_from": Bound(MaintenanceRecord.performed_on, "Only work done on or after this date."),
        "performed_before": Bound(MaintenanceRecord.performed_on, "Only work done before this date.", lower=False),
        "search": Search((MaintenanceRecord.description, MaintenanceRecord.parts), "Text in description or parts."),
    },
)
RECORD_ORDER = Ordering(
    "MaintenanceRecord",
    {
        "PERFORMED_ON": OrderField(MaintenanceRecord.performed_on, "By the date of the work."),
        "CREATED_AT": OrderField(MaintenanceRecord.created_at, "By the time it was recorded."),
    },
    default="PERFORMED_ON",
    default_descending=True,
    id_column=MaintenanceRecord.id,
)


@dataclass(frozen=True, slots=True)
class RecordFields:
    """What a history record says about the work (from completeMaintenanceRequest or a manual
    entry). `performed_on` None: today."""

    maintenance_type: MaintenanceType
    description: str
    cost: Decimal | None = None
    parts: str | None = None
    performed_on: date | None = None
    next_date: date | None = None


def checked_fields(errors: FieldErrors, fields: RecordFields, today: date) -> RecordFields:
    """The fields cleaned, every problem added to `errors`: the work is not in the future,
    the next date comes after it, the cost is 0..MAX_COST with two decimals at most."""
    performed = fields.performed_on or today
    if performed > today:
        errors.add("performedOn", "field.maintenance_date_in_future")
    if fields.next_date is not None and fields.next_date <= performed:
        errors.add("nextDate", "field.maintenance_next_date_not_after")
    return replace(
        fields,
        cost=_checked_cost(errors, fields.cost),
        description=validation.required_text(errors, "description", fields.description, max_len=5000),
        parts=validation.text(errors, "parts", fields.parts, max_len=2000),
        performed_on=performed,
    )


def _checked_cost(errors: FieldErrors, cost: Decimal | None) -> Decimal | None:
    """The cost with its two decimals (10.5 is 10.50, as stored)."""
    if cost is None:
        return None
    if not cost.is_finite() or cost < 0:
        errors.add("cost", "field.min_value", min=0)
    elif cost > MAX_COST:
        errors.add("cost", "field.max_value", max=str(MAX_COST))
    elif cost != cost.quantize(_CENTS):
        errors.add("cost", "field.maintenance_cost_decimals")
    else:
        return cost.quantize(_CENTS)
    return cost


_CENTS = Decimal("0.01")


async def write_record(
    session: AsyncSession,
    recorded_by: uuid.UUID,
    *,
    item_id: uuid.UUID | None,
    environment_id: uuid.UUID,
    request_id: uuid.UUID | None,
    fields: RecordFields,
) -> MaintenanceRecord:
    """Insert a record of checked `fields` and, for an item, move its maintenance dates (an
    update of the item row in the same transaction, audited like any other)."""
    assert fields.performed_on is not None
    record = MaintenanceRecord(
        item_id=item_id,
        environment_id=environment_id,
        request_id=request_id,
        recorded_by_id=recorded_by,
        maintenance_type=fields.maintenance_type,
        description=fields.description,
        cost=fields.cost,
        parts=fields.parts,
        performed_on=fields.performed_on,
        next_date=fields.next_date,
    )
    session.add(record)
    if item_id is not None:
        # Locked and read after any movement of this transaction (not a stale copy).
        item = await session.get(InventoryItem, item_id, with_for_update=True, populate_existing=True)
        assert item is not None
        _move_dates(item, fields.performed_on, fields.next_date)
    await session.flush()
    return record


def _move_dates(item: InventoryItem, performed: date, next_date: date | None) -> None:
    """The newest work sets the item's dates; an older entry added late changes neither. A next
    date that the new work has passed is cleared when the work names none."""
    last = item.last_maintenance_date
    if last is not None and performed < last:
        return
    item.last_maintenance_date = performed
    if next_date is not None:
        item.next_maintenance_date = next_date
    elif item.next_maintenance_date is not None and item.next_maintenance_date <= performed:
        item.next_maintenance_date = None


async def manageable_item(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> InventoryItem:
    """The item, if the caller may manage it: NotFound out of scope, PermissionDenied when
    visible but not manageable (a student's own room), Conflict when retired."""
    row = (
        await session.execute(
            select(InventoryItem, manage_items_filter(principal, InventoryItem.environment_id)).where(
                InventoryItem.id == item_id, environment_filter(principal, InventoryItem.environment_id)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("item")
    if not row[1]:
        raise PermissionDenied()
    item: InventoryItem = row[0]
    if item.status is ItemStatus.RETIRED:
        raise Conflict("error.item_retired")
    return item


async def add_record(
    session: AsyncSession, principal: Principal, *, item_id: uuid.UUID, fields: RecordFields, today: date
) -> MaintenanceRecord:
    """A manual history entry for an item the caller manages."""
    item = await manageable_item(session, principal, item_id)
    errors = FieldErrors()
    clean = checked_fields(errors, fields, today)
    errors.raise_if_any()
    return await write_record(
        session, principal.id, item_id=item.id, environment_id=item.environment_id, request_id=None, fields=clean
    )
