"""Maintenance requests: who sees them, how lists filter them, and how one is opened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, environment_filter
from graphql_api.db.models import (
    Environment,
    InventoryItem,
    ItemStatus,
    MaintenancePriority,
    MaintenanceRequest,
    MaintenanceStatus,
    NotificationPriority,
    Role,
)
from graphql_api.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from graphql_api.services import events, notifications, validation
from graphql_api.services.filtering import AnyOf, Bound, Filters, OrderField, Ordering, Search

# Every change of a request (opened, each transition): subject the request, its environment.
CHANGED = "maintenance_request"
# Who hears of a new request: the supervisors of the room's center and, for a warehouse, its
# administrator (`scope.reaches`: an ADMIN reaches only the home warehouse).
TOLD_OF_NEW = (Role.SUPERVISOR, Role.ADMIN)
OPEN_STATUSES = (MaintenanceStatus.PENDING, MaintenanceStatus.ASSIGNED, MaintenanceStatus.IN_PROGRESS)


def visible_requests(principal: Principal) -> Select[Any]:
    """Requests of the environments in the caller's scope (item or room requests alike)."""
    return select(MaintenanceRequest).where(environment_filter(principal, MaintenanceRequest.environment_id))


def assigned_to_caller(principal: Principal) -> Select[Any]:
    """The open requests assigned to the caller: theirs to start or complete."""
    return visible_requests(principal).where(
        MaintenanceRequest.assignee_id == scope.caller(principal),
        MaintenanceRequest.status.in_((MaintenanceStatus.ASSIGNED, MaintenanceStatus.IN_PROGRESS)),
    )


REQUEST_FILTERS = Filters(
    "MaintenanceRequest",
    "Filters for maintenance requests; all given conditions must hold. They narrow the caller's scope, never widen it.",
    {
        "statuses": AnyOf(MaintenanceRequest.status, "Only these statuses."),
        "priorities": AnyOf(MaintenanceRequest.priority, "Only these priorities."),
        "environment_ids": AnyOf(
            MaintenanceRequest.environment_id, "Only requests of these environments.", ids="Environment"
        ),
        "item_ids": AnyOf(MaintenanceRequest.item_id, "Only requests for these items.", ids="InventoryItem"),
        "assignee_ids": AnyOf(MaintenanceRequest.assignee_id, "Only requests assigned to these users.", ids="User"),
        "requester_ids": AnyOf(MaintenanceRequest.requester_id, "Only requests made by these users.", ids="User"),
        "search": Search((MaintenanceRequest.title, MaintenanceRequest.description), "Text in title or description."),
        "created_from": Bound(MaintenanceRequest.created_at, "Only requests created at or after this time."),
        "created_before": Bound(MaintenanceRequest.created_at, "Only requests created before this time.", lower=False),
    },
)
REQUEST_ORDER = Ordering(
    "MaintenanceRequest",
    {
        "CREATED_AT": OrderField(MaintenanceRequest.created_at, "By creation time."),
        "UPDATED_AT": OrderField(MaintenanceRequest.updated_at, "By last change."),
    },
    default="CREATED_AT",
    default_descending=True,
    id_column=MaintenanceRequest.id,
)


@dataclass(frozen=True, slots=True)
class PlanDue:
    """A request the system opens for a maintenance plan's due date."""

    plan_id: uuid.UUID
    due_date: date


@dataclass(frozen=True, slots=True)
class _Target:
    environment_id: uuid.UUID
    item: InventoryItem | None
    place: str


async def open_request(
    session: AsyncSession,
    principal: Principal | None,
    *,
    item_id: uuid.UUID | None,
    environment_id: uuid.UUID | None = None,
    units: int | None,
    title: str,
    description: str,
    priority: MaintenancePriority,
    units_already_damaged: bool = False,
    plan: PlanDue | None = None,
) -> MaintenanceRequest:
    """Open a request (PENDING) for an item (with the units affected) or for an environment,
    in the caller's transaction; notify the supervisors of the center (and the warehouse's
    ADMIN for a warehouse) and publish the change.

    `principal` None is the system (a maintenance plan, `plan`): no scope applies and the
    request has no requester. `units_already_damaged`: the units sit in the item's damaged
    bucket already (a check's findings put them there); starting then takes them from it.
    Out of scope looks missing (NotFound); bad input is a ValidationFailed naming the fields.
    """
    target = await _target(session, principal, item_id, environment_id)
    errors = FieldErrors()
    clean_title = validation.required_text(errors, "title", title, max_len=200)
    clean_description = validation.required_text(errors, "description", description, max_len=5000)
    clean_units = _units(errors, target.item, units, units_already_damaged)
    errors.raise_if_any()
    request = MaintenanceRequest(
        item_id=target.item.id if target.item is not None else None,
        environment_id=target.environment_id,
        requester_id=principal.id if principal is not None else None,
        plan_id=plan.plan_id if plan is not None else None,
        due_date=plan.due_date if plan is not None else None,
        title=clean_title,
        description=clean_description,
        priority=priority,
        status=MaintenanceStatus.PENDING,
        units=clean_units,
        units_already_damaged=units_already_damaged,
    )
    session.add(request)
    await session.flush()
    await _tell_of_new(session, request, target.place, principal)
    return request


async def _target(
    session: AsyncSession, principal: Principal | None, item_id: uuid.UUID | None, environment_id: uuid.UUID | None
) -> _Target:
    """The item and/or environment named, as the caller sees them."""
    if item_id is None:
        if environment_id is None:
            _raise("itemId", "field.maintenance_target_required")
        environment = await _environment(session, principal, environment_id)
        if environment is None:
            raise NotFound("environment")
        if not environment.is_active:
            _raise("environmentId", "field.environment_inactive")
        return _Target(environment.id, None, environment.name)
    stmt = select(InventoryItem).where(InventoryItem.id == item_id)
    if principal is not None:
        stmt = stmt.where(environment_filter(principal, InventoryItem.environment_id))
    item = (await session.scalars(stmt)).one_or_none()
    if item is None:
        raise NotFound("item")
    if environment_id is not None and environment_id != item.environment_id:
        known = await _environment(session, principal, environment_id)
        _raise("environmentId", "field.not_found" if known is None else "field.maintenance_not_item_environment")
    if item.status is ItemStatus.RETIRED:
        raise Conflict("error.item_retired")
    return _Target(item.environment_id, item, item.name)


async def _environment(
    session: AsyncSession, principal: Principal | None, environment_id: uuid.UUID
) -> Environment | None:
    stmt = select(Environment).where(Environment.id == environment_id)
    if principal is not None:
        stmt = stmt.where(environment_filter(principal, Environment.id))
    found: Environment | None = (await session.scalars(stmt)).one_or_none()
    return found


def _raise(field: str, code: str) -> NoReturn:
    raise ValidationFailed.single(field, code)


def _units(errors: FieldErrors, item: InventoryItem | None, units: int | None, already_damaged: bool) -> int | None:
    if item is None:
        if units:
            errors.add("units", "field.maintenance_no_units_for_environment")
        if already_damaged:
            errors.add("unitsAlreadyDamaged", "field.maintenance_no_units_for_environment")
        return None
    count = 1 if units is None else units
    validation.int_range(errors, "units", count, minimum=1, maximum=item.quantity)
    if already_damaged and count > item.quantity_damaged:
        errors.add("units", "field.maintenance_more_than_damaged")
    return count


async def _tell_of_new(
    session: AsyncSession, request: MaintenanceRequest, place: str, principal: Principal | None
) -> None:
    actor = principal.id if principal is not None else None
    recipients = await notifications.users_reaching(session, request.environment_id, TOLD_OF_NEW)
    urgent = request.priority is MaintenancePriority.URGENT
    await notifications.notify(
        session,
        [user for user in recipients if user != actor],
        "maintenance.requested",
        params={"title": request.title, "place": place, "priority": request.priority.value},
        priority=NotificationPriority.HIGH if urgent else NotificationPriority.NORMAL,
        subject=("MaintenanceRequest", request.id),
    )
    publish_change(session, request)


def publish_change(session: AsyncSession, request: Any) -> None:
    events.publish(session, CHANGED, subject_id=request.id, environment_id=request.environment_id)
