"""Centers and environments as GraphQL types."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from graphql_api.api.core.context import Info
from graphql_api.api.core.loaders import related
from graphql_api.api.core.pagination import NOT_GIVEN, After, Before, Connection, First, Last, PageArgs
from graphql_api.api.core.relay import Node, encode_id
from graphql_api.db import models


@strawberry.type(description="A training center; it groups environments.")
class Center(Node):
    _model: strawberry.Private[models.Center]
    name: str = strawberry.field(description="Display name.")
    code: str = strawberry.field(description="Short unique code, e.g. `CGMLTI`.")
    location: str = strawberry.field(description="Address or city.")
    description: str | None = strawberry.field(description="Free text.")
    is_active: bool = strawberry.field(description="Inactive centers are kept for history.")
    created_at: datetime = strawberry.field(description="When the center was created.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_model(cls, row: models.Center) -> Center:
        return cls(
            _model=row,
            id=encode_id("Center", row.id),
            name=row.name,
            code=row.code,
            location=row.location,
            description=row.description,
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Environments of this center that the caller may see.")
    async def environments(
        self,
        info: Info,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[Environment]:
        from graphql_api.api.organization.queries import environment_connection
        from graphql_api.services.organization import EnvironmentFilter

        return environment_connection(
            info,
            EnvironmentFilter(center_ids=[self._model.id]),
            None,
            PageArgs(first, after, last, before),
        )


@strawberry.type(description="A training room or a warehouse; every item belongs to one.")
class Environment(Node):
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
    # A plain field (no resolver): the Center, or a Deferred of it (loaders.related).
    center: Center = strawberry.field(description="The center this environment belongs to.")

    @classmethod
    def from_model(cls, row: models.Environment) -> Environment:
        return cls(
            _model=row,
            id=encode_id("Environment", row.id),
            name=row.name,
            code=row.code,
            location=row.location,
            capacity=row.capacity,
            description=row.description,
            is_warehouse=row.is_warehouse,
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            center=related("center_by_id", row.center_id, Center.from_model),
        )

    @property
    def pk(self) -> uuid.UUID:
        return self._model.id
