"""Every transition from every state that does not allow it is a ConflictError naming the
current status, and changes nothing: no request, movement, item, record, notification or
event changes, and the audit log has a FAILURE row, no SUCCESS."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import maintenance
from tests.api.maintenance.helpers import S, request_in, snapshot
from tests.conftest import GraphQLClient, World, gid

CALLS = {
    "assign": ("assignMaintenanceRequest", "AssignMaintenanceRequestInput"),
    "start": ("startMaintenanceRequest", "StartMaintenanceRequestInput"),
    "complete": ("completeMaintenanceRequest", "CompleteMaintenanceRequestInput"),
    "cancel": ("cancelMaintenanceRequest", "CancelMaintenanceRequestInput"),
}
# From the issue, not from the code: the states each transition starts from.
ALLOWED = {
    "assign": {S.PENDING, S.ASSIGNED},  # again while ASSIGNED: reassign
    "start": {S.ASSIGNED},
    "complete": {S.IN_PROGRESS},
    "cancel": {S.PENDING, S.ASSIGNED, S.IN_PROGRESS},
}
WRONG = [(name, status) for name, allowed in ALLOWED.items() for status in S if status not in allowed]


def document(name: str) -> str:
    field, input_type = CALLS[name]
    return f"""mutation ($input: {input_type}!) {{ result: {field}(input: $input) {{
        __typename ... on Error {{ code message }} }} }}"""


def call_input(name: str, request_id: uuid.UUID, world: World) -> dict[str, Any]:
    values: dict[str, Any] = {"id": gid("MaintenanceRequest", request_id)}
    if name == "assign":
        values["assigneeId"] = world.supervisor.gid
    if name == "complete":
        values.update(maintenanceType="CORRECTIVE", description="done", returnedDamaged=0)
    return values


async def audit_rows(db: async_sessionmaker[AsyncSession], operation: str) -> list[tuple[str, str | None]]:
    async with db() as session:
        rows = await session.execute(
            select(models.AuditLog.outcome, models.AuditLog.error_code).where(models.AuditLog.operation == operation)
        )
        return [(outcome.value, code) for outcome, code in rows.all()]


def test_the_state_machine_is_the_issues() -> None:
    assert {name: set(t.allowed) for name, t in maintenance.TRANSITIONS.items()} == ALLOWED
    assert len(WRONG) == 3 + 4 + 4 + 2


@pytest.mark.parametrize(("name", "status"), WRONG, ids=[f"{n}-from-{s.value}" for n, s in WRONG])
async def test_transition_from_a_wrong_state_is_a_conflict_and_changes_nothing(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, name: str, status: S
) -> None:
    item = world.items["a2"][1]
    request_id = await request_in(db, world.supervisor, item, status)
    before = await snapshot(db)
    result = await gql.execute(document(name), {"input": call_input(name, request_id, world)}, token=world.supervisor)
    assert not result.get("errors"), result
    answer = result["data"]["result"]
    assert (answer["__typename"], answer["code"]) == ("ConflictError", "CONFLICT")
    assert status.value in answer["message"]
    assert await snapshot(db) == before
    assert await audit_rows(db, CALLS[name][0]) == [("FAILURE", "CONFLICT")]
