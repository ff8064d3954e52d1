"""Accounts of the caller: register, login, token refresh and logout, own profile and settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth import passwords, tokens
from graphql_api.auth.scope import Principal
from graphql_api.db import reads
from graphql_api.db.models import Environment, Language, RefreshToken, Role, Theme, User, UserSettings
from graphql_api.errors import (
    FieldErrors,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from graphql_api.services import audit, events, throttle, validation
from graphql_api.services.queries import raise_for_unique
from graphql_api.services.unit_of_work import on_failure
from graphql_api.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime
    user: User


def _principal_statement() -> Select[Any]:
    return (
        select(
            *reads.model_columns(User),
            Environment.center_id.label("home_center_id"),
            UserSettings.language.label("settings_language"),
        )
        .outerjoin(Environment, Environment.id == User.environment_id)
        .outerjoin(UserSettings, UserSettings.user_id == User.id)
        .where(User.id == bindparam("user_id"))
    )


_PRINCIPAL = reads.Prepared(_principal_statement)
USER_ROW = reads.row_class(User)
_USER_COLUMNS = len(reads.model_columns(User))


async def load_principal(reader: reads.Reader, claims: tokens.AccessClaims) -> tuple[Principal, Any] | None:
    """The caller behind a decoded access token and their user row (a `reads` row), or None
    when the token has been revoked. One statement, run on every authenticated request."""
    compiled = _PRINCIPAL.compiled()
    records = await reader.fetch(compiled, {"user_id": claims.user_id})
    if not records:
        return None
    values = reads.converted(records[0], compiled)
    user = USER_ROW(*values[:_USER_COLUMNS])
    if not user.is_active or user.token_version != claims.token_version:
        return None
    center_id, language = values[_USER_COLUMNS:]
    principal = Principal(
        id=user.id,
        role=user.role,
        environment_id=user.environment_id,
        center_id=center_id,
        language=language.value.lower() if language else "",
        token_version=user.token_version,
    )
    return principal, user


async def _issue(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    now = datetime.now(UTC)
    access, access_expires = tokens.issue_access_token(
        settings, user_id=user.id, role=user.role, token_version=user.token_version, now=now
    )
    refresh = tokens.new_refresh_token()
    refresh_expires = now + timedelta(seconds=settings.refresh_token_ttl_seconds)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=tokens.hash_refresh_token(refresh),
            token_version=user.token_version,
            expires_at=refresh_expires,
        )
    )
    await session.flush()
    return IssuedTokens(access, access_expires, refresh, refresh_expires, user)


async def register(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    program: str | None = None,
    ficha: str | None = None,
    language: Language | None = None,
    client_ip: str | None = None,
) -> IssuedTokens:
    """Create a STUDENT account (never any other role) and sign it in.

    EMAIL_TAKEN stays a distinct answer (a real user must learn the e-mail is in use), so
    listing accounts through it is made slow instead: a taken e-mail costs the same bcrypt hash
    as a new one, and registrations are limited per client IP (see `throttle`)."""
    if not settings.allow_self_registration:
        raise PermissionDenied("error.registration_disabled")
    now = datetime.now(UTC)
    keys = throttle.registration_keys(client_ip)
    await throttle.ensure_not_locked(session, keys, settings, now)
    user = _new_student(email, password, first_name, last_name, phone, program, ficha)
    user.password_hash = await passwords.hash_password(password, settings.bcrypt_rounds)

    async def count_registration(count_session: AsyncSession) -> None:
        await throttle.count_registration(count_session, keys, settings, now)

    # Counted whether the e-mail was new or taken (both answer an enumeration probe); on
    # failure the mutation's transaction rolls back, so the count goes in a fresh one.
    on_failure(session, count_registration)
    await _insert_user(session, user)
    await count_registration(session)
    session.add(UserSettings(user_id=user.id, language=language or _default_language(settings)))
    audit.set_actor(session, user.id, user.role)
    return await _issue(session, settings, user)


def _new_student(
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None,
    program: str | None,
    ficha: str | None,
) -> User:
    errors = FieldErrors()
    clean_email = validation.email(errors, "email", email)
    passwords.check_password_rules(password, errors)
    user = User(
        email=clean_email,
        role=Role.STUDENT,
        first_name=validation.required_text(errors, "firstName", first_name, max_len=100),
        last_name=validation.required_text(errors, "lastName", last_name, max_len=100),
        phone=validation.text(errors, "phone", phone, max_len=30),
        program=validation.text(errors, "program", program, max_len=100),
        ficha=validation.text(errors, "ficha", ficha, max_len=20),
    )
    errors.raise_if_any()
    return user


async def _insert_user(session: AsyncSession, user: User) -> None:
    if await session.scalar(select(User.id).where(User.email == user.email)) is not None:
        raise ValidationFailed.single("email", "field.email_taken")
    session.add(user)
    try:
        # A concurrent registration of the same e-mail passes the check above; the unique
        # constraint decides, and the loser gets the same answer as a sequential duplicate.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise_for_unique(error, {"uq_users_email": ("email", "field.email_taken")})


def _default_language(settings: Settings) -> Language:
    return Language(settings.default_language.upper())


async def login(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    client_ip: str | None,
) -> IssuedTokens:
    """Check credentials. Unknown user, wrong password and inactive account all fail alike,
    in the same time. Repeated failures lock this address out of the account, the address out
    of every account, or the account to addresses it has not signed in from (see `throttle`)."""
    now = datetime.now(UTC)
    normalised = email.strip().lower()[:255]
    keys = throttle.throttle_keys(normalised, client_ip)
    audit.note_target(session, entity="users", entity_id=None, email=normalised)
    await throttle.ensure_not_locked(session, keys, settings, now)
    user = await session.scalar(select(User).where(User.email == normalised))
    if user is not None:
        audit.note_target(session, entity="users", entity_id=user.id, email=normalised)
    usable = user is not None and user.is_active
    stored_hash = user.password_hash if usable and user is not None else None
    if not await passwords.verify_password(password, stored_hash, settings.bcrypt_rounds):

        async def count_failure(failure_session: AsyncSession) -> None:
            await throttle.register_failure(failure_session, keys, settings, now)

        on_failure(session, count_failure)
        raise InvalidCredentials()
    assert user is not None
    await throttle.record_success(session, keys, now)
    user.last_login_at = now
    if passwords.needs_rehash(user.password_hash, settings.bcrypt_rounds):
        user.password_hash = await passwords.hash_password(password, settings.bcrypt_rounds)
    audit.set_actor(session, user.id, user.role)
    return await _issue(session, settings, user)


async def refresh(session: AsyncSession, settings: Settings, *, refresh_token: str) -> IssuedTokens:
    """Spend a refresh token for a new pair. A spent token presented again revokes its family."""
    now = datetime.now(UTC)
    row = await session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token))
        .with_for_update()
    )
    if row is None:
        raise InvalidCredentials("error.invalid_refresh_token")
    if row.spent_at is not None or row.revoked_at is not None:
        family = row.family_id

        async def revoke_family(failure_session: AsyncSession) -> None:
            await failure_session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )

        on_failure(session, revoke_family)
        raise InvalidCredentials("error.invalid_refresh_token")
    user = await session.get(User, row.user_id)
    if row.expires_at <= now or user is None or not user.is_active or user.token_version != row.token_version:
        raise InvalidCredentials("error.invalid_refresh_token")
    row.spent_at = now
    audit.set_actor(session, user.id, user.role)
    return await _issue(session, settings, user, family_id=row.family_id)


async def logout(session: AsyncSession, principal: Principal, *, refresh_token: str | None, everywhere: bool) -> None:
    """End this session (its refresh family) or, with `everywhere`, every session of the user."""
    now = datetime.now(UTC)
    if everywhere:
        await _bump_token_version(session, principal.id)
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == principal.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return
    if refresh_token:
        family = await session.scalar(
            select(RefreshToken.family_id).where(
                RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token),
                RefreshToken.user_id == principal.id,
            )
        )
        if family is not None:
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )


async def _bump_token_version(session: AsyncSession, user_id: uuid.UUID) -> None:
    user = await session.get(User, user_id)
    if user is not None:
        user.token_version += 1
        await session.flush()
        events.publish(session, events.SESSIONS_REVOKED, user_ids=[user_id])


async def revoke_all_tokens(session: AsyncSession, user: User) -> None:
    """Invalidate every access and refresh token of `user` (role change, deactivation...); once
    committed, every worker closes the user's open subscriptions."""
    user.token_version += 1
    events.publish(session, events.SESSIONS_REVOKED, user_ids=[user.id])
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def get_own_user(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.id)
    if user is None:
        raise NotFound("user")
    return user


async def change_password(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
) -> IssuedTokens:
    """Replace the password, revoke every other token, and return a fresh pair for this client."""
    user = await get_own_user(session, principal)
    errors = FieldErrors()
    passwords.check_password_rules(new_password, errors, "newPassword")
    if current_password == new_password:
        errors.add("newPassword", "field.same_password")
    errors.raise_if_any()
    if not await passwords.verify_password(current_password, user.password_hash, settings.bcrypt_rounds):
        raise ValidationFailed.single("currentPassword", "field.wrong_password")
    user.password_hash = await passwords.hash_password(new_password, settings.bcrypt_rounds)
    await revoke_all_tokens(session, user)
    await session.flush()
    return await _issue(session, settings, user)


async def update_me(session: AsyncSession, principal: Principal, *, changes: dict[str, str | None]) -> User:
    """Edit the caller's own profile; `changes` holds only the fields the client sent."""
    user = await get_own_user(session, principal)
    errors = FieldErrors()
    # attribute -> (input field, longest text, required)
    limits = {
        "first_name": ("firstName", 100, True),
        "last_name": ("lastName", 100, True),
        "phone": ("phone", 30, False),
        "program": ("program", 100, False),
        "ficha": ("ficha", 20, False),
    }
    for attr, value in changes.items():
        if attr == "avatar_url":
            user.avatar_url = validation.url(errors, "avatarUrl", value)
            continue
        field, max_len, required = limits[attr]
        setattr(user, attr, validation.text(errors, field, value, max_len=max_len, required=required))
    errors.raise_if_any()
    await session.flush()
    return user


async def get_settings(session: AsyncSession, settings: Settings, user_id: uuid.UUID) -> UserSettings:
    row = await session.get(UserSettings, user_id)
    if row is None:
        row = UserSettings(
            user_id=user_id,
            language=_default_language(settings),
            theme=Theme.SYSTEM,
            timezone=None,
            notify_in_app=True,
            notify_email=False,
            notify_push=True,
        )
    return row


async def update_settings(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    *,
    changes: dict[str, object],
) -> UserSettings:
    row = await session.get(UserSettings, principal.id)
    if row is None:
        row = UserSettings(user_id=principal.id, language=_default_language(settings))
        session.add(row)
    errors = FieldErrors()
    for field, value in changes.items():
        if field == "timezone":
            if value is not None:
                try:
                    ZoneInfo(str(value))
                except (ZoneInfoNotFoundError, ValueError):
                    errors.add("timezone", "field.invalid_timezone")
                    continue
            row.timezone = value  # type: ignore[assignment]
        elif value is not None:
            setattr(row, field, value)
        else:
            errors.add(field, "field.required")
    errors.raise_if_any()
    await session.flush()
    return row
