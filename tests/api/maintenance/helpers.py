"""Requests in every state, made through the services, and what the tests compare."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import maintenance
from tests.conftest import Actor

S = models.MaintenanceStatus
TODAY = date(2030, 1, 15)
WORK = maintenance.RecordFields(models.MaintenanceType.CORRECTIVE, "Replaced the fan", performed_on=TODAY)


async def open_for_item(
    db: async_sessionmaker[AsyncSession],
    actor: Actor,
    item: models.InventoryItem,
    *,
    units: int = 1,
    damaged: bool = False,
    priority: models.MaintenancePriority = models.MaintenancePriority.MEDIUM,
) -> uuid.UUID:
    async with db.begin() as session:
        request = await maintenance.open_request(
            session,
            actor.principal,
            item_id=item.id,
            units=units,
            title="Broken",
            description="Does not start",
            priority=priority,
            units_already_damaged=damaged,
        )
        return request.id


async def advance(
    db: async_sessionmaker[AsyncSession], manager: Actor, request_id: uuid.UUID, to: S, *, assignee: Actor | None = None
) -> None:
    """Move a PENDING request along the happy path up to `to` (or cancel it)."""
    path = [S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED]
    if to is S.CANCELLED:
        async with db.begin() as session:
            await maintenance.cancel_request(session, manager.principal, request_id)
        return
    for step in path[: path.index(to) + 1] if to in path else []:
        async with db.begin() as session:
            if step is S.ASSIGNED:
                who = (assignee or manager).id
                await maintenance.assign_request(session, manager.principal, request_id, assignee_id=who)
            elif step is S.IN_PROGRESS:
                await maintenance.start_request(session, manager.principal, request_id)
            else:
                await maintenance.complete_request(
                    session, manager.principal, request_id, returned_damaged=0, fields=WORK, today=TODAY
                )


async def request_in(
    db: async_sessionmaker[AsyncSession], manager: Actor, item: models.InventoryItem, status: S, **options: Any
) -> uuid.UUID:
    request_id = await open_for_item(db, manager, item, **options)
    if status is not S.PENDING:
        await advance(db, manager, request_id, status)
    return request_id


# The tables a refused transition must leave unchanged (the audit log records the attempt).
WATCHED = (
    "maintenance_requests",
    "maintenance_records",
    "inventory_items",
    "inventory_movements",
    "notifications",
    "outbox_events",
    "system_alerts",
)


async def snapshot(db: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    async with db() as session:
        return {
            table: sorted((await session.execute(text(f"SELECT md5(t::text) FROM {table} t"))).scalars().all())
            for table in WATCHED
        }


async def item_row(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> models.InventoryItem:
    async with db() as session:
        item = await session.get(models.InventoryItem, item_id)
        assert item is not None
        return item


async def ledger_adds_up(db: async_sessionmaker[AsyncSession], item_id: uuid.UUID) -> models.InventoryItem:
    """The sum of the item's movements is its quantity and buckets; returns the item."""
    m = models.InventoryMovement
    async with db() as session:
        sums = (
            await session.execute(
                select(
                    func.sum(m.delta_quantity),
                    func.sum(m.delta_damaged),
                    func.sum(m.delta_missing),
                    func.sum(m.delta_in_maintenance),
                    func.sum(m.delta_on_loan),
                    func.count(),
                ).where(m.item_id == item_id)
            )
        ).one()
    item = await item_row(db, item_id)
    buckets = (item.quantity, item.quantity_damaged, item.quantity_missing)
    assert tuple(sums[:5]) == (*buckets, item.quantity_in_maintenance, item.quantity_on_loan)
    assert sums[5] == item.movement_count
    return item
