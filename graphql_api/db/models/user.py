"""Accounts, their settings and the server-side state of authentication."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.db.base import Base, IdMixin, TimestampMixin, str_enum
from graphql_api.db.models.enums import Language, Role, Theme
from graphql_api.db.models.organization import Environment


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_environment_id", "environment_id"),)

    # Stored lower-cased; uniqueness is therefore case-insensitive.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    # Never read by the hot read paths (graphql_api.db.reads skips `secret` columns).
    password_hash: Mapped[str] = mapped_column(String(100), info={"secret": True})
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    program: Mapped[str | None] = mapped_column(String(100))
    ficha: Mapped[str | None] = mapped_column(String(20))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    environment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on deactivation, role change and password change: every token carrying an
    # older value stops working at once.
    token_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    environment: Mapped[Environment | None] = relationship(lazy="raise")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class UserSettings(TimestampMixin, Base):
    __tablename__ = "user_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    language: Mapped[Language] = mapped_column(
        str_enum(Language, "language", 2), server_default="ES", default=Language.ES
    )
    theme: Mapped[Theme] = mapped_column(str_enum(Theme, "theme", 10), server_default="SYSTEM", default=Theme.SYSTEM)
    timezone: Mapped[str | None] = mapped_column(String(64))
    notify_in_app: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    notify_email: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    notify_push: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)


class RefreshToken(IdMixin, Base):
    """One issued refresh token; only its SHA-256 is stored.

    Tokens of one login form a family: each refresh spends the presented token and issues the
    next one. Presenting a spent token means it was stolen or replayed, so the family dies.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_user_id", "user_id"),
        Index("ix_refresh_tokens_family_id", "family_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Attempt counters (see `graphql_api.services.throttle`): failed logins keyed by
    `pair:<address>|<email>`, `ip:<address>` or `account:<email>`, registrations by
    `register:<address>`.

    Kept in PostgreSQL, not in process memory, so the limits hold across workers and hosts.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # On a `pair:` key: the last sign-in from that address, which makes it known to the account.
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
