"""Read fields for users: `me`, and the administration list (ADMIN_GENERAL)."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import sort_key
from graphql_api.api.core.pagination import (
    NOT_GIVEN,
    After,
    Before,
    Connection,
    First,
    Last,
    NodeIdArg,
    PageArgs,
    connection,
)
from graphql_api.api.core.relay import decode_id, filter_ids, required
from graphql_api.api.enums import Role, SortDirection, to_model
from graphql_api.api.users.types import User, UserSettings
from graphql_api.db import models
from graphql_api.services import auth, users


@strawberry.enum(description="Fields users can be sorted by.")
class UserOrderField(enum.Enum):
    LAST_NAME = strawberry.enum_value("LAST_NAME", description="By family name.")
    EMAIL = strawberry.enum_value("EMAIL", description="By e-mail.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="By creation time.")


@strawberry.input(description="Ordering of a users list.")
class UserOrder:
    field: UserOrderField = strawberry.field(description="Sort field.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Direction.")


@strawberry.input(description="Filters for users; all given conditions must hold.")
class UserWhere:
    roles: list[Role] | None = strawberry.field(default=None, description="Only these roles.")
    is_active: bool | None = strawberry.field(default=None, description="Only active or inactive users.")
    environment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only users whose home is one of these."
    )
    search: str | None = strawberry.field(default=None, description="Text in first name, last name or e-mail.")


_COLUMNS = {
    UserOrderField.LAST_NAME: models.User.last_name,
    UserOrderField.EMAIL: models.User.email,
    UserOrderField.CREATED_AT: models.User.created_at,
}


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user.", extensions=permissions.authenticated())
    async def me(self, info: Info) -> User:
        row = await info.context.loaders.user_by_id.load(info.context.require_principal().id)
        return User.from_model(required(row))

    @strawberry.field(description="The signed-in user's preferences.", extensions=permissions.authenticated())
    async def my_settings(self, info: Info) -> UserSettings:
        async with info.context.db() as session:
            row = await auth.get_settings(session, info.context.settings, info.context.require_principal().id)
        return UserSettings.from_model(row)

    @strawberry.field(description="One user by ID.", extensions=permissions.roles(models.Role.ADMIN_GENERAL))
    async def user(self, info: Info, id: NodeIdArg) -> User | None:
        pk = decode_id(id, "User")
        row = await info.context.loaders.user_by_id.load(pk) if pk else None
        return User.from_model(row) if row else None

    @strawberry.field(description="All users, filtered.", extensions=permissions.roles(models.Role.ADMIN_GENERAL))
    def users(
        self,
        info: Info,
        where: Annotated[UserWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[UserOrder | None, strawberry.argument(description="Ordering (default: last name).")] = None,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[User]:
        order = order_by or UserOrder(field=UserOrderField.LAST_NAME)
        filters = None
        if where is not None:
            filters = users.UserFilter(
                roles=[to_model(r, models.Role) for r in where.roles] if where.roles else None,
                is_active=where.is_active,
                environment_ids=filter_ids(where.environment_ids, "Environment"),
                search=where.search,
            )
        stmt = users.users_query(info.context.require_principal(), filters)
        key = sort_key(f"user:{order.field.value}", _COLUMNS[order.field], models.User.id, order.direction)
        return connection(info.context, stmt, key, PageArgs(first, after, last, before), User.from_model)
