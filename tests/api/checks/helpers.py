"""Checks in every state, made through the services; the GraphQL documents of the workflow; and
what the tests compare (an md5 of every row of the tables a check may touch)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import checks
from graphql_api.settings import Settings
from tests.conftest import Actor, GraphQLClient

S = models.CheckStatus
# The happy path, in order; a check is put in a state by walking it from the start.
PATH = (S.STUDENT_PENDING, S.INSTRUCTOR_REVIEW, S.SUPERVISOR_REVIEW, S.APPROVED)
# Findings of one item: (found, damaged, missing).
Counts = tuple[int, int, int]

ERRORS = "... on Error { __typename code message } ... on ValidationError { fieldErrors { field code } }"
CHECK_FIELDS = "id status checkDate hasIssues totals { items recorded good damaged missing }"
START = f"""mutation ($input: StartInventoryCheckInput!) {{ result: startInventoryCheck(input: $input) {{
  __typename ... on StartInventoryCheckPayload {{ started check {{ {CHECK_FIELDS} }} }} {ERRORS} }} }}"""
RECORD = f"""mutation ($input: RecordCheckItemInput!) {{ result: recordCheckItem(input: $input) {{
  __typename ... on RecordCheckItemPayload {{ record {{ id found damaged missing isRecorded }} }} {ERRORS} }} }}"""


def _move(name: str, input_type: str) -> str:
    return f"""mutation ($input: {input_type}!) {{ result: {name}(input: $input) {{
      __typename ... on InventoryCheckPayload {{ check {{ {CHECK_FIELDS} }} }} {ERRORS} }} }}"""


SUBMIT = _move("submitStudentCheck", "SubmitStudentCheckInput")
REVIEW = _move("submitInstructorReview", "SubmitInstructorReviewInput")
APPROVE = _move("approveInventoryCheck", "ApproveInventoryCheckInput")
REJECT = _move("rejectInventoryCheck", "RejectInventoryCheckInput")
CHECKLIST = {"isClean": True, "isOrganized": True, "inventoryComplete": True}


async def call(gql: GraphQLClient, document: str, actor: Actor | None, **values: Any) -> dict[str, Any]:
    """The whole response of one workflow mutation (top-level errors included)."""
    return await gql.execute(document, {"input": values}, token=actor)


def result(response: dict[str, Any]) -> dict[str, Any]:
    """The mutation's result member; the response must have no top-level error."""
    assert not response.get("errors"), response
    value: dict[str, Any] = response["data"]["result"]
    return value


def field_errors(value: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["field"], error["code"]) for error in value.get("fieldErrors") or []]


# ---- checks made through the services ---------------------------------------------------------


class Walker:
    """Moves checks of one world along the workflow through the services, as the people of
    the room would (a student starts, records and submits; the class's instructor reviews; a
    supervisor of the center approves or rejects)."""

    def __init__(
        self, db: async_sessionmaker[AsyncSession], settings: Settings, student: Actor, instructor: Actor, boss: Actor
    ) -> None:
        self.db, self.settings = db, settings
        self.student, self.instructor, self.boss = student, instructor, boss

    async def start(self, schedule_id: uuid.UUID, *, now: datetime | None = None) -> models.InventoryCheck:
        async with self.db.begin() as session:
            check, _ = await checks.start_check(
                session,
                self.student.principal,
                schedule_id,
                now=now or datetime.now(self.settings.timezone),
                zone=self.settings.timezone,
            )
            return check

    async def record_all(
        self,
        check_id: uuid.UUID,
        findings: Mapping[uuid.UUID, Counts] | None = None,
        *,
        actor: Actor | None = None,
        keep: bool = False,
    ) -> None:
        """Record every item of the check (`keep`: every item not recorded yet): `findings`
        per item id, the rest all found."""
        by = actor or self.student
        async with self.db.begin() as session:
            rows = (await session.scalars(select(models.CheckItem).where(models.CheckItem.check_id == check_id))).all()
            for row in rows:
                if keep and row.recorded_at is not None:
                    continue
                found, damaged, missing = (findings or {}).get(row.item_id, (row.expected, 0, 0))
                await checks.record_item(
                    session, by.principal, check_id, row.item_id, found=found, damaged=damaged, missing=missing
                )

    async def advance(self, check_id: uuid.UUID, to: models.CheckStatus) -> None:
        """Move a check from where it stands up to `to` (items not yet recorded are recorded
        all found on the way)."""
        now = (await check_row(self.db, check_id)).status
        for step in PATH[PATH.index(now) + 1 : PATH.index(to) + 1]:
            if step is S.INSTRUCTOR_REVIEW:
                await self.record_all(check_id, keep=True)
            async with self.db.begin() as session:
                if step is S.INSTRUCTOR_REVIEW:
                    await checks.submit_student_check(session, self.student.principal, check_id, cleaning_notes=None)
                elif step is S.SUPERVISOR_REVIEW:
                    await checks.submit_instructor_review(
                        session, self.instructor.principal, check_id,
                        is_clean=True, is_organized=True, inventory_complete=True, comments=None,
                    )  # fmt: skip
                else:
                    await checks.approve_check(session, self.boss.principal, check_id, comments=None)

    async def check_in(
        self, schedule_id: uuid.UUID, status: models.CheckStatus, *, now: datetime | None = None
    ) -> uuid.UUID:
        check = await self.start(schedule_id, now=now)
        await self.advance(check.id, status)
        return check.id

    async def reject(self, check_id: uuid.UUID, reason: str = "Count again") -> None:
        async with self.db.begin() as session:
            await checks.reject_check(session, self.boss.principal, check_id, reason=reason)


# ---- what the tests compare -------------------------------------------------------------------

# Every table a check's workflow writes to (the audit log records attempts, so it is not here).
WATCHED = (
    "inventory_checks",
    "inventory_check_items",
    "inventory_check_reviews",
    "inventory_check_reminders",
    "inventory_movements",
    "inventory_items",
    "notifications",
    "outbox_events",
    "system_alerts",
    "maintenance_requests",
)


async def snapshot(db: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    async with db() as session:
        return {
            table: sorted((await session.execute(text(f"SELECT md5(t::text) FROM {table} t"))).scalars().all())
            for table in WATCHED
        }


async def count(db: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def check_row(db: async_sessionmaker[AsyncSession], check_id: uuid.UUID) -> models.InventoryCheck:
    async with db() as session:
        row = await session.get(models.InventoryCheck, check_id)
        assert row is not None
        return row


async def records_of(db: async_sessionmaker[AsyncSession], check_id: uuid.UUID) -> dict[uuid.UUID, Counts | None]:
    """Each item's recorded findings (None: not recorded)."""
    async with db() as session:
        rows = (await session.scalars(select(models.CheckItem).where(models.CheckItem.check_id == check_id))).all()
    return {
        row.item_id: None if row.recorded_at is None else (row.found or 0, row.damaged or 0, row.missing or 0)
        for row in rows
    }


async def expected_of(db: async_sessionmaker[AsyncSession], check_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Each item's expected units, as captured at the start."""
    async with db() as session:
        rows = await session.execute(
            select(models.CheckItem.item_id, models.CheckItem.expected).where(models.CheckItem.check_id == check_id)
        )
        return {item: int(expected) for item, expected in rows.all()}
