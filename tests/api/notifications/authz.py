"""The notifications domain's cases for the authorization matrix (tests/authz/): an inbox is its
recipient's alone, whatever the role (ADMIN_GENERAL included)."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from graphql_api.db import models
from graphql_api.services import notifications
from tests.authz import (
    AUTHENTICATED,
    NOT_FOUND,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Outcome,
    Reached,
    Scene,
    Table,
    in_scope_of,
    static,
    with_target,
)

PEOPLE = ("student", "instructor", "supervisor", "admin", "admin_general", "student_b", "admin_b")


async def setup(scene: Scene) -> None:
    """Two unread notifications for everyone of both worlds, about an object of world B."""
    made: dict[uuid.UUID, list[uuid.UUID]] = {}
    world_b_user = scene.world.student_b.id
    async with scene.db.begin() as session:
        for name in PEOPLE:
            user = scene.world.role(name).id
            made[user] = [
                *await notifications.notify(session, [user], "user.role_changed", params={"role": "STUDENT"}),
                *await notifications.notify(
                    session,
                    [user],
                    "user.role_changed",
                    params={"role": "ADMIN"},
                    subject=("User", world_b_user),
                ),
            ]
    scene.notes["notifications.of"] = made


def _of(scene: Scene, name: str) -> list[uuid.UUID]:
    made: dict[uuid.UUID, list[uuid.UUID]] = scene.notes["notifications.of"]
    return made[scene.world.role(name).id]


async def _read(scene: Scene, notification: uuid.UUID) -> None:
    async with scene.db.begin() as session:
        await session.execute(
            update(models.Notification)
            .where(models.Notification.id == notification)
            .values(read_at=models.Notification.created_at)
        )


NOTIFICATION = NodeCases(
    # Another person's notifications are out of scope, ADMIN_GENERAL's own view included.
    world_b=lambda s: _of(s, "student_b") + _of(s, "admin_b"),
    in_scope=lambda s, caller: _of(s, caller),
    target=lambda s, caller: _of(s, "student" if caller == "anonymous" else caller)[0],
    private=True,
)

MUTATIONS = {
    "markNotificationRead": MutationCase(
        access=AUTHENTICATED,
        target="Notification",
        slot="id",
        attack=with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("Notification", "id"),
        success="NotificationPayload",
        self_only=True,
    ),
    "markNotificationUnread": MutationCase(
        access=AUTHENTICATED,
        target="Notification",
        slot="id",
        attack=with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("Notification", "id", prepare=_read),
        success="NotificationPayload",
        self_only=True,
    ),
    "deleteNotification": MutationCase(
        access=AUTHENTICATED,
        target="Notification",
        slot="id",
        attack=with_target("id"),
        out_of_scope=NOT_FOUND,
        in_scope=in_scope_of("Notification", "id"),
        success="DeleteNotificationPayload",
        self_only=True,
    ),
    "markAllNotificationsRead": MutationCase(
        access=AUTHENTICATED,
        attack=static({}),
        # Acting on oneself only: it marks the caller's own, never world B's.
        out_of_scope=Outcome("MarkAllNotificationsReadPayload"),
        in_scope=static({}),
        success="MarkAllNotificationsReadPayload",
        self_only=True,
    ),
}

NESTED_QUERY = """
{ notifications(first: 100) { totalCount edges { node { id subject { id ... on User { environment { id } } } } } } }
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    if reached.caller == "anonymous":
        return
    mine = set(_of(scene, reached.caller))
    assert reached.of_type("Notification") == mine
    # The subject is world B's student: only ADMIN_GENERAL may see that user.
    subjects = [e["node"]["subject"] for e in reached.data["notifications"]["edges"]]
    visible = [subject for subject in subjects if subject is not None]
    assert len(visible) == (1 if reached.caller == "admin_general" else 0), subjects


CASES = DomainCases(
    nodes={"Notification": NOTIFICATION},
    mutations=MUTATIONS,
    tables={"notifications": Table(owner="recipient_id")},
    setup=setup,
    nested=Nested(query=NESTED_QUERY, check=_check_nested),
)
