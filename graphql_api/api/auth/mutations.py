"""Sign-up, sign-in, token refresh and the caller's own account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import (
    InvalidCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from graphql_api.api.core.inputs import values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.enums import Language, Theme
from graphql_api.api.users.types import User, UserSettings
from graphql_api.services import auth
from graphql_api.services.auth import IssuedTokens


@strawberry.type(description="Tokens of a signed-in session.")
class AuthPayload:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`; valid 15 minutes.")
    access_token_expires_at: datetime = strawberry.field(description="When the access token expires.")
    refresh_token: str = strawberry.field(description="Single use: exchange it with `refreshToken` for a new pair.")
    refresh_token_expires_at: datetime = strawberry.field(description="When the refresh token expires.")
    user: User = strawberry.field(description="The signed-in user.")

    @classmethod
    def from_tokens(cls, issued: IssuedTokens) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            refresh_token_expires_at=issued.refresh_token_expires_at,
            user=User.from_model(issued.user),
        )


@strawberry.input(description="Self-registration. The account is always a STUDENT.")
class RegisterInput:
    email: str = strawberry.field(description="Sign-in e-mail.")
    password: str = strawberry.field(description="8-72 bytes in UTF-8.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    program: str | None = strawberry.field(default=None, description="Training programme.")
    ficha: str | None = strawberry.field(default=None, description="Group number.")
    language: Language | None = strawberry.field(default=None, description="Preferred language.")


@strawberry.input(description="Credentials.")
class LoginInput:
    email: str = strawberry.field(description="Sign-in e-mail.")
    password: str = strawberry.field(description="Password.")


@strawberry.input(description="A refresh token to exchange.")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(description="The refresh token from the last sign-in or refresh.")


@strawberry.input(description="How much to sign out.")
class LogoutInput:
    refresh_token: str | None = strawberry.field(
        default=None, description="End this session (its refresh token family)."
    )
    everywhere: bool = strawberry.field(default=False, description="End every session of the user, on every device.")


@strawberry.input(description="Changes to the caller's own profile; omitted fields stay as they are.")
class UpdateMeInput:
    first_name: strawberry.Maybe[str] = strawberry.field(description="Given name.")
    last_name: strawberry.Maybe[str] = strawberry.field(description="Family name.")
    phone: strawberry.Maybe[str | None] = strawberry.field(description="Phone; null clears it.")
    program: strawberry.Maybe[str | None] = strawberry.field(description="Programme; null clears it.")
    ficha: strawberry.Maybe[str | None] = strawberry.field(description="Group number; null clears it.")
    avatar_url: strawberry.Maybe[str | None] = strawberry.field(description="Picture URL (http/https); null clears it.")


@strawberry.input(description="Replace the caller's password.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="The new password, 8-72 bytes in UTF-8.")


@strawberry.input(description="Changes to the caller's preferences; omitted fields stay as they are.")
class UpdateMySettingsInput:
    language: strawberry.Maybe[Language] = strawberry.field(description="Language of messages.")
    theme: strawberry.Maybe[Theme] = strawberry.field(description="Colour theme.")
    timezone: strawberry.Maybe[str | None] = strawberry.field(description="IANA time zone; null = the server's.")
    notify_in_app: strawberry.Maybe[bool] = strawberry.field(description="In-app notifications.")
    notify_email: strawberry.Maybe[bool] = strawberry.field(description="E-mail notifications.")
    notify_push: strawberry.Maybe[bool] = strawberry.field(description="Push notifications.")


@strawberry.type(description="The session ended.")
class LogoutPayload:
    ok: bool = strawberry.field(description="Always true.")


@strawberry.type(description="The caller's profile after the change.")
class MePayload:
    user: User = strawberry.field(description="The caller.")


@strawberry.type(description="The caller's preferences after the change.")
class SettingsPayload:
    settings: UserSettings = strawberry.field(description="The preferences.")


RegisterResult = Annotated[
    AuthPayload | ValidationError | PermissionDeniedError,
    strawberry.union("RegisterResult", description="A signed-in new account, or why not."),
]
LoginResult = Annotated[
    AuthPayload | InvalidCredentialsError,
    strawberry.union("LoginResult", description="A signed-in session, or invalid credentials."),
]
RefreshTokenResult = Annotated[
    AuthPayload | InvalidCredentialsError,
    strawberry.union("RefreshTokenResult", description="A new token pair, or an invalid refresh token."),
]
ChangePasswordResult = Annotated[
    AuthPayload | ValidationError | NotFoundError,
    strawberry.union("ChangePasswordResult", description="New tokens (all others are revoked), or why not."),
]
UpdateMeResult = Annotated[
    MePayload | ValidationError | NotFoundError,
    strawberry.union("UpdateMeResult", description="The updated profile, or why not."),
]
UpdateMySettingsResult = Annotated[
    SettingsPayload | ValidationError,
    strawberry.union("UpdateMySettingsResult", description="The updated preferences, or why not."),
]


@strawberry.type
class AuthMutation:
    @mutation(description="Create a STUDENT account and sign in (when self-registration is enabled).")
    async def register(self, info: Info, input: RegisterInput) -> RegisterResult:
        context = info.context
        issued = await auth.register(
            context.require_session(), context.settings, **values(input), client_ip=context.meta.client_ip
        )
        await info.context.sign_in(issued.access_token)
        return AuthPayload.from_tokens(issued)

    @mutation(description="Sign in with e-mail and password. Failed attempts are throttled per account and per IP.")
    async def login(self, info: Info, input: LoginInput) -> LoginResult:
        context = info.context
        issued = await auth.login(
            context.require_session(), context.settings, **values(input), client_ip=context.meta.client_ip
        )
        await info.context.sign_in(issued.access_token)
        return AuthPayload.from_tokens(issued)

    @mutation(
        description="Exchange a refresh token for a new pair. A spent token presented again revokes its whole family."
    )
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> RefreshTokenResult:
        issued = await auth.refresh(info.context.require_session(), info.context.settings, **values(input))
        await info.context.sign_in(issued.access_token)
        return AuthPayload.from_tokens(issued)

    @mutation(description="Sign out this session or every session.", permission=permissions.authenticated())
    async def logout(self, info: Info, input: LogoutInput) -> LogoutPayload:
        await auth.logout(
            info.context.require_session(),
            info.context.require_principal(),
            refresh_token=input.refresh_token,
            everywhere=input.everywhere,
        )
        return LogoutPayload(ok=True)

    @mutation(description="Edit the caller's own profile.", permission=permissions.authenticated())
    async def update_me(self, info: Info, input: UpdateMeInput) -> UpdateMeResult:
        row = await auth.update_me(
            info.context.require_session(), info.context.require_principal(), changes=values(input)
        )
        return MePayload(user=User.from_model(row))

    @mutation(
        description="Change the caller's password; every other session is signed out.",
        permission=permissions.authenticated(),
    )
    async def change_password(self, info: Info, input: ChangePasswordInput) -> ChangePasswordResult:
        issued = await auth.change_password(
            info.context.require_session(),
            info.context.settings,
            info.context.require_principal(),
            current_password=input.current_password,
            new_password=input.new_password,
        )
        await info.context.sign_in(issued.access_token)
        return AuthPayload.from_tokens(issued)

    @mutation(description="Change the caller's preferences.", permission=permissions.authenticated())
    async def update_my_settings(self, info: Info, input: UpdateMySettingsInput) -> UpdateMySettingsResult:
        row = await auth.update_settings(
            info.context.require_session(),
            info.context.settings,
            info.context.require_principal(),
            changes=values(input),
        )
        return SettingsPayload(settings=UserSettings.from_model(row))
