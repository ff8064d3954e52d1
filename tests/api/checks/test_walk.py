"""The whole daily check over HTTP with the five roles: start, record every item, submit,
review, reject, correct, review again, approve; what results in the ledger, alerts,
maintenance and notifications; the check's totals unchanged by later stock movements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

ERRORS = "... on Error { __typename code message } ... on ValidationError { fieldErrors { field code } }"
CHECK = """id status checkDate hasIssues totals { items recorded good damaged missing }
  reviews(first: 10) { edges { node { decision comments reviewer { id } } } }"""
START = f"""mutation($input: StartInventoryCheckInput!) {{ startInventoryCheck(input: $input) {{
  __typename ... on StartInventoryCheckPayload {{ started check {{ {CHECK}
    records(first: 100) {{ edges {{ node {{ expected knownDamaged knownMissing item {{ id }} }} }} }} }} }}
  {ERRORS} }} }}"""
RECORD = f"""mutation($input: RecordCheckItemInput!) {{ recordCheckItem(input: $input) {{
  __typename ... on RecordCheckItemPayload {{ record {{ found damaged missing isRecorded }} }} {ERRORS} }} }}"""


def _move(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
      __typename ... on InventoryCheckPayload {{ check {{ {CHECK} }} }} {ERRORS} }} }}"""


SUBMIT = _move("submitStudentCheck", "SubmitStudentCheckInput")
REVIEW = _move("submitInstructorReview", "SubmitInstructorReviewInput")
APPROVE = _move("approveInventoryCheck", "ApproveInventoryCheckInput")
REJECT = _move("rejectInventoryCheck", "RejectInventoryCheckInput")
READ = f"query($id: ID!) {{ inventoryCheck(id: $id) {{ {CHECK} }} }}"


async def _call(gql: GraphQLClient, query: str, actor: Actor, **values: Any) -> dict[str, Any]:
    data = await gql.data(query, {"input": values}, token=actor)
    result: dict[str, Any] = next(iter(data.values()))
    return result


async def _count(db: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_the_whole_check_with_the_five_roles(
    gql: GraphQLClient, world: World, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    w = world
    slot = await factory.schedule(w.a1, w.instructor)
    laptop, chairs = w.items["a1"]  # 1 unit; 10 units
    started = await _call(gql, START, w.student, scheduleId=gid("Schedule", slot.id))
    assert started["__typename"] == "StartInventoryCheckPayload", started
    assert started["started"] is True
    check = started["check"]
    check_id = check["id"]
    assert check["status"] == "STUDENT_PENDING"
    assert check["totals"] == {"items": 2, "recorded": 0, "good": 0, "damaged": 0, "missing": 0}
    expected = {edge["node"]["item"]["id"]: edge["node"]["expected"] for edge in check["records"]["edges"]}
    assert expected == {gid("InventoryItem", laptop.id): 1, gid("InventoryItem", chairs.id): 10}

    # A second start the same day gets the same check.
    again = await _call(gql, START, w.student, scheduleId=gid("Schedule", slot.id))
    assert (again["started"], again["check"]["id"]) == (False, check_id)

    # Submitting before every item is recorded is refused.
    early = await _call(gql, SUBMIT, w.student, checkId=check_id)
    assert early["__typename"] == "ValidationError"

    def record(item: models.InventoryItem, found: int, damaged: int, missing: int) -> dict[str, Any]:
        return {"checkId": check_id, "itemId": gid("InventoryItem", item.id), "found": found, "damaged": damaged,
                "missing": missing}  # fmt: skip

    wrong = await _call(gql, RECORD, w.student, **record(chairs, 5, 1, 1))
    assert wrong["__typename"] == "ValidationError", wrong
    assert (await _call(gql, RECORD, w.student, **record(laptop, 1, 0, 0)))["__typename"] == "RecordCheckItemPayload"
    assert (await _call(gql, RECORD, w.student, **record(chairs, 7, 2, 1)))["record"]["isRecorded"] is True
    submitted = await _call(gql, SUBMIT, w.student, checkId=check_id, cleaningNotes="Clean")
    assert submitted["check"]["status"] == "INSTRUCTOR_REVIEW", submitted
    assert submitted["check"]["totals"] == {"items": 2, "recorded": 2, "good": 8, "damaged": 2, "missing": 1}
    assert submitted["check"]["hasIssues"] is True

    # The student can no longer record; the instructor reviews.
    late = await _call(gql, RECORD, w.student, **record(chairs, 8, 1, 1))
    assert late["__typename"] == "ConflictError"
    review = {"checkId": check_id, "isClean": True, "isOrganized": True, "inventoryComplete": False}
    reviewed = await _call(gql, REVIEW, w.instructor, **review)
    assert reviewed["check"]["status"] == "SUPERVISOR_REVIEW", reviewed

    # The supervisor rejects; the instructor corrects a record and reviews again.
    rejected = await _call(gql, REJECT, w.supervisor, checkId=check_id, reason="Count the chairs again")
    assert rejected["check"]["status"] == "INSTRUCTOR_REVIEW", rejected
    corrected = await _call(gql, RECORD, w.instructor, **record(chairs, 8, 1, 1))
    assert corrected["__typename"] == "RecordCheckItemPayload", corrected
    assert (await _call(gql, REVIEW, w.instructor, **review))["check"]["status"] == "SUPERVISOR_REVIEW"

    # Nobody but a supervisor approves.
    for actor in (w.student, w.instructor, w.admin, w.admin_general):
        refused = await gql.execute(APPROVE, {"input": {"checkId": check_id}}, token=actor)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    approved = await _call(gql, APPROVE, w.supervisor, checkId=check_id, comments="OK")
    assert approved.get("check", {}).get("status") == "APPROVED", approved
    decisions = [e["node"]["decision"] for e in approved["check"]["reviews"]["edges"]]
    assert decisions == ["REJECTED", "APPROVED"]

    # The findings reached the inventory: 1 damaged and 1 missing chair, nothing for the laptop.
    async with db() as session:
        item = await session.get(models.InventoryItem, chairs.id)
        assert item is not None
        assert (item.quantity, item.quantity_damaged, item.quantity_missing) == (10, 1, 1)
        findings = (
            await session.scalars(
                select(models.InventoryMovement).where(
                    models.InventoryMovement.reason == models.MovementReason.VERIFICATION_FINDING
                )
            )
        ).all()
    assert [(m.item_id, m.delta_damaged, m.delta_missing) for m in findings] == [(chairs.id, 1, 1)]
    missing = await _count(db, models.SystemAlert, models.SystemAlert.alert_type == models.AlertType.EQUIPMENT_MISSING)
    assert missing == 1
    requests = await _count(db, models.MaintenanceRequest, models.MaintenanceRequest.item_id == chairs.id)
    assert requests == 1
    told = await _count(db, models.Notification, models.Notification.kind == "check.approved")
    assert told == 2  # the student and the instructor

    # Later stock movements leave the check's totals as they were.
    await factory.item(w.a1, quantity=3)
    data = await gql.data(READ, {"id": check_id}, token=w.supervisor)
    assert data["inventoryCheck"]["totals"] == {"items": 2, "recorded": 2, "good": 9, "damaged": 1, "missing": 1}
