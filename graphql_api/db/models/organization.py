"""Training centers and their environments (rooms and warehouses)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.db.base import Base, IdMixin, TimestampMixin


class Center(IdMixin, TimestampMixin, Base):
    __tablename__ = "centers"

    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(30), unique=True)
    location: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)


class Environment(IdMixin, TimestampMixin, Base):
    __tablename__ = "environments"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        Index("ix_environments_center_id", "center_id"),
    )

    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centers.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(30), unique=True)
    location: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, server_default="30", default=30)
    description: Mapped[str | None] = mapped_column(Text)
    is_warehouse: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)

    center: Mapped[Center] = relationship(lazy="raise")
