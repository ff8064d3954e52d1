"""Centers and environments as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphql_api.api.core.lists import children_field
from graphql_api.api.core.relay import Node
from graphql_api.api.core.types import ModelObject, Relation, model_type
from graphql_api.api.organization.loaders import CENTER_BY_ID, ENVIRONMENT_BY_ID, ENVIRONMENTS_OF_CENTER
from graphql_api.db import models


@model_type(models.Center, loader=CENTER_BY_ID, description="A training center; it groups environments.")
class Center(Node, ModelObject):
    _model: strawberry.Private[models.Center]
    name: str = strawberry.field(description="Display name.")
    code: str = strawberry.field(description="Short unique code, e.g. `CGMLTI`.")
    location: str = strawberry.field(description="Address or city.")
    description: str | None = strawberry.field(description="Free text.")
    is_active: bool = strawberry.field(description="Inactive centers are kept for history.")
    created_at: datetime = strawberry.field(description="When the center was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    environments = children_field(
        ENVIRONMENTS_OF_CENTER,
        "Environment",
        __name__,
        description="Environments of this center that the caller may see.",
    )


@model_type(
    models.Environment,
    loader=ENVIRONMENT_BY_ID,
    description="A training room or a warehouse; every item belongs to one.",
    related={"center": Relation(CENTER_BY_ID, "center_id", lambda: Center)},
)
class Environment(Node, ModelObject):
    _model: strawberry.Private[models.Environment]
    name: str = strawberry.field(description="Display name.")
    code: str = strawberry.field(description="Short unique code.")
    location: str = strawberry.field(description="Building, floor, room number.")
    capacity: int = strawberry.field(description="Number of people the room holds.")
    description: str | None = strawberry.field(description="Free text.")
    is_warehouse: bool = strawberry.field(description="Warehouses are the sources of loans.")
    is_active: bool = strawberry.field(description="Inactive environments are kept for history.")
    created_at: datetime = strawberry.field(description="When the environment was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    center: Center = strawberry.field(description="The center this environment belongs to.")
