"""Read fields for maintenance; scope is applied in the SQL."""

from __future__ import annotations

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.maintenance.types import MaintenancePlan, MaintenanceRecord, MaintenanceRequest
from graphql_api.db import models
from graphql_api.services import maintenance

MANAGERS = permissions.roles(models.Role.SUPERVISOR, models.Role.ADMIN, models.Role.ADMIN_GENERAL)


@strawberry.type
class MaintenanceQuery:
    maintenance_request = by_id_field(
        MaintenanceRequest,
        description="One maintenance request by ID, if the caller may see it.",
        permission=permissions.authenticated(),
    )
    # Each row comes with its environment (visible whenever the request is): nested
    # `environment` costs no statement.
    maintenance_requests = list_field(
        MaintenanceRequest,
        description="Maintenance requests of the environments in the caller's scope, newest first.",
        filters=maintenance.REQUEST_FILTERS,
        ordering=maintenance.REQUEST_ORDER,
        permission=permissions.authenticated(),
        join=("environment",),
    )
    maintenance_history = list_field(
        MaintenanceRecord,
        description="Maintenance history of the environments in the caller's scope, newest work first.",
        filters=maintenance.RECORD_FILTERS,
        ordering=maintenance.RECORD_ORDER,
        permission=permissions.authenticated(),
        join=("environment",),
    )
    maintenance_plans = list_field(
        MaintenancePlan,
        description="Maintenance plans of the items the caller manages.",
        filters=maintenance.PLAN_FILTERS,
        ordering=maintenance.PLAN_ORDER,
        permission=MANAGERS,
    )
