"""Users and their settings as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_api.api.core.enums import Role
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.enums import Language, Theme
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.db import models


@model_type(
    models.User,
    loader=USER_BY_ID,
    description="A person with an account.",
    related={"environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment, required=False)},
)
class User(Node, ModelObject):
    _model: strawberry.Private[models.User]
    email: str = strawberry.field(description="Sign-in e-mail (lower case).")
    role: Role = strawberry.field(description="What the user may do.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    full_name: str = strawberry.field(description="First and last name.")
    phone: str | None = strawberry.field(description="Phone number.")
    program: str | None = strawberry.field(description="Training programme (students).")
    ficha: str | None = strawberry.field(description='Group number ("ficha") of the programme.')
    avatar_url: str | None = strawberry.field(description="Picture URL.")
    is_active: bool = strawberry.field(description="Deactivated users cannot sign in.")
    last_login_at: datetime | None = strawberry.field(description="Last successful sign-in.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    environment: Environment | None = strawberry.field(
        description="Home environment, if set and visible to the caller."
    )


@model_type(models.UserSettings, description="Personal preferences of the signed-in user.")
class UserSettings(ModelObject):
    _model: strawberry.Private[models.UserSettings]
    language: Language = strawberry.field(description="Language of messages and notifications.")
    theme: Theme = strawberry.field(description="Preferred colour theme.")
    timezone: str | None = strawberry.field(description="IANA time zone for display; null = server's.")
    notify_in_app: bool = strawberry.field(description="Receive notifications in the app.")
    notify_email: bool = strawberry.field(description="Receive notifications by e-mail.")
    notify_push: bool = strawberry.field(description="Receive push notifications.")
