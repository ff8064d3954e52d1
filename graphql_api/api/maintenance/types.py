"""Maintenance requests, history records and plans as GraphQL types, and the fields they add
to items."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import mirrors
from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, extends, model_type
from graphql_api.api.items.loaders import ITEM_BY_ID
from graphql_api.api.items.types import InventoryItem
from graphql_api.api.maintenance.loaders import (
    PLAN_BY_ID,
    PLAN_OF_ITEM,
    RECORD_BY_ID,
    RECORD_OF_REQUEST,
    RECORDS_OF_ITEM,
    REQUEST_BY_ID,
    REQUESTS_OF_ITEM,
)
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models


@mirrors(models.MaintenanceStatus)
@strawberry.enum(description="Where a maintenance request stands: PENDING → ASSIGNED → IN_PROGRESS → COMPLETED.")
class MaintenanceStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Opened; nobody is assigned yet.")
    ASSIGNED = strawberry.enum_value("ASSIGNED", description="A technician is assigned; work has not started.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Work started; the units are in maintenance.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Done: recorded in the history, units returned.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Called off before completion; units returned.")


@mirrors(models.MaintenancePriority)
@strawberry.enum(description="How urgent a maintenance request is.")
class MaintenancePriority(enum.Enum):
    LOW = strawberry.enum_value("LOW", description="When there is time.")
    MEDIUM = strawberry.enum_value("MEDIUM", description="The usual.")
    HIGH = strawberry.enum_value("HIGH", description="Soon.")
    URGENT = strawberry.enum_value("URGENT", description="Now; the managers are notified with high priority.")


@mirrors(models.MaintenanceType)
@strawberry.enum(description="The kind of maintenance work done.")
class MaintenanceType(enum.Enum):
    PREVENTIVE = strawberry.enum_value("PREVENTIVE", description="Planned upkeep before anything fails.")
    CORRECTIVE = strawberry.enum_value("CORRECTIVE", description="A repair of something that failed.")
    UPGRADE = strawberry.enum_value("UPGRADE", description="An improvement (parts, software).")


@model_type(
    models.MaintenancePlan,
    loader=PLAN_BY_ID,
    description="Preventive maintenance of one item, every N days or once on a date; seen by the item's managers.",
    computed={"every_days": lambda row: row.interval_days, "on_date": lambda row: row.fixed_date},
    related={
        "item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem),
        "created_by": Relation(USER_BY_ID, "created_by_id", lambda: User, required=False),
    },
)
class MaintenancePlan(Node, ModelObject):
    _model: strawberry.Private[models.MaintenancePlan]
    every_days: int | None = strawberry.field(description="Due every this many days (null for a fixed date).")
    on_date: date | None = strawberry.field(description="The one fixed due date (null for an interval).")
    next_due_date: date | None = strawberry.field(description="When a request opens next; null once a date plan fired.")
    units: int = strawberry.field(description="Units each request covers (at most the item's quantity then).")
    lead_days: int = strawberry.field(description="Days before the due date that MAINTENANCE_DUE is raised.")
    active: bool = strawberry.field(description="Whether the periodic job acts on the plan.")
    last_alerted_for: date | None = strawberry.field(description="The due date MAINTENANCE_DUE was last raised for.")
    created_at: datetime = strawberry.field(description="When the plan was created.")
    updated_at: datetime = strawberry.field(description="Last change (by a manager or the job).")
    item: InventoryItem = strawberry.field(description="The item maintained.")
    created_by: User | None = strawberry.field(description="Who created it, if visible to the caller.")


@model_type(
    models.MaintenanceRequest,
    loader=REQUEST_BY_ID,
    description="A request to maintain or repair units of an item, or an environment itself.",
    related={
        "item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem),
        "environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment),
        "requester": Relation(USER_BY_ID, "requester_id", lambda: User, required=False),
        "assignee": Relation(USER_BY_ID, "assignee_id", lambda: User, required=False),
        "plan": Relation(PLAN_BY_ID, "plan_id", lambda: MaintenancePlan, required=False),
    },
)
class MaintenanceRequest(Node, ModelObject):
    _model: strawberry.Private[models.MaintenanceRequest]
    title: str = strawberry.field(description="Short title.")
    description: str = strawberry.field(description="What is wrong or what is to be done.")
    priority: MaintenancePriority = strawberry.field(description="How urgent it is.")
    status: MaintenanceStatus = strawberry.field(description="Where it stands.")
    units: int | None = strawberry.field(description="Units of the item affected; null for an environment request.")
    units_already_damaged: bool = strawberry.field(
        description="The units were in the damaged bucket already (e.g. found by a check): they leave it on start."
    )
    returned_damaged: int | None = strawberry.field(description="Of the units, those that came back damaged.")
    cancellation_reason: str | None = strawberry.field(description="Why it was cancelled, if given.")
    due_date: date | None = strawberry.field(description="For a request opened by a plan: the due date it is for.")
    created_at: datetime = strawberry.field(description="When it was opened.")
    updated_at: datetime = strawberry.field(description="Last change.")
    assigned_at: datetime | None = strawberry.field(description="Last (re)assignment.")
    started_at: datetime | None = strawberry.field(description="When work started.")
    completed_at: datetime | None = strawberry.field(description="When it was completed.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    item: InventoryItem | None = strawberry.field(description="The item; null for an environment request.")
    environment: Environment = strawberry.field(description="The environment (the item's, for an item request).")
    requester: User | None = strawberry.field(
        description="Who opened it; null when opened by the system for a plan, or not visible to the caller."
    )
    assignee: User | None = strawberry.field(description="The assigned technician, if any and visible to the caller.")
    plan: MaintenancePlan | None = strawberry.field(
        description="The plan that opened it, if any (visible to the item's managers)."
    )

    @strawberry.field(description="The history record written when it was completed; null before.")
    async def record(self, info: Info) -> MaintenanceRecord | None:
        row = await info.context.loaders[RECORD_OF_REQUEST].load(self._model.id)
        return MaintenanceRecord.from_model(row) if row is not None else None


@model_type(
    models.MaintenanceRecord,
    loader=RECORD_BY_ID,
    description="An entry of the maintenance history: work done on an item (or an environment, by its request).",
    related={
        "item": Relation(ITEM_BY_ID, "item_id", lambda: InventoryItem),
        "environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment),
        "request": Relation(REQUEST_BY_ID, "request_id", lambda: MaintenanceRequest),
        "recorded_by": Relation(USER_BY_ID, "recorded_by_id", lambda: User, required=False),
    },
)
class MaintenanceRecord(Node, ModelObject):
    _model: strawberry.Private[models.MaintenanceRecord]
    maintenance_type: MaintenanceType = strawberry.field(description="Kind of work.")
    description: str = strawberry.field(description="What was done.")
    cost: Decimal | None = strawberry.field(description="What it cost (two decimals), if known.")
    parts: str | None = strawberry.field(description="Parts replaced, if any.")
    performed_on: date = strawberry.field(description="When the work was done (local date).")
    next_date: date | None = strawberry.field(description="When the next maintenance is due, if set.")
    created_at: datetime = strawberry.field(description="When it was recorded.")
    item: InventoryItem | None = strawberry.field(description="The item; null for an environment's request.")
    environment: Environment = strawberry.field(description="The environment.")
    request: MaintenanceRequest | None = strawberry.field(description="The request it completes; null when manual.")
    recorded_by: User | None = strawberry.field(description="Who recorded it, if visible to the caller.")


@extends("InventoryItem")
class ItemMaintenance:
    maintenance_requests = children_field(
        REQUESTS_OF_ITEM, "MaintenanceRequest", __name__, description="Maintenance requests of this item, newest first."
    )
    maintenance_history = children_field(
        RECORDS_OF_ITEM, "MaintenanceRecord", __name__, description="Maintenance history of this item, newest first."
    )

    @strawberry.field(description="The item's maintenance plan; null if none or the caller does not manage the item.")
    async def maintenance_plan(self, info: Info) -> MaintenancePlan | None:
        row = await info.context.loaders[PLAN_OF_ITEM].load(self._model.id)  # type: ignore[attr-defined]
        return MaintenancePlan.from_model(row) if row is not None else None
