"""Read fields for users: `me`, and the administration list (ADMIN_GENERAL)."""

from __future__ import annotations

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.users.types import User, UserSettings
from graphql_api.db import models
from graphql_api.services import auth, users

ADMIN_ONLY = permissions.roles(models.Role.ADMIN_GENERAL)


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user.", extensions=permissions.authenticated())
    def me(self, info: Info) -> User:
        return User.from_model(info.context.principal_row)

    @strawberry.field(description="The signed-in user's preferences.", extensions=permissions.authenticated())
    async def my_settings(self, info: Info) -> UserSettings:
        async with info.context.db() as session:
            row = await auth.get_settings(session, info.context.settings, info.context.require_principal().id)
        return UserSettings.from_model(row)

    user = by_id_field(User, description="One user by ID.", permission=ADMIN_ONLY)
    users = list_field(
        User,
        description="All users, filtered.",
        filters=users.USER_FILTERS,
        ordering=users.USER_ORDER,
        permission=ADMIN_ONLY,
    )
