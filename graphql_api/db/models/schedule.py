"""Recurring class slots of an environment (who teaches what, when), the source of an
instructor's extra scope and of the daily inventory checks.

A room holds one class at a time: an exclusion constraint refuses two active slots of one
environment that overlap in weekday, time and validity, so two concurrent creations cannot
both succeed. Times are half-open (a class ending at 10:00 does not overlap one starting then).
"""

from __future__ import annotations

import uuid
from datetime import date, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.db.base import Base, IdMixin, TimestampMixin

MAX_STUDENTS = 1000
# The slot's time of day as a range (a day is arbitrary: only the times are compared).
SLOT_TIMES = "tsrange(DATE '2000-01-01' + start_time, DATE '2000-01-01' + end_time)"
SLOT_DATES = "daterange(valid_from, valid_until, '[]')"
WEEK_MINUTE = "(weekday - 1) * 1440 + (EXTRACT(EPOCH FROM start_time) / 60)::integer"


class Schedule(IdMixin, TimestampMixin, Base):
    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("valid_until >= valid_from", name="valid_range"),
        CheckConstraint(f"student_count BETWEEN 0 AND {MAX_STUDENTS}", name="student_count_range"),
        ExcludeConstraint(
            ("environment_id", "="),
            ("weekday", "="),
            (text(SLOT_TIMES), "&&"),
            (text(SLOT_DATES), "&&"),
            name="ex_schedules_one_class_at_a_time",
            using="gist",
            where=text("is_active"),
        ),
        Index("ix_schedules_instructor_id", "instructor_id"),
        Index("ix_schedules_environment_weekday", "environment_id", "weekday"),
        Index("ix_schedules_week_minute_id", "week_minute", "id"),
    )

    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # ISO weekday: 1 = Monday ... 7 = Sunday.
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    program: Mapped[str] = mapped_column(String(200))
    # The group's number ("ficha").
    group_number: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str | None] = mapped_column(String(200))
    student_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    # The minute of the week the slot starts (Monday 00:00 = 0): lists order by it.
    week_minute: Mapped[int] = mapped_column(Integer, Computed(WEEK_MINUTE, persisted=True))
