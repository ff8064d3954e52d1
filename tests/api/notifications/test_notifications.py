"""The inbox: the recipient's alone; filters, read/unread/all with counts, delete, expiry (and
the job that deletes expired ones), the unread count; texts rendered in the reader's language;
the first producers (role and home-environment changes); statement counts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.db import models
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import run_due
from graphql_api.services import notifications
from graphql_api.settings import Settings
from tests.conftest import Actor, Factory, GraphQLClient, World, gid

Sessions = async_sessionmaker[AsyncSession]

FIELDS = "id kind priority read readAt expiresAt createdAt title body subject { __typename id }"
INBOX = f"""query ($where: NotificationWhere, $first: Int, $after: String) {{
  notifications(where: $where, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {FIELDS} }} }} }} }}"""
COUNT = "{ unreadNotificationCount }"
NODE = f"query ($id: ID!) {{ node(id: $id) {{ ... on Notification {{ {FIELDS} }} }} }}"
RESULT = "__typename ... on NotificationPayload { notification { id read readAt } } ... on Error { code message }"
MARK_READ = f"mutation ($id: ID!) {{ markNotificationRead(input: {{id: $id}}) {{ {RESULT} }} }}"
MARK_UNREAD = f"mutation ($id: ID!) {{ markNotificationUnread(input: {{id: $id}}) {{ {RESULT} }} }}"
MARK_ALL = "mutation ($kinds: [String!]) { markAllNotificationsRead(input: {kinds: $kinds}) { count } }"
DELETE = """mutation ($id: ID!) { deleteNotification(input: {id: $id}) {
  __typename ... on DeleteNotificationPayload { id } ... on Error { code message } } }"""
UPDATE_USER = """mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }"""
SET_LANGUAGE = """mutation ($language: Language!) {
  updateMySettings(input: {language: $language}) { __typename } }"""


async def notify(db: Sessions, users: list[Actor], kind: str = "account.welcome", **options: Any) -> list[str]:
    params = options.pop("params", {"role": "STUDENT"})
    async with db.begin() as session:
        ids = await notifications.notify(session, [user.id for user in users], kind, params=params, **options)
    return [gid("Notification", value) for value in ids]


async def inbox(gql: GraphQLClient, actor: Actor, **variables: Any) -> dict[str, Any]:
    data = await gql.data(INBOX, {"first": 50, **variables}, token=actor)
    connection: dict[str, Any] = data["notifications"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def unread(gql: GraphQLClient, actor: Actor) -> int:
    count: int = (await gql.data(COUNT, token=actor))["unreadNotificationCount"]
    return count


async def test_the_inbox_is_the_recipients_alone(gql: GraphQLClient, db: Sessions, world: World) -> None:
    [mine] = await notify(db, [world.student])
    [theirs] = await notify(db, [world.admin_general])
    assert ids(await inbox(gql, world.student)) == [mine]
    assert ids(await inbox(gql, world.admin_general)) == [theirs]  # ADMIN_GENERAL too sees only their own
    assert (await gql.data(NODE, {"id": theirs}, token=world.student))["node"] is None
    for mutation in (MARK_READ, MARK_UNREAD, DELETE):
        result = (await gql.data(mutation, {"id": theirs}, token=world.student)).popitem()[1]
        assert (result["__typename"], result["code"]) == ("NotFoundError", "NOT_FOUND")
    assert await unread(gql, world.admin_general) == 1
    assert (await gql.data(MARK_ALL, token=world.student))["markAllNotificationsRead"]["count"] == 1
    assert await unread(gql, world.admin_general) == 1


async def test_anonymous_callers_get_no_inbox(gql: GraphQLClient) -> None:
    result = await gql.execute(COUNT)
    assert [error["extensions"]["code"] for error in result["errors"]] == ["UNAUTHENTICATED"]


async def test_filters_unread_and_kinds(gql: GraphQLClient, db: Sessions, world: World) -> None:
    [welcome] = await notify(db, [world.student])
    [role] = await notify(db, [world.student], "user.role_changed", params={"role": "INSTRUCTOR"})
    [other] = await notify(db, [world.student], "user.environment_cleared", params={})
    assert ids(await inbox(gql, world.student)) == [other, role, welcome]  # newest first
    await gql.data(MARK_READ, {"id": role}, token=world.student)
    assert ids(await inbox(gql, world.student, where={"unread": True})) == [other, welcome]
    assert ids(await inbox(gql, world.student, where={"kinds": ["user.role_changed"]})) == [role]
    both = await inbox(gql, world.student, where={"unread": True, "kinds": ["user.role_changed", "account.welcome"]})
    assert (both["totalCount"], ids(both)) == (1, [welcome])
    # The kit's rule for a list of plain values: empty means no condition.
    assert ids(await inbox(gql, world.student, where={"kinds": []})) == [other, role, welcome]


async def test_mark_read_unread_and_all_with_counts(gql: GraphQLClient, db: Sessions, world: World) -> None:
    made = await notify(db, [world.student]) + await notify(db, [world.student], "user.environment_cleared", params={})
    assert await unread(gql, world.student) == 2
    read = (await gql.data(MARK_READ, {"id": made[0]}, token=world.student))["markNotificationRead"]
    assert read["notification"]["read"] is True
    assert read["notification"]["readAt"] is not None
    assert await unread(gql, world.student) == 1
    again = (await gql.data(MARK_READ, {"id": made[0]}, token=world.student))["markNotificationRead"]
    assert again["__typename"] == "NotificationPayload"  # reading twice is harmless
    back = (await gql.data(MARK_UNREAD, {"id": made[0]}, token=world.student))["markNotificationUnread"]
    assert back["notification"] == {"id": made[0], "read": False, "readAt": None}
    assert await unread(gql, world.student) == 2
    only = await gql.data(MARK_ALL, {"kinds": ["user.environment_cleared"]}, token=world.student)
    assert only["markAllNotificationsRead"]["count"] == 1
    assert (await gql.data(MARK_ALL, token=world.student))["markAllNotificationsRead"]["count"] == 1
    assert (await gql.data(MARK_ALL, token=world.student))["markAllNotificationsRead"]["count"] == 0
    assert await unread(gql, world.student) == 0


async def test_concurrent_mark_all_counts_each_notification_once(
    gql: GraphQLClient, db: Sessions, world: World
) -> None:
    await notify(db, [world.student]) + await notify(db, [world.student]) + await notify(db, [world.student])
    answers = await asyncio.gather(*(gql.data(MARK_ALL, token=world.student) for _ in range(4)))
    assert sum(answer["markAllNotificationsRead"]["count"] for answer in answers) == 3


async def test_delete_and_a_concurrent_second_delete(gql: GraphQLClient, db: Sessions, world: World) -> None:
    [first, second] = await notify(db, [world.student]) + await notify(db, [world.student])
    answers = await asyncio.gather(*(gql.data(DELETE, {"id": first}, token=world.student) for _ in range(3)))
    kinds = sorted(answer["deleteNotification"]["__typename"] for answer in answers)
    assert kinds == ["DeleteNotificationPayload", "NotFoundError", "NotFoundError"]
    assert ids(await inbox(gql, world.student)) == [second]
    assert await unread(gql, world.student) == 1
    assert (await gql.data(NODE, {"id": first}, token=world.student))["node"] is None


async def test_expired_notifications_disappear_and_the_job_deletes_them(
    gql: GraphQLClient, db: Sessions, world: World, settings: Settings
) -> None:
    [expired] = await notify(db, [world.student], ttl=timedelta(days=1))
    [lasting] = await notify(db, [world.student], ttl=None)
    async with db.begin() as session:
        await session.execute(
            update(models.Notification)
            .where(models.Notification.expires_at.is_not(None))
            .values(expires_at=func.now() - timedelta(seconds=1))
        )
    listed = await inbox(gql, world.student)
    assert (listed["totalCount"], ids(listed)) == (1, [lasting])
    assert listed["edges"][0]["node"]["expiresAt"] is None
    assert await unread(gql, world.student) == 1
    assert (await gql.data(NODE, {"id": expired}, token=world.student))["node"] is None
    for mutation in (MARK_READ, MARK_UNREAD, DELETE):
        result = (await gql.data(mutation, {"id": expired}, token=world.student)).popitem()[1]
        assert result["__typename"] == "NotFoundError"
    assert (await gql.data(MARK_ALL, token=world.student))["markAllNotificationsRead"]["count"] == 1

    sweep = await run_due(db, settings, JOBS, force=True)
    assert sweep.ran["expire_notifications"] == {"deleted": 1}
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(models.Notification)) == 1


async def test_notify_writes_every_recipient_in_one_statement(
    db: Sessions, world: World, count_statements: Any
) -> None:
    recipients = [world.student, world.instructor, world.supervisor, world.admin]
    async with db.begin() as session:
        await session.execute(select(1))  # the transaction is open before counting
        with count_statements() as counted:
            made = await notifications.notify(session, [user.id for user in recipients], "account.welcome")
    assert (counted.value, len(made)) == (1, 4)
    async with db() as session:
        rows = (await session.execute(select(models.Notification.recipient_id))).scalars().all()
    assert sorted(rows) == sorted(user.id for user in recipients)


async def test_priority_and_subject_as_a_node_within_the_readers_scope(
    gql: GraphQLClient, db: Sessions, world: World
) -> None:
    own_item, other_item = world.items["a1"][0], world.items["b1"][0]
    [visible] = await notify(
        db, [world.student], priority=models.NotificationPriority.HIGH, subject=("InventoryItem", own_item.id)
    )
    [hidden] = await notify(db, [world.student], subject=("InventoryItem", other_item.id))
    nodes = {edge["node"]["id"]: edge["node"] for edge in (await inbox(gql, world.student))["edges"]}
    assert nodes[visible]["priority"] == "HIGH"
    assert nodes[visible]["subject"] == {"__typename": "InventoryItem", "id": gid("InventoryItem", own_item.id)}
    assert (nodes[hidden]["priority"], nodes[hidden]["subject"]) == ("NORMAL", None)  # out of scope: null


# ---- producers and languages -----------------------------------------------------------------


async def fresh(factory: Factory, db: Sessions, actor: Actor) -> Actor:
    """The actor with a token of their current token version (a role change revokes tokens)."""
    async with db() as session:
        user = await session.get(models.User, actor.id)
        environment = await session.get(models.Environment, user.environment_id) if user.environment_id else None
    assert user is not None
    return factory.actor(user, environment)


async def test_a_role_change_notifies_the_user_in_their_language(
    gql: GraphQLClient, db: Sessions, world: World, factory: Factory
) -> None:
    await gql.data(SET_LANGUAGE, {"language": "EN"}, token=world.instructor)
    for actor, role in ((world.student, "INSTRUCTOR"), (world.instructor, "SUPERVISOR")):
        changed = await gql.data(UPDATE_USER, {"input": {"id": actor.gid, "role": role}}, token=world.admin_general)
        assert changed["updateUser"]["__typename"] == "UserPayload"
    spanish = (await inbox(gql, await fresh(factory, db, world.student)))["edges"][0]["node"]
    english = (await inbox(gql, await fresh(factory, db, world.instructor)))["edges"][0]["node"]
    assert (spanish["kind"], spanish["title"]) == ("user.role_changed", "Tu rol cambió")
    assert spanish["body"] == "Un administrador cambió tu rol a INSTRUCTOR. Inicia sesión de nuevo para continuar."
    assert (english["kind"], english["title"]) == ("user.role_changed", "Your role changed")
    assert english["body"] == "An administrator changed your role to SUPERVISOR. Sign in again to continue."
    assert spanish["subject"] == {"__typename": "User", "id": world.student.gid}
    # The same stored row reads in the other language once the reader switches.
    reader = await fresh(factory, db, world.student)
    await gql.data(SET_LANGUAGE, {"language": "EN"}, token=reader)
    assert (await inbox(gql, reader))["edges"][0]["node"]["title"] == "Your role changed"


async def test_a_home_environment_change_notifies_the_user(
    gql: GraphQLClient, db: Sessions, world: World, factory: Factory
) -> None:
    move = {"input": {"id": world.student.gid, "environmentId": gid("Environment", world.a2.id)}}
    assert (await gql.data(UPDATE_USER, move, token=world.admin_general))["updateUser"]["__typename"] == "UserPayload"
    reader = await fresh(factory, db, world.student)
    [node] = [edge["node"] for edge in (await inbox(gql, reader))["edges"]]
    assert (node["kind"], node["title"]) == ("user.environment_changed", "Tu ambiente cambió")
    assert world.a2.name in node["body"]
    await gql.data(SET_LANGUAGE, {"language": "EN"}, token=reader)
    english = (await inbox(gql, reader))["edges"][0]["node"]
    assert english["body"] == (
        f"An administrator changed your environment to {world.a2.name}. Sign in again to continue."
    )
    # A profile-only change notifies nobody.
    rename = {"input": {"id": world.student.gid, "firstName": "Renamed"}}
    await gql.data(UPDATE_USER, rename, token=world.admin_general)
    assert (await inbox(gql, reader))["totalCount"] == 1


async def test_a_failed_change_notifies_nobody(gql: GraphQLClient, db: Sessions, world: World) -> None:
    async with db() as session:
        outbox = await session.scalar(select(func.max(models.OutboxEvent.id)))
    # An ADMIN's home must be a warehouse: the change fails, and nothing of it is written.
    bad = {"input": {"id": world.student.gid, "role": "ADMIN"}}
    assert (await gql.data(UPDATE_USER, bad, token=world.admin_general))["updateUser"]["__typename"] == (
        "ValidationError"
    )
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(models.Notification)) == 0
        assert await session.scalar(select(func.max(models.OutboxEvent.id))) == outbox


# ---- statement counts ------------------------------------------------------------------------


async def make_many(db: Sessions, world: World, count: int) -> None:
    items = world.items["a1"]
    async with db.begin() as session:
        for n in range(count):
            await notifications.notify(
                session, [world.student.id], "account.welcome", subject=("InventoryItem", items[n % 2].id)
            )


async def test_inbox_statement_count_does_not_grow_with_rows(
    gql: GraphQLClient, db: Sessions, world: World, count_statements: Any
) -> None:
    counts = []
    for total in (10, 100):
        async with db.begin() as session:
            await session.execute(models.Notification.__table__.delete())
        await make_many(db, world, total)
        await gql.data(INBOX, {"first": 50}, token=world.student)  # warm the document cache
        with count_statements() as counted:
            connection = await inbox(gql, world.student)
        assert connection["totalCount"] == total
        assert all(edge["node"]["subject"] is not None for edge in connection["edges"])
        counts.append(counted.value)
    print(f"notifications(first: 50) with subject: {counts} statements for 10 and 100 rows")
    # The caller, the page, its total, the subjects (one batched load).
    assert counts == [4, 4]
