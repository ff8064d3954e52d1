"""Maintenance: requests and their state machine, history, plans, live changes."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.maintenance.mutations import MaintenanceMutation
from graphql_api.api.maintenance.queries import MaintenanceQuery
from graphql_api.api.maintenance.subscriptions import MaintenanceSubscription
from graphql_api.api.maintenance.types import ItemMaintenance, MaintenancePlan, MaintenanceRecord, MaintenanceRequest

DOMAIN = Domain(
    name="maintenance",
    query=MaintenanceQuery,
    mutation=MaintenanceMutation,
    subscription=MaintenanceSubscription,
    types=(MaintenanceRequest, MaintenanceRecord, MaintenancePlan),
    extends=(ItemMaintenance,),
)
