"""User administration (ADMIN_GENERAL): list, create with any role, update, (de)activate."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api import i18n
from graphql_api.auth import passwords
from graphql_api.auth.scope import Principal, user_filter
from graphql_api.db.models import Environment, Language, Role, User, UserSettings
from graphql_api.errors import Conflict, FieldErrors, ValidationFailed
from graphql_api.services import auth, notifications, validation
from graphql_api.services.filtering import AnyOf, Equals, Filters, OrderField, Ordering, Search
from graphql_api.services.queries import flush_unique, get_for_update
from graphql_api.settings import Settings


def visible_users(principal: Principal) -> Select[Any]:
    """The caller, and users whose home environment is in the caller's scope."""
    return select(User).where(user_filter(principal))


USER_FILTERS = Filters(
    "User",
    "Filters for users; all given conditions must hold.",
    {
        "roles": AnyOf(User.role, "Only these roles."),
        "is_active": Equals(User.is_active, "Only active or inactive users."),
        "environment_ids": AnyOf(User.environment_id, "Only users whose home is one of these.", ids="Environment"),
        "search": Search((User.first_name, User.last_name, User.email), "Text in first name, last name or e-mail."),
    },
)
USER_ORDER = Ordering(
    "User",
    {
        "LAST_NAME": OrderField(User.last_name, "By family name."),
        "EMAIL": OrderField(User.email, "By e-mail."),
        "CREATED_AT": OrderField(User.created_at, "By creation time."),
    },
    default="LAST_NAME",
    id_column=User.id,
)


async def _check_home(session: AsyncSession, errors: FieldErrors, role: Role, environment_id: uuid.UUID | None) -> None:
    environment = await session.get(Environment, environment_id) if environment_id else None
    if environment_id is not None and environment is None:
        errors.add("environmentId", "field.not_found")
        return
    if role is Role.ADMIN and (environment is None or not environment.is_warehouse):
        errors.add("environmentId", "field.must_be_warehouse")


async def create_user(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    role: Role,
    first_name: str,
    last_name: str,
    environment_id: uuid.UUID | None = None,
    phone: str | None = None,
    program: str | None = None,
    ficha: str | None = None,
) -> User:
    errors = FieldErrors()
    clean_email = validation.email(errors, "email", email)
    passwords.check_password_rules(password, errors)
    first = validation.required_text(errors, "firstName", first_name, max_len=100)
    last = validation.required_text(errors, "lastName", last_name, max_len=100)
    clean_phone = validation.text(errors, "phone", phone, max_len=30)
    clean_program = validation.text(errors, "program", program, max_len=100)
    clean_ficha = validation.text(errors, "ficha", ficha, max_len=20)
    await _check_home(session, errors, role, environment_id)
    errors.raise_if_any()
    user = User(
        email=clean_email,
        password_hash=await passwords.hash_password(password, settings.bcrypt_rounds),
        role=role,
        first_name=first,
        last_name=last,
        environment_id=environment_id,
        phone=clean_phone,
        program=clean_program,
        ficha=clean_ficha,
    )
    session.add(user)
    await flush_unique(session, {"uq_users_email": ("email", "field.email_taken")})
    session.add(UserSettings(user_id=user.id, language=Language(settings.default_language.upper())))
    await session.flush()
    return user


_UNSET = object()


async def update_user(
    session: AsyncSession,
    actor: Principal,
    user_id: uuid.UUID,
    *,
    changes: dict[str, object],
) -> User:
    """Change role, home environment or profile. A role or environment change revokes the
    user's tokens, because both change what the user may see."""
    user = await get_for_update(session, User, user_id, "user")
    errors = FieldErrors()
    role = changes.get("role", user.role)
    assert isinstance(role, Role)
    environment_id = changes.get("environment_id", user.environment_id)
    assert environment_id is None or isinstance(environment_id, uuid.UUID)
    if user.id == actor.id and role is not user.role:
        errors.add("role", "field.cannot_change_own")
    if "role" in changes or "environment_id" in changes:
        await _check_home(session, errors, role, environment_id)
    limits = {
        "first_name": ("firstName", 100),
        "last_name": ("lastName", 100),
        "phone": ("phone", 30),
        "program": ("program", 100),
        "ficha": ("ficha", 20),
    }
    profile: dict[str, str | None] = {}
    for attr, (field, max_len) in limits.items():
        if attr in changes:
            value = changes[attr]
            profile[attr] = validation.text(
                errors,
                field,
                value if isinstance(value, str) else None,
                max_len=max_len,
                required=attr in {"first_name", "last_name"},
            )
    errors.raise_if_any()
    if role is not user.role or environment_id != user.environment_id:
        await auth.revoke_all_tokens(session, user)
        await _notify_access_changed(session, user, role, environment_id)
    user.role = role
    user.environment_id = environment_id
    for attr, value in profile.items():
        setattr(user, attr, value)
    await session.flush()
    return user


async def _notify_access_changed(
    session: AsyncSession, user: User, role: Role, environment_id: uuid.UUID | None
) -> None:
    """The user learns what changed (and why they must sign in again)."""
    if role is not user.role:
        await notifications.notify(
            session, [user.id], "user.role_changed", params={"role": role.value}, subject=("User", user.id)
        )
    if environment_id != user.environment_id:
        name = await session.scalar(select(Environment.name).where(Environment.id == environment_id))
        kind = "user.environment_changed" if name is not None else "user.environment_cleared"
        params = {"environment": name} if name is not None else {}
        await notifications.notify(session, [user.id], kind, params=params, subject=("User", user.id))


i18n.register(
    {
        "es": {
            "notification.user.role_changed.title": "Tu rol cambió",
            "notification.user.role_changed.body": (
                "Un administrador cambió tu rol a {role}. Inicia sesión de nuevo para continuar."
            ),
            "notification.user.environment_changed.title": "Tu ambiente cambió",
            "notification.user.environment_changed.body": (
                "Un administrador cambió tu ambiente a {environment}. Inicia sesión de nuevo para continuar."
            ),
            "notification.user.environment_cleared.title": "Ya no tienes ambiente",
            "notification.user.environment_cleared.body": (
                "Un administrador quitó tu ambiente. Inicia sesión de nuevo para continuar."
            ),
        },
        "en": {
            "notification.user.role_changed.title": "Your role changed",
            "notification.user.role_changed.body": (
                "An administrator changed your role to {role}. Sign in again to continue."
            ),
            "notification.user.environment_changed.title": "Your environment changed",
            "notification.user.environment_changed.body": (
                "An administrator changed your environment to {environment}. Sign in again to continue."
            ),
            "notification.user.environment_cleared.title": "You no longer have an environment",
            "notification.user.environment_cleared.body": (
                "An administrator removed your environment. Sign in again to continue."
            ),
        },
    }
)


async def set_active(session: AsyncSession, actor: Principal, user_id: uuid.UUID, *, active: bool) -> User:
    user = await get_for_update(session, User, user_id, "user")
    if user.id == actor.id and not active:
        raise ValidationFailed.single("id", "field.cannot_change_own")
    if user.is_active == active:
        raise Conflict("error.already_in_state")
    user.is_active = active
    if not active:
        await auth.revoke_all_tokens(session, user)
    await session.flush()
    return user
