"""What an approval does to the inventory (graphql_api/services/checks/approval.py): only the
difference between the students' counts and what the check captured at its start is applied,
as VERIFICATION_FINDING movements, to the item as it is at the approval (limited by what its
buckets allow, and the movement's note says so); an item retired since the start is left as
it is; newly damaged units open one maintenance request per item, newly missing units raise
one EQUIPMENT_MISSING alert per item; and all of it is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import items, maintenance
from graphql_api.services.ledger import StockDelta, apply_movement
from graphql_api.settings import Settings
from tests.api.checks.helpers import APPROVE, Counts, S, Walker, call, check_row, snapshot
from tests.api.maintenance.helpers import ledger_adds_up
from tests.conftest import Factory, GraphQLClient, World, error_codes, gid

M = models
Move = Callable[[models.InventoryItem], Awaitable[None]]


@dataclass
class Room:
    world: World
    factory: Factory
    db: async_sessionmaker[AsyncSession]
    walker: Walker
    slot: models.Schedule

    async def item(self, quantity: int, damaged: int = 0, missing: int = 0) -> models.InventoryItem:
        return await self.factory.item(self.world.a1, quantity=quantity, damaged=damaged, missing=missing)

    async def checked(
        self, findings: dict[uuid.UUID, Counts], moved: Move | None = None, on: models.InventoryItem | None = None
    ) -> uuid.UUID:
        """A check of a1 with these findings (the rest all found), taken to SUPERVISOR_REVIEW,
        `moved(on)` run while it waits, then approved."""
        check = await self.walker.start(self.slot.id)
        await self.walker.record_all(check.id, findings)
        await self.walker.advance(check.id, S.SUPERVISOR_REVIEW)
        if moved is not None and on is not None:
            await moved(on)
        await self.walker.advance(check.id, S.APPROVED)
        return check.id


@pytest.fixture
async def room(world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> Room:
    walker = Walker(db, settings, world.student, world.instructor, world.supervisor)
    return Room(world, factory, db, walker, await factory.schedule(world.a1, world.instructor))


async def findings(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> list[tuple[int, int, bool]]:
    """The item's VERIFICATION_FINDING movements: (damaged, missing, noted as limited)."""
    async with db() as session:
        rows = await session.scalars(
            select(M.InventoryMovement).where(
                M.InventoryMovement.item_id == item.id,
                M.InventoryMovement.reason == M.MovementReason.VERIFICATION_FINDING,
            )
        )
        return [(m.delta_damaged, m.delta_missing, "limited" in (m.note or "")) for m in rows.all()]


async def requests(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> list[tuple[int | None, bool]]:
    async with db() as session:
        rows = await session.scalars(select(M.MaintenanceRequest).where(M.MaintenanceRequest.item_id == item.id))
        return [(r.units, r.units_already_damaged) for r in rows.all()]


async def missing_alerts(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> list[Any]:
    async with db() as session:
        rows = await session.scalars(
            select(M.SystemAlert).where(
                M.SystemAlert.alert_type == M.AlertType.EQUIPMENT_MISSING, M.SystemAlert.subject_id == item.id
            )
        )
        return [alert.params["missing"] for alert in rows.all()]


async def buckets(db: async_sessionmaker[AsyncSession], item: models.InventoryItem) -> tuple[int, ...]:
    """(quantity, damaged, missing, in maintenance, on loan); the ledger adds up to them."""
    now = await ledger_adds_up(db, item.id)
    return (now.quantity, now.quantity_damaged, now.quantity_missing, now.quantity_in_maintenance,
            now.quantity_on_loan)  # fmt: skip


async def test_units_known_at_the_start_are_not_counted_twice(room: Room) -> None:
    same = await room.item(10, damaged=2, missing=1)
    worse = await room.item(10, damaged=2, missing=1)
    await room.checked({same.id: (7, 2, 1), worse.id: (5, 3, 2)})
    assert (await findings(room.db, same), await requests(room.db, same), await missing_alerts(room.db, same)) == (
        [], [], [],
    )  # fmt: skip
    assert await findings(room.db, worse) == [(1, 1, False)]
    assert await buckets(room.db, worse) == (10, 3, 2, 0, 0)
    # One request for the one newly damaged unit (already in the damaged bucket), one alert.
    assert await requests(room.db, worse) == [(1, True)]
    assert await missing_alerts(room.db, worse) == [1]


async def test_units_found_again_leave_their_bucket(room: Room) -> None:
    found_again = await room.item(10, missing=3)
    repaired = await room.item(5, damaged=2)
    await room.checked({found_again.id: (9, 0, 1), repaired.id: (5, 0, 0)})
    assert await findings(room.db, found_again) == [(0, -2, False)]
    assert await buckets(room.db, found_again) == (10, 0, 1, 0, 0)
    assert await findings(room.db, repaired) == [(-2, 0, False)]
    assert await buckets(room.db, repaired) == (5, 0, 0, 0, 0)
    for item in (found_again, repaired):
        assert (await requests(room.db, item), await missing_alerts(room.db, item)) == ([], [])


async def test_units_sent_to_maintenance_since_the_start_limit_the_damaged(room: Room) -> None:
    boss = room.world.supervisor

    async def repair_nine(item: models.InventoryItem) -> None:
        async with room.db.begin() as session:
            request = await maintenance.open_request(
                session, boss.principal, item_id=item.id, units=9, title="Revisión", description="x",
                priority=M.MaintenancePriority.LOW,
            )  # fmt: skip
            await maintenance.assign_request(session, boss.principal, request.id, assignee_id=boss.id)
            await maintenance.start_request(session, boss.principal, request.id)

    chairs = await room.item(10)
    await room.checked({chairs.id: (7, 3, 0)}, repair_nine, chairs)
    # 3 found damaged, 1 unit still available to take them: 1 applied, noted as limited.
    assert await findings(room.db, chairs) == [(1, 0, True)]
    assert await buckets(room.db, chairs) == (10, 1, 0, 9, 0)
    assert await requests(room.db, chairs) == [(9, False), (1, True)]


async def test_units_lent_since_the_start_limit_the_missing(room: Room) -> None:
    async def lend_eight(item: models.InventoryItem) -> None:
        async with room.db.begin() as session:
            await apply_movement(session, item_id=item.id, reason=M.MovementReason.LOAN_OUT,
                                 delta=StockDelta(on_loan=8), actor_id=room.world.admin.id)  # fmt: skip

    chairs = await room.item(10)
    await room.checked({chairs.id: (6, 0, 4)}, lend_eight, chairs)
    assert await findings(room.db, chairs) == [(0, 2, True)]
    assert await buckets(room.db, chairs) == (10, 0, 2, 0, 8)
    assert await missing_alerts(room.db, chairs) == [2]


async def test_a_restock_since_the_start_takes_the_whole_finding(room: Room) -> None:
    async def restock(item: models.InventoryItem) -> None:
        await adjust(room, item, 10, StockDelta(quantity=5), M.MovementReason.RESTOCK)

    chairs = await room.item(10)
    await room.checked({chairs.id: (8, 1, 1)}, restock, chairs)
    assert await findings(room.db, chairs) == [(1, 1, False)]
    assert await buckets(room.db, chairs) == (15, 1, 1, 0, 0)


async def test_a_correction_since_the_start_limits_a_decrease(room: Room) -> None:
    async def two_found_meanwhile(item: models.InventoryItem) -> None:
        await adjust(room, item, 10, StockDelta(missing=-2), M.MovementReason.CORRECTION)

    chairs = await room.item(10, missing=3)
    await room.checked({chairs.id: (10, 0, 0)}, two_found_meanwhile, chairs)
    # 3 found again, but only 1 is still in the bucket.
    assert await findings(room.db, chairs) == [(0, -1, True)]
    assert await buckets(room.db, chairs) == (10, 0, 0, 0, 0)


async def test_an_item_retired_since_the_start_is_left_as_it_is(room: Room) -> None:
    async def retire(item: models.InventoryItem) -> None:
        async with room.db.begin() as session:
            await items.retire_item(session, room.world.supervisor.principal, item.id, note="Dado de baja")

    old = await room.item(4)
    check = await room.checked({old.id: (2, 1, 1)}, retire, old)
    assert (await check_row(room.db, check)).status is S.APPROVED
    assert await findings(room.db, old) == []
    assert await buckets(room.db, old) == (4, 0, 0, 0, 0)
    assert (await requests(room.db, old), await missing_alerts(room.db, old)) == ([], [])


async def adjust(room: Room, item: models.InventoryItem, expected: int, delta: StockDelta, reason: Any) -> None:
    async with room.db.begin() as session:
        await items.adjust_item_stock(session, room.world.supervisor.principal, item.id, expected_quantity=expected,
                                      delta=delta, reason=reason, note=None)  # fmt: skip


async def test_one_request_and_one_alert_per_item(room: Room) -> None:
    first, second = await room.item(6), await room.item(8, missing=1)
    await room.checked({first.id: (3, 2, 1), second.id: (4, 2, 2)})
    assert [await requests(room.db, item) for item in (first, second)] == [[(2, True)], [(2, True)]]
    assert [await missing_alerts(room.db, item) for item in (first, second)] == [[1], [1]]
    assert await count_of(room.db, M.MaintenanceRequest) == 2
    assert await count_of(room.db, M.SystemAlert) == 2


async def count_of(db: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with db() as session:
        return len((await session.scalars(select(model))).all())


# ---- one transaction --------------------------------------------------------------------------

REFUSE_REQUESTS = "checktests_refuse_requests"


async def test_an_approval_that_fails_midway_leaves_nothing(
    room: Room, gql: GraphQLClient, engine: AsyncEngine
) -> None:
    chairs = await room.item(10)
    check = await room.walker.start(room.slot.id)
    # The missing unit's movement and alert are written before the request that fails.
    await room.walker.record_all(check.id, {chairs.id: (7, 2, 1)})
    await room.walker.advance(check.id, S.SUPERVISOR_REVIEW)
    before = await snapshot(room.db)
    async with engine.begin() as connection:  # no new maintenance request can be written
        await connection.execute(
            text(f"ALTER TABLE maintenance_requests ADD CONSTRAINT {REFUSE_REQUESTS} CHECK (false) NOT VALID")
        )
    try:
        response = await call(gql, APPROVE, room.world.supervisor, checkId=gid("InventoryCheck", check.id))
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"ALTER TABLE maintenance_requests DROP CONSTRAINT {REFUSE_REQUESTS}"))
    assert error_codes(response) == ["INTERNAL"]
    assert await snapshot(room.db) == before  # no review, movement, alert, notification or event
    assert (await check_row(room.db, check.id)).status is S.SUPERVISOR_REVIEW
    # Nothing is stuck: once requests can be written, the same approval goes through.
    approved = await call(gql, APPROVE, room.world.supervisor, checkId=gid("InventoryCheck", check.id))
    assert approved["data"]["result"]["check"]["status"] == "APPROVED"
    assert await findings(room.db, chairs) == [(2, 1, False)]
    async with room.db() as session:
        assert await session.scalar(select(M.CheckReview.decision).where(M.CheckReview.check_id == check.id)) is (
            M.ReviewDecision.APPROVED
        )
