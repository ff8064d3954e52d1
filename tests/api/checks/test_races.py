"""Concurrent requests racing for one check, 20 at a time over HTTP (the in-process app serves
the gathered requests concurrently, each in its own transaction): exactly one wins, the others
get the answer for a check that has moved on and change nothing. Then the two orders of a
record against a submission, forced with a transaction held open, one after the other."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.errors import Conflict, ValidationFailed
from graphql_api.services import checks
from graphql_api.settings import Settings
from tests.api.checks.helpers import (
    APPROVE,
    CHECKLIST,
    RECORD,
    REJECT,
    REVIEW,
    START,
    SUBMIT,
    S,
    Walker,
    check_row,
    count,
    expected_of,
    records_of,
)
from tests.conftest import Actor, Factory, GraphQLClient, World, gid
from tests.server.conftest import pending, wait_for_lock_waiter

N = 20
M = models


@pytest.fixture
def walker(world: World, db: async_sessionmaker[AsyncSession], settings: Settings) -> Walker:
    return Walker(db, settings, world.student, world.instructor, world.supervisor)


async def race(gql: GraphQLClient, calls: list[tuple[str, Actor, dict[str, Any]]]) -> list[dict[str, Any]]:
    responses = await asyncio.gather(*(gql.execute(doc, {"input": values}, token=who) for doc, who, values in calls))
    for response in responses:
        assert not response.get("errors"), response["errors"]  # no INTERNAL, no exhausted pool
    return [response["data"]["result"] for response in responses]


def kinds(results: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["__typename"] for r in results)


async def test_twenty_concurrent_starts_open_one_check(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    slot = await factory.schedule(world.a1, world.instructor)
    students = [world.student, *[await factory.user(M.Role.STUDENT, world.a1) for _ in range(N - 1)]]
    values = {"scheduleId": gid("Schedule", slot.id)}
    results = await race(gql, [(START, student, values) for student in students])
    assert kinds(results) == Counter({"StartInventoryCheckPayload": N})
    assert Counter(r["started"] for r in results) == Counter({True: 1, False: N - 1})
    assert len({r["check"]["id"] for r in results}) == 1
    assert await count(db, M.InventoryCheck) == 1
    (check,) = [r["check"]["id"] for r in results if r["started"]]
    assert await count(db, M.CheckItem) == 2  # the room's two items, captured once
    assert await count(db, M.OutboxEvent, M.OutboxEvent.topic == checks.CHECK_CHANGED) == 1
    winner = students[[r["started"] for r in results].index(True)]
    async with db() as session:
        row = await session.scalar(select(M.InventoryCheck))
    assert row is not None
    assert (gid("InventoryCheck", row.id), row.started_by_id) == (check, winner.id)


async def findings_of(db: async_sessionmaker[AsyncSession], check_id: uuid.UUID) -> dict[str, int]:
    """What an approval leaves behind, by kind."""
    return {
        "reviews": await count(db, M.CheckReview, M.CheckReview.check_id == check_id),
        "findings": await count(
            db, M.InventoryMovement, M.InventoryMovement.reason == M.MovementReason.VERIFICATION_FINDING
        ),
        "missing_alerts": await count(db, M.SystemAlert, M.SystemAlert.alert_type == M.AlertType.EQUIPMENT_MISSING),
        "maintenance": await count(db, M.MaintenanceRequest),
        "approved_told": await count(db, M.Notification, M.Notification.kind == "check.approved"),
        "rejected_told": await count(db, M.Notification, M.Notification.kind == "check.rejected"),
    }


async def test_ten_approvals_against_ten_rejections_one_wins(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, walker: Walker
) -> None:
    slot = await factory.schedule(world.a1, world.instructor)
    chairs = world.items["a1"][1]
    check = await walker.start(slot.id)
    await walker.record_all(check.id, {chairs.id: (7, 2, 1)})  # findings to apply: 2 damaged, 1 missing
    await walker.advance(check.id, S.SUPERVISOR_REVIEW)
    other = await factory.user(M.Role.SUPERVISOR, world.a2)
    target = gid("InventoryCheck", check.id)
    calls = [(APPROVE, world.supervisor, {"checkId": target}), (REJECT, other, {"checkId": target, "reason": "No"})]
    results = await race(gql, calls * (N // 2))
    assert kinds(results)["ConflictError"] == N - 1
    (winner,) = [r for r in results if r["__typename"] == "InventoryCheckPayload"]
    approved = winner["check"]["status"] == "APPROVED"
    assert (await check_row(db, check.id)).status is (S.APPROVED if approved else S.INSTRUCTOR_REVIEW)
    # Two people told (the student and the instructor); findings applied once, or not at all.
    expected = {"reviews": 1, "findings": 1, "missing_alerts": 1, "maintenance": 1, "approved_told": 2,
                "rejected_told": 0}  # fmt: skip
    if not approved:
        expected.update(findings=0, missing_alerts=0, maintenance=0, approved_told=0, rejected_told=2)
    assert await findings_of(db, check.id) == expected
    async with db() as session:
        item = await session.get(M.InventoryItem, chairs.id)
    assert item is not None
    assert (item.quantity_damaged, item.quantity_missing) == ((2, 1) if approved else (0, 0))


async def test_twenty_instructors_reviewing_one_wins(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, walker: Walker
) -> None:
    slot = await factory.schedule(world.a1, world.instructor)
    check_id = await walker.check_in(slot.id, S.INSTRUCTOR_REVIEW)
    colleagues = [await factory.user(M.Role.INSTRUCTOR, world.a1) for _ in range(N // 2 - 1)]
    reviewers = [world.instructor] * (N // 2 + 1) + colleagues
    values = {"checkId": gid("InventoryCheck", check_id), **CHECKLIST}
    before = await count(db, M.OutboxEvent, M.OutboxEvent.topic == checks.CHECK_CHANGED)
    results = await race(gql, [(REVIEW, who, values) for who in reviewers])
    assert kinds(results) == Counter({"InventoryCheckPayload": 1, "ConflictError": N - 1})
    winner = reviewers[[r["__typename"] for r in results].index("InventoryCheckPayload")]
    row = await check_row(db, check_id)
    assert (row.status, row.instructor_id) == (S.SUPERVISOR_REVIEW, winner.id)
    assert await count(db, M.Notification, M.Notification.kind == "check.awaiting_approval") == 1  # one supervisor
    assert await count(db, M.OutboxEvent, M.OutboxEvent.topic == checks.CHECK_CHANGED) == before + 1


# ---- records against the submission -----------------------------------------------------------


async def room_of(factory: Factory, world: World, items: int) -> models.Schedule:
    """a1 with `items` items (3 units each beyond the world's two) and a class today."""
    for _ in range(items - 2):
        await factory.item(world.a1, quantity=3)
    return await factory.schedule(world.a1, world.instructor)


async def last_outbox_id(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(M.OutboxEvent.id).order_by(M.OutboxEvent.id.desc()).limit(1)) or 0)


async def check_events_after(db: async_sessionmaker[AsyncSession], since: int) -> list[int]:
    async with db() as session:
        rows = await session.scalars(
            select(M.OutboxEvent.id).where(M.OutboxEvent.topic == checks.CHECK_CHANGED, M.OutboxEvent.id > since)
        )
        return list(rows.all())


async def submission_event(db: async_sessionmaker[AsyncSession]) -> int:
    """The outbox id of the submission's notification to the instructor: outbox ids increase
    in commit order, and the submission's own check event is written just before it."""
    async with db() as session:
        told = await session.scalar(select(M.Notification.id).where(M.Notification.kind == "check.submitted"))
        event = await session.scalar(select(M.OutboxEvent.id).where(M.OutboxEvent.subject_id == told))
    assert event is not None
    return int(event)


Call = tuple[str, Actor, dict[str, Any]]
MIDDLE = N // 2


def with_submission(records: list[Call], check_id: uuid.UUID, student: Actor) -> list[Call]:
    """The records with the submission among them (sent in the middle of the burst)."""
    return [*records[:MIDDLE], (SUBMIT, student, {"checkId": gid("InventoryCheck", check_id)}), *records[MIDDLE:]]


def split(results: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the submission's result, the records' results in the order of the records)."""
    return results[MIDDLE], [*results[:MIDDLE], *results[MIDDLE + 1 :]]


def record_values(check_id: uuid.UUID, item_id: uuid.UUID, counts: tuple[int, int, int]) -> dict[str, Any]:
    found, damaged, missing = counts
    return {"checkId": gid("InventoryCheck", check_id), "itemId": gid("InventoryItem", item_id),
            "found": found, "damaged": damaged, "missing": missing}  # fmt: skip


async def test_corrections_racing_the_submission_land_before_it_or_not_at_all(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, walker: Walker
) -> None:
    slot = await room_of(factory, world, N - 1)
    check = await walker.start(slot.id)
    await walker.record_all(check.id)
    old = await records_of(db, check.id)
    new = {item: (counts[0] - 1, 1, 0) for item, counts in old.items() if counts is not None}
    since = await last_outbox_id(db)
    calls = [(RECORD, world.student, record_values(check.id, item, counts)) for item, counts in new.items()]
    submitted, records = split(await race(gql, with_submission(calls, check.id, world.student)))
    assert submitted["__typename"] == "InventoryCheckPayload"  # every item was recorded all along
    landed = {item for item, r in zip(new, records, strict=True) if r["__typename"] == "RecordCheckItemPayload"}
    assert kinds(records) == Counter({"RecordCheckItemPayload": len(landed), "ConflictError": N - 1 - len(landed)})
    # A correction that lost changed nothing; one that won is there, and committed before the
    # submission did.
    assert await records_of(db, check.id) == {item: new[item] if item in landed else old[item] for item in old}
    events = await check_events_after(db, since)
    assert len(events) == len(landed) + 1
    assert max(events) < await submission_event(db)


@pytest.mark.parametrize("round_", range(3))
async def test_first_records_racing_the_submission_all_land_and_it_sees_them_all_or_refuses(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, walker: Walker,
    round_: int,
) -> None:  # fmt: skip
    slot = await room_of(factory, world, N - 1)
    check = await walker.start(slot.id)
    expected = await expected_of(db, check.id)
    since = await last_outbox_id(db)
    calls = [(RECORD, world.student, record_values(check.id, item, (units, 0, 0))) for item, units in expected.items()]
    submitted, records = split(await race(gql, with_submission(calls, check.id, world.student)))
    # The check stays the students' until the submission wins, so every record lands.
    assert kinds(records) == Counter({"RecordCheckItemPayload": N - 1})
    assert all(counts is not None for counts in (await records_of(db, check.id)).values())
    status = (await check_row(db, check.id)).status
    if submitted["__typename"] == "ValidationError":
        assert [e["code"] for e in submitted["fieldErrors"]] == ["ITEMS_NOT_RECORDED"]
        assert status is S.STUDENT_PENDING
        return
    assert submitted["__typename"] == "InventoryCheckPayload", submitted
    assert status is S.INSTRUCTOR_REVIEW
    assert max(await check_events_after(db, since)) < await submission_event(db)


async def submit_alone(db: async_sessionmaker[AsyncSession], student: Actor, check_id: uuid.UUID) -> S:
    async with db.begin() as session:
        return (await checks.submit_student_check(session, student.principal, check_id, cleaning_notes=None)).status


async def record_alone(
    db: async_sessionmaker[AsyncSession], student: Actor, check_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    async with db.begin() as session:
        await checks.record_item(session, student.principal, check_id, item_id, found=0, damaged=0, missing=1)


async def test_a_submission_waits_for_a_record_in_progress(
    db: async_sessionmaker[AsyncSession], database_url: str, world: World, factory: Factory, walker: Walker
) -> None:
    laptop = world.items["a1"][0]
    check = await walker.start((await factory.schedule(world.a1, world.instructor)).id)
    await walker.record_all(check.id)
    async with db() as recording:
        await recording.begin()
        await checks.record_item(recording, world.student.principal, check.id, laptop.id, found=0, damaged=1, missing=0)
        async with pending(submit_alone(db, world.student, check.id)) as submitting:
            await wait_for_lock_waiter(database_url)  # the submission waits on the record's lock
            await recording.commit()
            assert await asyncio.wait_for(submitting, 30) is S.INSTRUCTOR_REVIEW
    assert (await records_of(db, check.id))[laptop.id] == (0, 1, 0)


async def test_a_record_waiting_on_a_submission_in_progress_is_a_conflict(
    db: async_sessionmaker[AsyncSession], database_url: str, world: World, factory: Factory, walker: Walker
) -> None:
    laptop = world.items["a1"][0]
    check = await walker.start((await factory.schedule(world.a1, world.instructor)).id)
    await walker.record_all(check.id)
    async with db() as submitting:
        await submitting.begin()
        await checks.submit_student_check(submitting, world.student.principal, check.id, cleaning_notes=None)
        async with pending(record_alone(db, world.student, check.id, laptop.id)) as recording:
            await wait_for_lock_waiter(database_url)  # the record waits on the submission's update
            await submitting.commit()
            with pytest.raises(Conflict):
                await asyncio.wait_for(recording, 30)
    assert (await records_of(db, check.id))[laptop.id] == (1, 0, 0)
    assert (await check_row(db, check.id)).status is S.INSTRUCTOR_REVIEW


async def test_a_submission_while_the_last_record_is_in_progress_is_refused_then_succeeds(
    db: async_sessionmaker[AsyncSession], world: World, factory: Factory, walker: Walker
) -> None:
    laptop, chairs = world.items["a1"]
    check = await walker.start((await factory.schedule(world.a1, world.instructor)).id)
    await walker.record_all(check.id, {chairs.id: (10, 0, 0)})  # both; the laptop's is redone below
    async with db.begin() as session:
        row = await session.scalar(
            select(M.CheckItem).where(M.CheckItem.check_id == check.id, M.CheckItem.item_id == laptop.id)
        )
        assert row is not None
        row.found = row.damaged = row.missing = row.recorded_at = None  # as if never recorded
    async with db() as recording:
        await recording.begin()
        await checks.record_item(recording, world.student.principal, check.id, laptop.id, found=1, damaged=0, missing=0)
        # Not committed: the submission does not see it, and refuses without waiting.
        with pytest.raises(ValidationFailed):
            await asyncio.wait_for(submit_alone(db, world.student, check.id), 30)
        await recording.commit()
    assert await submit_alone(db, world.student, check.id) is S.INSTRUCTOR_REVIEW
