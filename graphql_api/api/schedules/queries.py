"""Read fields for class slots; scope is applied in the SQL of each."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from graphql_api.api.core import permissions
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.schedules.types import Schedule
from graphql_api.services.schedules import SCHEDULE_FILTERS, SCHEDULE_ORDER, mine_on


def _today(context: Any) -> Select[Any]:
    return mine_on(context.require_principal(), context.now().date())


@strawberry.type
class ScheduleQuery:
    schedule = by_id_field(
        Schedule, description="One class slot by ID, if the caller may see it.", permission=permissions.authenticated()
    )
    schedules = list_field(
        Schedule,
        description="Class slots of the rooms the caller may see.",
        filters=SCHEDULE_FILTERS,
        ordering=SCHEDULE_ORDER,
        permission=permissions.authenticated(),
        join=("environment", "environment.center"),
    )
    my_schedules_today = list_field(
        Schedule,
        description="Today's classes (in the application's time zone) for the caller: those an instructor "
        "teaches; for anyone else, those of the rooms in scope (a student's room, a supervisor's center).",
        ordering=SCHEDULE_ORDER,
        permission=permissions.authenticated(),
        join=("environment", "environment.center"),
        rows=_today,
    )
