"""Alert settings (each user's own, validated) and who is notified of a raised alert: the
readers of its environment whose settings take it, in their language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.auth.scope import environment_filter
from graphql_api.db import models
from graphql_api.services import alert_settings, alerts
from tests.api.alerts.helpers import notifications_of, raise_missing
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

SETTINGS = "{ alertSettings { lowStockThreshold alertTypes minSeverity notify } }"
UPDATE = """mutation ($input: UpdateAlertSettingsInput!) { updateAlertSettings(input: $input) {
  __typename
  ... on AlertSettingsPayload { settings { lowStockThreshold alertTypes minSeverity notify } }
  ... on ValidationError { fieldErrors { field code message } } } }"""
DEFAULTS = {"lowStockThreshold": 5, "alertTypes": None, "minSeverity": "LOW", "notify": True}


async def _update(gql: GraphQLClient, actor: Actor, **values: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(UPDATE, {"input": values}, token=actor))["updateAlertSettings"]
    return result


async def _settings_rows(db: async_sessionmaker[AsyncSession]) -> list[str]:
    async with db() as session:
        return list(await session.scalars(text("SELECT t::text FROM alert_settings t ORDER BY user_id")))


async def test_defaults_until_changed_and_each_change_keeps_the_rest(gql: GraphQLClient, world: World) -> None:
    student = world.student  # every signed-in user has settings of their own
    assert (await gql.data(SETTINGS, token=student))["alertSettings"] == DEFAULTS
    assert (await _update(gql, student, lowStockThreshold=12))["settings"] == {**DEFAULTS, "lowStockThreshold": 12}
    chosen = ["LOW_STOCK", "EQUIPMENT_MISSING", "LOW_STOCK"]
    # Each type once, in the enum's order.
    expected = {**DEFAULTS, "lowStockThreshold": 12, "alertTypes": ["LOW_STOCK", "EQUIPMENT_MISSING"]}
    assert (await _update(gql, student, alertTypes=chosen))["settings"] == expected
    expected = {**expected, "minSeverity": "HIGH", "notify": False}
    assert (await _update(gql, student, minSeverity="HIGH", notify=False))["settings"] == expected
    assert (await _update(gql, student, alertTypes=[]))["settings"] == {**expected, "alertTypes": []}
    assert (await _update(gql, student, alertTypes=None))["settings"] == {**expected, "alertTypes": None}
    assert (await gql.data(SETTINGS, token=student))["alertSettings"] == {**expected, "alertTypes": None}
    # Someone else's are untouched (still the defaults).
    assert (await gql.data(SETTINGS, token=world.supervisor))["alertSettings"] == DEFAULTS
    assert (await _update(gql, student, lowStockThreshold=0))["settings"]["lowStockThreshold"] == 0
    assert (await _update(gql, student, lowStockThreshold=100_000))["settings"]["lowStockThreshold"] == 100_000


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"lowStockThreshold": -1}, [("lowStockThreshold", "MIN_VALUE")]),
        ({"lowStockThreshold": 100_001}, [("lowStockThreshold", "MAX_VALUE")]),
    ],
)
async def test_invalid_settings_are_field_errors_that_change_nothing(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession], values: dict[str, Any], errors: list[Any]
) -> None:
    await _update(gql, world.supervisor, lowStockThreshold=9)
    before = await _settings_rows(db)
    result = await _update(gql, world.supervisor, **values, alertTypes=["LOAN_OVERDUE"])
    assert result["__typename"] == "ValidationError"
    assert [(e["field"], e["code"]) for e in result["fieldErrors"]] == errors
    assert await _settings_rows(db) == before


async def test_unknown_values_and_nulls_are_refused_by_the_schema(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    refused = (
        {"alertTypes": ["FIRE"]},
        {"minSeverity": "URGENT"},
        {"lowStockThreshold": "5"},
        {"lowStockThreshold": None},
        {"minSeverity": None},
        {"notify": None},
    )
    for values in refused:
        result = await gql.execute(UPDATE, {"input": values}, token=world.supervisor)
        assert result.get("data") is None
        assert result["errors"], values
    assert await _settings_rows(db) == []


# ---- who is notified -----------------------------------------------------------------------


async def _system_user(db: async_sessionmaker[AsyncSession]) -> models.User:
    async with db() as session:
        user = await session.scalar(select(models.User).where(models.User.email == "system@test.local"))
    assert user is not None
    return user


async def test_notified_are_the_readers_in_scope_whose_settings_take_it(
    world: World, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    system = await _system_user(db)
    inactive = await factory.user(models.Role.SUPERVISOR, world.a2)
    async with db.begin() as session:
        await alert_settings.update(session, world.supervisor.id, {"alert_types": [models.AlertType.LOW_STOCK]})
        await alert_settings.update(session, world.admin_general.id, {"min_severity": models.AlertSeverity.HIGH})
        await alert_settings.update(session, system.id, {"notify": False})
        await session.execute(update(models.User).where(models.User.id == inactive.id).values(is_active=False))
    await raise_missing(db, world.items["a1"][0], models.AlertSeverity.MEDIUM)
    # Nobody: the supervisor wants other types, ADMIN_GENERAL higher severities, the system
    # user no notifications, the other supervisor is inactive; the rest are out of scope.
    assert await notifications_of(db) == []
    await raise_missing(db, world.items["aw"][0], models.AlertSeverity.HIGH)
    # The warehouse's ADMIN (defaults) and ADMIN_GENERAL (HIGH is enough); HIGH priority.
    assert await notifications_of(db) == sorted(
        [
            (world.admin.id, "alert.equipment_missing", "HIGH"),
            (world.admin_general.id, "alert.equipment_missing", "HIGH"),
        ]
    )


NOTIFICATIONS = "{ notifications(first: 10) { edges { node { kind priority title body subject { id } } } } }"


async def test_the_notification_reads_in_each_recipients_language(
    gql: GraphQLClient, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db.begin() as session:
        await session.execute(
            update(models.UserSettings)
            .where(models.UserSettings.user_id == world.admin_general.id)
            .values(language=models.Language.EN)
        )
    item = world.items["a1"][0]
    alert_id = await raise_missing(db, item, models.AlertSeverity.LOW)
    assert alert_id is not None
    spanish = (await gql.data(NOTIFICATIONS, token=world.supervisor))["notifications"]["edges"]
    english = (await gql.data(NOTIFICATIONS, token=world.admin_general))["notifications"]["edges"]
    subject = {"id": gid("SystemAlert", alert_id)}
    assert [edge["node"] for edge in spanish] == [
        {
            "kind": "alert.equipment_missing",
            "priority": "NORMAL",
            "title": "Equipos faltantes",
            "body": f"Faltan 1 unidades de «{item.name}» ({item.internal_code}) en Room.",
            "subject": subject,
        }
    ]
    assert [edge["node"] for edge in english] == [
        {
            "kind": "alert.equipment_missing",
            "priority": "NORMAL",
            "title": "Missing equipment",
            "body": f"1 units of “{item.name}” ({item.internal_code}) are missing in Room.",
            "subject": subject,
        }
    ]


def test_every_alert_type_has_its_texts_and_parameters() -> None:
    from graphql_api.i18n import CATALOGUE, translate
    from graphql_api.services import alert_messages

    for alert_type in models.AlertType:
        params = {name: f"<{name}>" for name in alert_messages.PARAMS[alert_type]}
        for language in ("es", "en"):
            for key in (alert_messages.kind(alert_type), f"notification.{alert_messages.kind(alert_type)}.title"):
                assert key in CATALOGUE[language]
                rendered = translate(key, language, params)
                assert "{" not in rendered, (key, language)
            # Every parameter the type declares is said in its message.
            message = translate(alert_messages.kind(alert_type), language, params)
            assert all(value in message for value in params.values()), (alert_type, language)
    with pytest.raises(ValueError, match="LOW_STOCK alerts take the parameters"):
        alerts.check_params(models.AlertType.LOW_STOCK, {"item": "x"})


async def test_reaches_is_the_inverse_of_the_scope_rule(
    world: World, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    """`alerts.reaches` (who reads an environment's alerts) says the same as
    `environment_filter` (which environments a reader sees) for every user and environment."""
    await factory.user(models.Role.SUPERVISOR)  # no home: reads nothing
    target, home = models.Environment.__table__.alias("t"), models.Environment.__table__.alias("h")
    users = models.User.__table__
    async with db() as session:
        pairs = set(
            (
                await session.execute(
                    select(users.c.id, target.c.id)
                    .select_from(users.join(target, text("true")).outerjoin(home, home.c.id == users.c.environment_id))
                    .where(alerts.reaches(users.c, home.c, target.c))
                )
            ).all()
        )
        expected = set()
        for user in (await session.scalars(select(models.User))).all():
            if user.role not in alerts.READERS:
                continue
            center = await session.scalar(
                select(models.Environment.center_id).where(models.Environment.id == user.environment_id)
            )
            principal = world.supervisor.principal.__class__(user.id, user.role, user.environment_id, center, "es", 1)
            rooms = await session.scalars(
                select(models.Environment.id).where(environment_filter(principal, models.Environment.id))
            )
            expected |= {(user.id, room) for room in rooms}
    assert pairs == expected
    assert len({user for user, _ in pairs}) == 5  # supervisor, admin, admin_b and two ADMIN_GENERALs
