"""Concurrent requests racing for one maintenance request, over HTTP (the in-process app serves
the gathered requests concurrently, each in its own transaction): exactly one wins, the others
get a ConflictError, and the ledger adds up."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from tests.api.maintenance.helpers import S, ledger_adds_up, request_in
from tests.conftest import Factory, GraphQLClient, World, gid

START = """mutation ($input: StartMaintenanceRequestInput!) { result: startMaintenanceRequest(input: $input) {
  __typename ... on Error { code } } }"""
COMPLETE = """mutation ($input: CompleteMaintenanceRequestInput!) { result: completeMaintenanceRequest(input: $input) {
  __typename ... on Error { code } } }"""
CANCEL = """mutation ($input: CancelMaintenanceRequestInput!) { result: cancelMaintenanceRequest(input: $input) {
  __typename ... on Error { code } } }"""


async def race(gql: GraphQLClient, calls: list[tuple[str, dict[str, Any]]], actor: Any) -> list[str]:
    responses = await asyncio.gather(*(gql.execute(doc, {"input": values}, token=actor) for doc, values in calls))
    for response in responses:
        assert not response.get("errors"), response["errors"]  # no INTERNAL, no exhausted pool
    return [response["data"]["result"]["__typename"] for response in responses]


async def movements_of(db: async_sessionmaker[AsyncSession], request_id: Any) -> Counter[str]:
    async with db() as session:
        rows = await session.scalars(
            select(models.InventoryMovement.reason).where(models.InventoryMovement.maintenance_request_id == request_id)
        )
        return Counter(reason.value for reason in rows.all())


async def test_twenty_concurrent_starts_move_the_units_once(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    item = await factory.item(world.a1, quantity=8)
    request_id = await request_in(db, world.supervisor, item, S.ASSIGNED, units=3)
    values = {"id": gid("MaintenanceRequest", request_id)}
    results = await race(gql, [(START, values)] * 20, world.supervisor)
    assert Counter(results) == Counter({"MaintenanceRequestPayload": 1, "ConflictError": 19})
    assert await movements_of(db, request_id) == Counter({"MAINTENANCE_OUT": 1})
    now = await ledger_adds_up(db, item.id)
    assert (now.quantity_in_maintenance, now.quantity_available) == (3, 5)


async def test_complete_against_cancel_one_wins(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory
) -> None:
    item = await factory.item(world.a1, quantity=8)
    request_id = await request_in(db, world.supervisor, item, S.IN_PROGRESS, units=3)
    target = gid("MaintenanceRequest", request_id)
    complete = {"id": target, "maintenanceType": "CORRECTIVE", "description": "fixed", "returnedDamaged": 1}
    calls = [(COMPLETE, complete), (CANCEL, {"id": target})] * 10
    results = await race(gql, calls, world.supervisor)
    winners = [r for r in results if r in {"CompleteMaintenanceRequestPayload", "MaintenanceRequestPayload"}]
    assert len(winners) == 1
    assert Counter(results)["ConflictError"] == 19
    async with db() as session:
        request = await session.get(models.MaintenanceRequest, request_id)
        records = await session.scalar(select(func.count()).where(models.MaintenanceRecord.request_id == request_id))
    assert request is not None
    completed = winners[0] == "CompleteMaintenanceRequestPayload"
    assert request.status is (S.COMPLETED if completed else S.CANCELLED)
    assert records == (1 if completed else 0)
    # Out once, back once: by completion (one unit damaged) or by cancellation (all available).
    assert await movements_of(db, request_id) == Counter({"MAINTENANCE_OUT": 1, "MAINTENANCE_RETURN": 1})
    now = await ledger_adds_up(db, item.id)
    assert now.quantity_in_maintenance == 0
    assert now.quantity_damaged == (1 if completed else 0)
