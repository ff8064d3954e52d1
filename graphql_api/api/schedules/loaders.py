"""What the schedules domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById, Children
from graphql_api.db import models
from graphql_api.services import schedules

SCHEDULE_BY_ID = ById(models.Schedule, schedules.visible_schedules)
SCHEDULES_OF_ENVIRONMENT = Children(
    models.Schedule, models.Schedule.environment_id, schedules.visible_schedules, schedules.SCHEDULE_ORDER
)
