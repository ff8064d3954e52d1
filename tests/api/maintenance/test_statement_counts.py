"""Maintenance lists send a fixed number of SQL statements, whatever the number of rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import maintenance
from tests.api.maintenance.helpers import TODAY, S, advance, open_for_item
from tests.conftest import Actor, Factory, GraphQLClient, World

REQUESTS = """{ maintenanceRequests(first: 100) { totalCount edges { node {
  status environment { name } item { name quantityInMaintenance } assignee { id } requester { id } } } } }"""
# 1 authentication, 2 the page joined with each request's environment (priming its loader),
# 3 totalCount, 4 ITEM_BY_ID for every item of the page, 5 USER_BY_ID for every assignee and
# requester of the page
REQUESTS_STATEMENTS = 5

HISTORY = """{ maintenanceHistory(first: 100) { totalCount edges { node {
  maintenanceType cost environment { name } item { name } recordedBy { id } request { status } } } } }"""
# 1 authentication, 2 the page joined with the environments, 3 totalCount, 4 the items,
# 5 the users, 6 the requests
HISTORY_STATEMENTS = 6


async def grow(db: async_sessionmaker[AsyncSession], world: World, factory: Factory, total: int, made: int) -> int:
    """Add completed requests (one record each) and assigned ones until `total` requests, each
    assigned to one of two technicians (not the caller, whose own row needs no statement)."""
    rooms = [world.a1, world.a2, world.aw]
    technicians = [await factory.user(models.Role.SUPERVISOR, world.a2) for _ in range(2)]
    for n in range(made, total):
        item = await factory.item(rooms[n % 3], quantity=2)
        request_id = await open_for_item(db, world.supervisor, item)
        status = S.COMPLETED if n % 2 else S.ASSIGNED
        await advance(db, world.supervisor, request_id, status, assignee=technicians[n % 2])
    return total


async def count(gql: GraphQLClient, count_statements: Any, query: str, actor: Actor) -> tuple[int, dict[str, Any]]:
    with count_statements() as counted:
        data = await gql.data(query, token=actor)
    return counted.value, data


async def test_requests_with_item_and_assignee(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, count_statements: Any
) -> None:
    made = await grow(db, world, factory, 10, 0)
    small, data = await count(gql, count_statements, REQUESTS, world.supervisor)
    assert data["maintenanceRequests"]["totalCount"] == 10
    await grow(db, world, factory, 100, made)
    large, data = await count(gql, count_statements, REQUESTS, world.supervisor)
    edges = data["maintenanceRequests"]["edges"]
    assert len(edges) == 100
    assert all(edge["node"]["assignee"] and edge["node"]["item"] for edge in edges)
    assert (small, large) == (REQUESTS_STATEMENTS, REQUESTS_STATEMENTS)


async def test_history_with_item_request_and_author(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], world: World, factory: Factory, count_statements: Any
) -> None:
    made = await grow(db, world, factory, 20, 0)
    small, data = await count(gql, count_statements, HISTORY, world.admin_general)
    assert data["maintenanceHistory"]["totalCount"] == 10
    made = await grow(db, world, factory, 200, made)
    async with db.begin() as session:  # a manual entry too (no request)
        await maintenance.add_record(
            session,
            world.supervisor.principal,
            item_id=world.items["a1"][1].id,
            fields=maintenance.RecordFields(models.MaintenanceType.UPGRADE, "RAM", performed_on=TODAY),
            today=TODAY,
        )
    large, data = await count(gql, count_statements, HISTORY, world.admin_general)
    assert data["maintenanceHistory"]["totalCount"] == 101
    assert len(data["maintenanceHistory"]["edges"]) == 100
    assert (small, large) == (HISTORY_STATEMENTS, HISTORY_STATEMENTS)
