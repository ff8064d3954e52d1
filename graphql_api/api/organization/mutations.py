"""Center and environment administration (ADMIN_GENERAL)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.errors import ConflictError, NotFoundError, ValidationError
from graphql_api.api.core.inputs import ref, values
from graphql_api.api.core.mutation import mutation
from graphql_api.api.organization.types import Center, Environment
from graphql_api.db.models import Role
from graphql_api.services import organization

ADMIN_ONLY = permissions.roles(Role.ADMIN_GENERAL)


@strawberry.input(description="A new training center.")
class CreateCenterInput:
    name: str = strawberry.field(description="Display name (max 100).")
    code: str = strawberry.field(description="Unique short code (max 30).")
    location: str = strawberry.field(description="Address or city (max 200).")
    description: str | None = strawberry.field(default=None, description="Free text.")


@strawberry.input(description="Changes to a center; omitted fields stay as they are.")
class UpdateCenterInput:
    id: strawberry.ID = ref("Center", description="The center.")
    name: strawberry.Maybe[str] = strawberry.field(description="New name.")
    code: strawberry.Maybe[str] = strawberry.field(description="New unique code.")
    location: strawberry.Maybe[str] = strawberry.field(description="New location.")
    description: strawberry.Maybe[str | None] = strawberry.field(description="New description; null clears it.")


@strawberry.input(description="Identifies a center.")
class CenterIdInput:
    id: strawberry.ID = ref("Center", description="The center.")


@strawberry.type(description="The center after the change.")
class CenterPayload:
    center: Center = strawberry.field(description="The center.")


CenterResult = Annotated[
    CenterPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union("CenterResult", description="A center, or why the change failed."),
]


@strawberry.input(description="A new environment (room or warehouse).")
class CreateEnvironmentInput:
    center_id: strawberry.ID = ref("Center", description="The center it belongs to.")
    name: str = strawberry.field(description="Display name (max 100).")
    code: str = strawberry.field(description="Unique short code (max 30).")
    location: str = strawberry.field(description="Building, floor, room (max 200).")
    capacity: int = strawberry.field(default=30, description="People it holds (0-10000).")
    is_warehouse: bool = strawberry.field(default=False, description="A warehouse lends equipment.")
    description: str | None = strawberry.field(default=None, description="Free text.")


@strawberry.input(description="Changes to an environment; omitted fields stay as they are.")
class UpdateEnvironmentInput:
    id: strawberry.ID = ref("Environment", description="The environment.")
    center_id: strawberry.Maybe[strawberry.ID] = ref("Center", description="Move to another center.")
    name: strawberry.Maybe[str] = strawberry.field(description="New name.")
    code: strawberry.Maybe[str] = strawberry.field(description="New unique code.")
    location: strawberry.Maybe[str] = strawberry.field(description="New location.")
    capacity: strawberry.Maybe[int] = strawberry.field(description="New capacity.")
    is_warehouse: strawberry.Maybe[bool] = strawberry.field(description="Warehouse or room.")
    description: strawberry.Maybe[str | None] = strawberry.field(description="New description; null clears it.")


@strawberry.input(description="Identifies an environment.")
class EnvironmentIdInput:
    id: strawberry.ID = ref("Environment", description="The environment.")


@strawberry.type(description="The environment after the change.")
class EnvironmentPayload:
    environment: Environment = strawberry.field(description="The environment.")


EnvironmentResult = Annotated[
    EnvironmentPayload | ValidationError | NotFoundError | ConflictError,
    strawberry.union("EnvironmentResult", description="An environment, or why the change failed."),
]


@strawberry.type
class OrganizationMutation:
    @mutation(description="Create a training center.", permission=ADMIN_ONLY)
    async def create_center(self, info: Info, input: CreateCenterInput) -> CenterResult:
        row = await organization.create_center(info.context.require_session(), **values(input))
        return CenterPayload(center=Center.from_model(row))

    @mutation(description="Change a center's name, code, location or description.", permission=ADMIN_ONLY)
    async def update_center(self, info: Info, input: UpdateCenterInput) -> CenterResult:
        changes = values(input)
        row = await organization.update_center(info.context.require_session(), changes.pop("id"), **changes)
        return CenterPayload(center=Center.from_model(row))

    @mutation(description="Deactivate a center (it stays for history).", permission=ADMIN_ONLY)
    async def deactivate_center(self, info: Info, input: CenterIdInput) -> CenterResult:
        row = await organization.set_center_active(info.context.require_session(), values(input)["id"], False)
        return CenterPayload(center=Center.from_model(row))

    @mutation(description="Reactivate a deactivated center.", permission=ADMIN_ONLY)
    async def activate_center(self, info: Info, input: CenterIdInput) -> CenterResult:
        row = await organization.set_center_active(info.context.require_session(), values(input)["id"], True)
        return CenterPayload(center=Center.from_model(row))

    @mutation(description="Create an environment (room or warehouse) in a center.", permission=ADMIN_ONLY)
    async def create_environment(self, info: Info, input: CreateEnvironmentInput) -> EnvironmentResult:
        row = await organization.create_environment(info.context.require_session(), **values(input))
        return EnvironmentPayload(environment=Environment.from_model(row))

    @mutation(description="Change an environment.", permission=ADMIN_ONLY)
    async def update_environment(self, info: Info, input: UpdateEnvironmentInput) -> EnvironmentResult:
        changes = values(input)
        row = await organization.update_environment(info.context.require_session(), changes.pop("id"), **changes)
        return EnvironmentPayload(environment=Environment.from_model(row))

    @mutation(description="Deactivate an environment (it stays for history).", permission=ADMIN_ONLY)
    async def deactivate_environment(self, info: Info, input: EnvironmentIdInput) -> EnvironmentResult:
        row = await organization.set_environment_active(info.context.require_session(), values(input)["id"], False)
        return EnvironmentPayload(environment=Environment.from_model(row))

    @mutation(description="Reactivate a deactivated environment.", permission=ADMIN_ONLY)
    async def activate_environment(self, info: Info, input: EnvironmentIdInput) -> EnvironmentResult:
        row = await organization.set_environment_active(info.context.require_session(), values(input)["id"], True)
        return EnvironmentPayload(environment=Environment.from_model(row))
