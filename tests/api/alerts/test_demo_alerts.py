"""The demo data set comes with alerts of three types, raised through the service."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.services import demo
from graphql_api.settings import Settings
from tests.conftest import Factory, GraphQLClient

LIST = "{ systemAlerts(first: 100) { totalCount edges { node { type environment { code } subject { id } } } } }"


async def test_demo_alerts(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings, factory: Factory
) -> None:
    async with db.begin() as session:
        await demo.load_demo(session, settings)
    async with db() as session:
        rows = (
            await session.execute(
                select(models.SystemAlert.alert_type, models.InventoryItem.name).join(
                    models.InventoryItem, models.InventoryItem.id == models.SystemAlert.subject_id
                )
            )
        ).all()
        supervisor = await session.scalar(select(models.User).where(models.User.email == "supervisor.cdm@demo.local"))
        assert supervisor is not None
        home = await session.get_one(models.Environment, supervisor.environment_id)
        notified = await session.scalar(
            select(models.Notification.id)
            .where(models.Notification.recipient_id == supervisor.id, models.Notification.kind.like("alert.%"))
            .limit(1)
        )
    types = Counter(alert_type for alert_type, _ in rows)
    assert set(types) == {
        models.AlertType.EQUIPMENT_MISSING, models.AlertType.MAINTENANCE_DUE, models.AlertType.LOW_STOCK
    }  # fmt: skip
    assert ("LOW_STOCK", "Cable HDMI") in {(t.value, name) for t, name in rows}
    assert notified is not None
    # The CDM supervisor reads the alerts of the CDM center only, each with its item.
    data = await gql.data(LIST, token=factory.actor(supervisor, home))
    page = data["systemAlerts"]
    assert 0 < page["totalCount"] < len(rows)
    assert all(edge["node"]["environment"]["code"].startswith("CDM-") for edge in page["edges"])
    assert all(edge["node"]["subject"] is not None for edge in page["edges"])
