"""Schedules: the recurring class slots of the rooms."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.schedules.mutations import ScheduleMutation
from graphql_api.api.schedules.queries import ScheduleQuery
from graphql_api.api.schedules.types import EnvironmentSchedules, Schedule

DOMAIN = Domain(
    name="schedules",
    query=ScheduleQuery,
    mutation=ScheduleMutation,
    types=(Schedule,),
    extends=(EnvironmentSchedules,),
)
