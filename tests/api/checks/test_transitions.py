"""Every operation of the check's workflow, over HTTP, from every state where it does not apply,
by every role SPEC §4 keeps out of it and by people whose scope does not hold the room: each
refusal is the typed answer it should be (ConflictError naming the state, FORBIDDEN /
UNAUTHENTICATED, NotFoundError exactly as for a missing check) and changes nothing (an md5 of
every row of every table the workflow writes to). Then the people SPEC lets in who are not the
class's own: another instructor of the room, the class's instructor from another home, another
supervisor of the center."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import organization, schedules
from graphql_api.settings import Settings
from tests.api.checks.helpers import (
    APPROVE,
    CHECKLIST,
    PATH,
    RECORD,
    REJECT,
    REVIEW,
    START,
    SUBMIT,
    S,
    Walker,
    call,
    check_row,
    field_errors,
    result,
    snapshot,
)
from tests.conftest import TEST_ENV, Actor, Factory, GraphQLClient, World, error_codes, gid

ZONE = ZoneInfo(TEST_ENV.get("APP_TIMEZONE", "America/Bogota"))


@dataclass
class Cast:
    world: World
    walker: Walker
    slot: models.Schedule  # a1's class, taught by the world's instructor
    people: dict[str, Actor | None]

    def item(self) -> models.InventoryItem:
        return self.world.items["a1"][1]  # 10 units


@pytest.fixture
async def cast(world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> Cast:
    w = world
    people: dict[str, Actor | None] = {name: w.role(name) for name in ("student", "instructor", "supervisor")}
    people.update(
        admin=w.admin,
        admin_general=w.admin_general,
        anonymous=None,
        student_b=w.student_b,
        student_a2=await factory.user(models.Role.STUDENT, w.a2),
        instructor_a2=await factory.user(models.Role.INSTRUCTOR, w.a2),  # teaches nothing in a1
        instructor_b=await factory.user(models.Role.INSTRUCTOR, w.b1),
        supervisor_b=await factory.user(models.Role.SUPERVISOR, w.b1),
    )
    walker = Walker(db, settings, w.student, w.instructor, w.supervisor)
    return Cast(w, walker, await factory.schedule(w.a1, w.instructor), people)


Values = Callable[[Cast, uuid.UUID | None], dict[str, Any]]


@dataclass(frozen=True)
class Op:
    field: str
    document: str
    stage: models.CheckStatus | None  # the state it applies in (None: no check yet)
    values: Values


def _record(cast: Cast, check: uuid.UUID | None) -> dict[str, Any]:
    assert check is not None
    item = gid("InventoryItem", cast.item().id)
    return {"checkId": gid("InventoryCheck", check), "itemId": item, "found": 8, "damaged": 1, "missing": 1}


def _on_check(**extra: Any) -> Values:
    def values(cast: Cast, check: uuid.UUID | None) -> dict[str, Any]:
        assert check is not None
        return {"checkId": gid("InventoryCheck", check), **extra}

    return values


OPS = {
    "start": Op("startInventoryCheck", START, None, lambda cast, _: {"scheduleId": gid("Schedule", cast.slot.id)}),
    "record_student": Op("recordCheckItem", RECORD, S.STUDENT_PENDING, _record),
    "record_instructor": Op("recordCheckItem", RECORD, S.INSTRUCTOR_REVIEW, _record),
    "submit": Op("submitStudentCheck", SUBMIT, S.STUDENT_PENDING, _on_check(cleaningNotes="ok")),
    "review": Op("submitInstructorReview", REVIEW, S.INSTRUCTOR_REVIEW, _on_check(**CHECKLIST)),
    "approve": Op("approveInventoryCheck", APPROVE, S.SUPERVISOR_REVIEW, _on_check(comments="ok")),
    "reject": Op("rejectInventoryCheck", REJECT, S.SUPERVISOR_REVIEW, _on_check(reason="Count again")),
}
# Who makes each operation when it applies, per SPEC §4.
MAKER = {
    "start": "student",
    "record_student": "student",
    "record_instructor": "instructor",
    "submit": "student",
    "review": "instructor",
    "approve": "supervisor",
    "reject": "supervisor",
}
# The roles SPEC §4 lets in (record: the student stage and the instructor's corrections).
ACCESS = {
    "start": {"student"},
    "record_student": {"student", "instructor"},
    "submit": {"student"},
    "review": {"instructor"},
    "approve": {"supervisor"},
    "reject": {"supervisor"},
}
ROLES = ("student", "instructor", "supervisor", "admin", "admin_general", "anonymous")
WRONG_STATE = [(name, status) for name, op in OPS.items() if op.stage for status in PATH if status is not op.stage]
REFUSED_ROLE = [(name, role) for name, allowed in ACCESS.items() for role in ROLES if role not in allowed]
# People of the right role whose scope does not hold room a1.
OUT_OF_SCOPE = [
    *((op, who) for op in ("start", "record_student", "submit") for who in ("student_a2", "student_b")),
    *((op, who) for op in ("record_instructor", "review") for who in ("instructor_a2", "instructor_b")),
    ("approve", "supervisor_b"),
    ("reject", "supervisor_b"),
]


async def arrange(cast: Cast, stage: models.CheckStatus | None) -> uuid.UUID | None:
    """A check of a1's class in `stage` (none for an operation that opens one)."""
    if stage is None:
        return None
    return await cast.walker.check_in(cast.slot.id, stage)


async def audit_rows(db: async_sessionmaker[AsyncSession], operation: str) -> list[tuple[str, str | None]]:
    async with db() as session:
        rows = await session.execute(
            select(models.AuditLog.outcome, models.AuditLog.error_code).where(models.AuditLog.operation == operation)
        )
        return [(outcome.value, code) for outcome, code in rows.all()]


def test_the_tables_cover_every_case() -> None:
    # 6 operations on a check (recording by the student and by the instructor) x the 3 states
    # each does not start from; 5+4+5+5+5+5 roles refused (anonymous included); 12 people.
    assert (len(WRONG_STATE), len(REFUSED_ROLE), len(OUT_OF_SCOPE)) == (18, 29, 12)


@pytest.mark.parametrize(("name", "status"), WRONG_STATE, ids=[f"{n}-from-{s.value}" for n, s in WRONG_STATE])
async def test_an_operation_from_a_wrong_state_is_a_conflict_and_changes_nothing(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], name: str, status: models.CheckStatus
) -> None:
    op = OPS[name]
    check = await arrange(cast, status)
    before = await snapshot(db)
    answer = result(await call(gql, op.document, cast.people[MAKER[name]], **op.values(cast, check)))
    assert (answer["__typename"], answer["code"]) == ("ConflictError", "CONFLICT"), answer
    assert status.value in answer["message"]
    assert await snapshot(db) == before
    assert await audit_rows(db, op.field) == [("FAILURE", "CONFLICT")]


@pytest.mark.parametrize("status", PATH, ids=[s.value for s in PATH])
async def test_starting_again_in_any_state_gets_the_same_check_and_changes_nothing(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], status: models.CheckStatus
) -> None:
    check = await cast.walker.check_in(cast.slot.id, status)
    before = await snapshot(db)
    answer = result(await call(gql, START, cast.world.student, scheduleId=gid("Schedule", cast.slot.id)))
    assert answer["started"] is False
    assert answer["check"]["id"] == gid("InventoryCheck", check)
    assert answer["check"]["status"] == status.value
    assert await snapshot(db) == before


@pytest.mark.parametrize(("name", "role"), REFUSED_ROLE, ids=[f"{n}-by-{r}" for n, r in REFUSED_ROLE])
async def test_a_role_spec_keeps_out_is_refused_before_anything(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], name: str, role: str
) -> None:
    op = OPS[name]
    check = await arrange(cast, op.stage)
    before = await snapshot(db)
    response = await call(gql, op.document, cast.people[role], **op.values(cast, check))
    assert response["data"] is None, response
    assert error_codes(response) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
    assert await snapshot(db) == before


@pytest.mark.parametrize(("name", "who"), OUT_OF_SCOPE, ids=[f"{n}-by-{w}" for n, w in OUT_OF_SCOPE])
async def test_someone_whose_scope_lacks_the_room_finds_nothing(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], name: str, who: str
) -> None:
    op = OPS[name]
    check = await arrange(cast, op.stage)
    before = await snapshot(db)
    answer = result(await call(gql, op.document, cast.people[who], **op.values(cast, check)))
    assert (answer["__typename"], answer["code"]) == ("NotFoundError", "NOT_FOUND"), answer
    assert await snapshot(db) == before
    # Exactly the answer for an object that does not exist.
    missing = op.values(cast, uuid.uuid4())
    slot = "scheduleId" if name == "start" else "checkId"
    missing[slot] = gid("Schedule" if name == "start" else "InventoryCheck", uuid.uuid4())
    assert result(await call(gql, op.document, cast.people[who], **missing)) == answer
    if check is not None:
        assert (await check_row(db, check)).status is op.stage


# ---- the people SPEC lets in besides the class's own ------------------------------------------


async def test_another_instructor_of_the_room_corrects_and_reviews(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    colleague = await factory.user(models.Role.INSTRUCTOR, cast.world.a1)  # not the class's instructor
    check = await cast.walker.check_in(cast.slot.id, S.INSTRUCTOR_REVIEW)
    assert result(await call(gql, RECORD, colleague, **_record(cast, check)))["__typename"] == "RecordCheckItemPayload"
    reviewed = result(await call(gql, REVIEW, colleague, checkId=gid("InventoryCheck", check), **CHECKLIST))
    assert reviewed["check"]["status"] == "SUPERVISOR_REVIEW", reviewed
    assert (await check_row(db, check)).instructor_id == colleague.id


async def test_the_class_instructor_homed_elsewhere_reviews(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory, settings: Settings
) -> None:
    w = cast.world
    teacher = await factory.user(models.Role.INSTRUCTOR, w.a2)  # a1 is in scope only through the class
    slot = await factory.schedule(w.a1, teacher, start_time=time(10, 0), end_time=time(12, 0))
    check = await Walker(db, settings, w.student, teacher, w.supervisor).check_in(slot.id, S.INSTRUCTOR_REVIEW)
    reviewed = result(await call(gql, REVIEW, teacher, checkId=gid("InventoryCheck", check), **CHECKLIST))
    assert reviewed["check"]["status"] == "SUPERVISOR_REVIEW", reviewed


async def test_another_supervisor_of_the_center_approves(cast: Cast, gql: GraphQLClient, factory: Factory) -> None:
    other = await factory.user(models.Role.SUPERVISOR, cast.world.a2)
    check = await cast.walker.check_in(cast.slot.id, S.SUPERVISOR_REVIEW)
    approved = result(await call(gql, APPROVE, other, checkId=gid("InventoryCheck", check)))
    assert approved["check"]["status"] == "APPROVED", approved


# ---- bad input: a ValidationError naming the field, and nothing changes -----------------------

# (found, damaged, missing) of the 10-unit item, and the field errors they get.
BAD_COUNTS = {
    "not-adding-up": ((5, 1, 1), [("found", "COUNTS_MUST_ADD_UP")]),
    "negative": ((11, -1, 0), [("damaged", "MIN_VALUE")]),
    "all-negative": ((-1, -1, -1), [("found", "MIN_VALUE"), ("damaged", "MIN_VALUE"), ("missing", "MIN_VALUE")]),
    "huge": ((100_001, 0, 0), [("found", "MAX_VALUE")]),
}


async def refused_with(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], document: str, actor: Actor | None, **values: Any
) -> list[tuple[str, str]]:
    """The field errors of a call that must be a ValidationError changing nothing."""
    before = await snapshot(db)
    answer = result(await call(gql, document, actor, **values))
    assert answer["__typename"] == "ValidationError", answer
    assert await snapshot(db) == before
    return field_errors(answer)


@pytest.mark.parametrize("case", BAD_COUNTS)
async def test_counts_that_do_not_fit_are_refused(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], case: str
) -> None:
    (found, damaged, missing), expected = BAD_COUNTS[case]
    check = await cast.walker.check_in(cast.slot.id, S.STUDENT_PENDING)
    values = {**_record(cast, check), "found": found, "damaged": damaged, "missing": missing}
    assert await refused_with(gql, db, RECORD, cast.world.student, **values) == expected


async def test_an_item_outside_the_check_is_refused(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    check = await cast.walker.check_in(cast.slot.id, S.STUDENT_PENDING)
    later = await factory.item(cast.world.a1, quantity=2)  # came to the room after the start
    student = cast.world.student

    def values(item: uuid.UUID) -> dict[str, Any]:
        return {**_record(cast, check), "itemId": gid("InventoryItem", item), "found": 2, "damaged": 0, "missing": 0}

    assert await refused_with(gql, db, RECORD, student, **values(later.id)) == [("itemId", "NOT_IN_CHECK")]
    # Another room's item and a missing one: the same answer, which tells nothing of either.
    for item in (cast.world.items["b1"][1].id, cast.world.items["a2"][1].id, uuid.uuid4()):
        assert await refused_with(gql, db, RECORD, student, **values(item)) == [("itemId", "NOT_FOUND")]


async def test_submitting_before_every_item_is_recorded_is_refused(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession]
) -> None:
    check = await cast.walker.check_in(cast.slot.id, S.STUDENT_PENDING)
    assert result(await call(gql, RECORD, cast.world.student, **_record(cast, check)))["record"]["isRecorded"]
    before = await snapshot(db)
    answer = result(await call(gql, SUBMIT, cast.world.student, checkId=gid("InventoryCheck", check)))
    assert field_errors(answer) == [("checkId", "ITEMS_NOT_RECORDED")]
    assert await snapshot(db) == before
    assert (await check_row(db, check)).status is S.STUDENT_PENDING


@pytest.mark.parametrize(("reason", "code"), [("", "BLANK"), ("   ", "BLANK"), ("x" * 2001, "TOO_LONG")])
async def test_a_rejection_needs_a_reason(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], reason: str, code: str
) -> None:
    check = await cast.walker.check_in(cast.slot.id, S.SUPERVISOR_REVIEW)
    values = {"checkId": gid("InventoryCheck", check), "reason": reason}
    assert await refused_with(gql, db, REJECT, cast.world.supervisor, **values) == [("reason", code)]


def _not_today(case: str) -> dict[str, Any]:
    today = datetime.now(ZONE).date()
    return {
        "other-weekday": {"weekday": today.isoweekday() % 7 + 1},
        "validity-ended": {"valid_from": today - timedelta(days=30), "valid_until": today - timedelta(days=1)},
        "validity-not-begun": {"valid_from": today + timedelta(days=1), "valid_until": today + timedelta(days=30)},
        "inactive-slot": {},
    }[case]


@pytest.mark.parametrize("case", ["other-weekday", "validity-ended", "validity-not-begun", "inactive-slot"])
async def test_a_class_that_does_not_meet_today_cannot_be_checked(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession], factory: Factory, case: str
) -> None:
    slot = await factory.schedule(cast.world.a1, cast.world.instructor, start_time=time(14), end_time=time(15),
                                  **_not_today(case))  # fmt: skip
    if case == "inactive-slot":
        async with db.begin() as session:
            await schedules.set_schedule_active(session, (await factory.system()).principal, slot.id, active=False)
    values = {"scheduleId": gid("Schedule", slot.id)}
    assert await refused_with(gql, db, START, cast.world.student, **values) == [("scheduleId", "NO_CLASS_TODAY")]


async def test_an_inactive_room_cannot_be_checked(
    cast: Cast, gql: GraphQLClient, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db.begin() as session:
        await organization.set_environment_active(session, cast.world.a1.id, False)
    values = {"scheduleId": gid("Schedule", cast.slot.id)}
    errors = await refused_with(gql, db, START, cast.world.student, **values)
    assert errors == [("scheduleId", "ENVIRONMENT_INACTIVE")]
