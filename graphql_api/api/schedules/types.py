"""Class slots as GraphQL types, and the rooms' `schedules`."""

from __future__ import annotations

from datetime import date, datetime, time

import strawberry

from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, extends, model_type
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.api.organization.types import Environment
from graphql_api.api.schedules.loaders import SCHEDULE_BY_ID, SCHEDULES_OF_ENVIRONMENT
from graphql_api.api.users.loaders import USER_BY_ID
from graphql_api.api.users.types import User
from graphql_api.db import models


@model_type(
    models.Schedule,
    loader=SCHEDULE_BY_ID,
    description="A recurring class slot of a room: who teaches what, on which weekday, at what time, "
    "between which dates. Its checks are the room's daily inventory checks.",
    related={
        "environment": Relation(ENVIRONMENT_BY_ID, "environment_id", lambda: Environment),
        "instructor": Relation(USER_BY_ID, "instructor_id", lambda: User, required=False),
    },
)
class Schedule(Node, ModelObject):
    _model: strawberry.Private[models.Schedule]
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday ... 7 = Sunday.")
    start_time: time = strawberry.field(description="Start, local time of the application's zone.")
    end_time: time = strawberry.field(description="End (after the start); a slot ending at 10:00 leaves 10:00 free.")
    valid_from: date = strawberry.field(description="First date the slot takes place on.")
    valid_until: date = strawberry.field(description="Last date the slot takes place on.")
    program: str = strawberry.field(description="The training program.")
    group_number: str = strawberry.field(description='The group number ("ficha").')
    topic: str | None = strawberry.field(description="What the class is about.")
    student_count: int = strawberry.field(description="Number of students in the group.")
    is_active: bool = strawberry.field(description="Deactivated slots are kept for the history of their checks.")
    created_at: datetime = strawberry.field(description="When the slot was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    environment: Environment = strawberry.field(description="The room.")
    instructor: User | None = strawberry.field(description="Who teaches it, if the caller may see that user.")


@extends("Environment")
class EnvironmentSchedules:
    schedules = children_field(
        SCHEDULES_OF_ENVIRONMENT,
        "Schedule",
        __name__,
        description="The room's class slots, by weekday and start time.",
    )
