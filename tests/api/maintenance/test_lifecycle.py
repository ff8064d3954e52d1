"""A request's life through the services: stock through the ledger, history, item dates,
notifications and events; the damaged-origin units; environment requests."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import events, maintenance
from tests.api.maintenance.helpers import TODAY, WORK, S, item_row, ledger_adds_up, open_for_item
from tests.conftest import World


async def _notified(db: async_sessionmaker[AsyncSession], kind: str) -> set[object]:
    async with db() as session:
        rows = await session.scalars(select(models.Notification.recipient_id).where(models.Notification.kind == kind))
        return set(rows.all())


async def test_item_request_from_open_to_completed(db: async_sessionmaker[AsyncSession], world: World) -> None:
    item = world.items["a1"][1]  # 10 units
    request_id = await open_for_item(db, world.student, item, units=3)
    # The supervisors of the center hear of it (the room is no warehouse: no ADMIN).
    assert await _notified(db, "maintenance.requested") == {world.supervisor.id}

    async with db.begin() as session:
        request = await maintenance.assign_request(
            session, world.supervisor.principal, request_id, assignee_id=world.instructor.id
        )
        assert request.status is S.ASSIGNED
    assert await _notified(db, "maintenance.assigned") == {world.student.id, world.instructor.id}

    async with db.begin() as session:
        request = await maintenance.start_request(session, world.instructor.principal, request_id)
        assert request.status is S.IN_PROGRESS
        topics = [event["topic"] for event in events.pending(session)]
    assert topics.count(maintenance.CHANGED) == 1
    item_now = await ledger_adds_up(db, item.id)
    assert (item_now.quantity_in_maintenance, item_now.quantity_available) == (3, 7)
    # The assignee started it: the requester is told, the assignee is not told of their own act.
    assert await _notified(db, "maintenance.started") == {world.student.id}

    fields = maintenance.RecordFields(
        models.MaintenanceType.CORRECTIVE,
        "New power supplies",
        cost=Decimal("120.50"),
        parts="3 PSU",
        performed_on=TODAY,
        next_date=TODAY.replace(year=2031),
    )
    async with db.begin() as session:
        request, record = await maintenance.complete_request(
            session, world.instructor.principal, request_id, returned_damaged=1, fields=fields, today=TODAY
        )
        assert (request.status, request.returned_damaged) == (S.COMPLETED, 1)
        assert (record.request_id, record.item_id, record.cost) == (request_id, item.id, Decimal("120.50"))
    item_now = await ledger_adds_up(db, item.id)
    assert (item_now.quantity_in_maintenance, item_now.quantity_damaged, item_now.quantity_available) == (0, 1, 9)
    assert (item_now.last_maintenance_date, item_now.next_maintenance_date) == (TODAY, TODAY.replace(year=2031))
    async with db() as session:
        reasons = (
            await session.scalars(
                select(models.InventoryMovement.reason)
                .where(models.InventoryMovement.maintenance_request_id == request_id)
                .order_by(models.InventoryMovement.created_at)
            )
        ).all()
    assert reasons == [models.MovementReason.MAINTENANCE_OUT, models.MovementReason.MAINTENANCE_RETURN]


async def test_units_found_damaged_leave_the_damaged_bucket(
    db: async_sessionmaker[AsyncSession], world: World, factory: object
) -> None:
    from tests.conftest import Factory

    assert isinstance(factory, Factory)
    item = await factory.item(world.a1, quantity=6, damaged=2)
    request_id = await open_for_item(db, world.supervisor, item, units=2, damaged=True)
    async with db.begin() as session:
        await maintenance.assign_request(
            session, world.supervisor.principal, request_id, assignee_id=world.supervisor.id
        )
    async with db.begin() as session:
        await maintenance.start_request(session, world.supervisor.principal, request_id)
    now = await ledger_adds_up(db, item.id)
    assert (now.quantity_damaged, now.quantity_in_maintenance, now.quantity_available) == (0, 2, 4)
    async with db.begin() as session:
        await maintenance.complete_request(
            session, world.supervisor.principal, request_id, returned_damaged=1, fields=WORK, today=TODAY
        )
    now = await ledger_adds_up(db, item.id)
    assert (now.quantity_damaged, now.quantity_in_maintenance, now.quantity_available) == (1, 0, 5)


async def test_environment_request_moves_no_stock(db: async_sessionmaker[AsyncSession], world: World) -> None:
    async with db.begin() as session:
        request = await maintenance.open_request(
            session,
            world.admin.principal,
            item_id=None,
            environment_id=world.aw.id,
            units=None,
            title="Door lock",
            description="The warehouse door does not lock",
            priority=models.MaintenancePriority.URGENT,
        )
    # A warehouse: its ADMIN is the requester (not told of their own request), the supervisor is.
    assert await _notified(db, "maintenance.requested") == {world.supervisor.id}
    async with db() as session:
        priorities = set((await session.scalars(select(models.Notification.priority))).all())
    assert priorities == {models.NotificationPriority.HIGH}
    async with db.begin() as session:
        await maintenance.assign_request(session, world.admin.principal, request.id, assignee_id=world.admin.id)
    async with db.begin() as session:
        await maintenance.start_request(session, world.admin.principal, request.id)
    async with db.begin() as session:
        done, record = await maintenance.complete_request(
            session, world.admin.principal, request.id, returned_damaged=0, fields=WORK, today=TODAY
        )
    assert (done.status, record.item_id, record.environment_id) == (S.COMPLETED, None, world.aw.id)
    async with db() as session:
        moved = await session.scalar(
            select(models.InventoryMovement.id).where(models.InventoryMovement.maintenance_request_id == request.id)
        )
    assert moved is None
    assert (await item_row(db, world.items["aw"][1].id)).quantity_in_maintenance == 0
