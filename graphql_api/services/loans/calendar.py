"""The local calendar of loans: "today" and due dates are days in APP_TIMEZONE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from graphql_api.settings import Settings


@dataclass(frozen=True, slots=True)
class Calendar:
    """A moment and the time zone its local day is read in. The API passes the clock's; the
    periodic job its own `now`; the demo a past one (to write a history)."""

    timezone: ZoneInfo
    now: datetime

    @classmethod
    def of(cls, settings: Settings, now: datetime | None = None) -> Calendar:
        return cls(settings.timezone, now or datetime.now(UTC))

    @property
    def today(self) -> date:
        return self.now.astimezone(self.timezone).date()

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()
