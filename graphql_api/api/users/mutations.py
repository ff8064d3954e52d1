"""User administration (ADMIN_GENERAL)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.enums import Role
from graphql_api.api.core.errors import ConflictError, NotFoundError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.users.types import User
from graphql_api.db import models
from graphql_api.services import users

ADMIN_ONLY = permissions.roles(models.Role.ADMIN_GENERAL)


@strawberry.input(description="A new account with any role.")
class CreateUserInput:
    email: str = strawberry.field(description="Sign-in e-mail; must be unused.")
    password: str = strawberry.field(description="Initial password, 8-72 bytes in UTF-8.")
    role: Role = strawberry.field(description="Role of the account.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    environment_id: strawberry.ID | None = ref(
        "Environment", default=None, description="Home environment; required (a warehouse) for ADMIN."
    )
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    program: str | None = strawberry.field(default=None, description="Training programme.")
    ficha: str | None = strawberry.field(default=None, description="Group number.")


@strawberry.input(description="Changes to a user; omitted fields stay as they are.")
class UpdateUserInput:
    id: strawberry.ID = ref("User", description="The user.")
    role: strawberry.Maybe[Role] = strawberry.field(description="New role (revokes the user's tokens).")
    environment_id: strawberry.Maybe[strawberry.ID | None] = ref(
        "Environment", description="New home environment; null clears it (revokes tokens)."
    )
    first_name: strawberry.Maybe[str] = strawberry.field(description="New given name.")
    last_name: strawberry.Maybe[str] = strawberry.field(description="New family name.")
    phone: strawberry.Maybe[str | None] = strawberry.field(description="New phone; null clears it.")
    program: strawberry.Maybe[str | None] = strawberry.field(description="New programme; null clears it.")
    ficha: strawberry.Maybe[str | None] = strawberry.field(description="New group number; null clears it.")


@strawberry.input(description="Identifies a user.")
class UserIdInput:
    id: strawberry.ID = ref("User", description="The user.")


@strawberry.type(description="The user after the change.")
class UserPayload:
    user: User = strawberry.field(description="The user.")


UserResult = Annotated[
    UserPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union("UserResult", description="A user, or why the change failed."),
]


@strawberry.type
class UserMutation:
    @mutation(description="Create an account with any role.", permission=ADMIN_ONLY)
    async def create_user(self, info: Info, input: CreateUserInput) -> UserResult:
        row = await users.create_user(info.context.require_session(), info.context.settings, **values(input))
        return UserPayload(user=User.from_model(row))

    @mutation(description="Change a user's role, home environment or profile.", permission=ADMIN_ONLY)
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserResult:
        changes = values(input)
        context = info.context
        row = await users.update_user(
            context.require_session(), context.require_principal(), changes.pop("id"), changes=changes
        )
        return UserPayload(user=User.from_model(row))

    @mutation(description="Deactivate a user: sign-in is refused and every token is revoked.", permission=ADMIN_ONLY)
    async def deactivate_user(self, info: Info, input: UserIdInput) -> UserResult:
        context = info.context
        row = await users.set_active(
            context.require_session(), context.require_principal(), values(input)["id"], active=False
        )
        return UserPayload(user=User.from_model(row))

    @mutation(description="Reactivate a deactivated user.", permission=ADMIN_ONLY)
    async def activate_user(self, info: Info, input: UserIdInput) -> UserResult:
        context = info.context
        row = await users.set_active(
            context.require_session(), context.require_principal(), values(input)["id"], active=True
        )
        return UserPayload(user=User.from_model(row))
