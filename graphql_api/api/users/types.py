"""Users and their settings as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.relay import Node, encode_id
from graphql_api.api.enums import Language, Role, Theme, to_api
from graphql_api.api.organization.types import Environment
from graphql_api.db import models


@strawberry.type(description="A person with an account.")
class User(Node):
    _model: strawberry.Private[models.User]
    email: str = strawberry.field(description="Sign-in e-mail (lower case).")
    role: Role = strawberry.field(description="What the user may do.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    phone: str | None = strawberry.field(description="Phone number.")
    program: str | None = strawberry.field(description="Training programme (students).")
    ficha: str | None = strawberry.field(description='Group number ("ficha") of the programme.')
    avatar_url: str | None = strawberry.field(description="Picture URL.")
    is_active: bool = strawberry.field(description="Deactivated users cannot sign in.")
    last_login_at: datetime | None = strawberry.field(description="Last successful sign-in.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            _model=row,
            id=encode_id("User", row.id),
            email=row.email,
            role=to_api(row.role, Role),
            first_name=row.first_name,
            last_name=row.last_name,
            phone=row.phone,
            program=row.program,
            ficha=row.ficha,
            avatar_url=row.avatar_url,
            is_active=row.is_active,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="First and last name.")
    def full_name(self) -> str:
        return self._model.full_name

    @strawberry.field(description="Home environment, if set and visible to the caller.")
    async def environment(self, info: Info) -> Environment | None:
        if self._model.environment_id is None:
            return None
        row = await info.context.loaders.environment_by_id.load(self._model.environment_id)
        return Environment.from_model(row) if row else None


@strawberry.type(description="Personal preferences of the signed-in user.")
class UserSettings:
    language: Language = strawberry.field(description="Language of messages and notifications.")
    theme: Theme = strawberry.field(description="Preferred colour theme.")
    timezone: str | None = strawberry.field(description="IANA time zone for display; null = server's.")
    notify_in_app: bool = strawberry.field(description="Receive notifications in the app.")
    notify_email: bool = strawberry.field(description="Receive notifications by e-mail.")
    notify_push: bool = strawberry.field(description="Receive push notifications.")

    @classmethod
    def from_model(cls, row: models.UserSettings) -> UserSettings:
        return cls(
            language=to_api(row.language, Language),
            theme=to_api(row.theme, Theme),
            timezone=row.timezone,
            notify_in_app=row.notify_in_app,
            notify_email=row.notify_email,
            notify_push=row.notify_push,
        )
