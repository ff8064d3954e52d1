"""Read fields for centers and environments; scope is applied in the SQL of each."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.lists import sort_key
from graphql_api.api.core.pagination import (
    NOT_GIVEN,
    After,
    Before,
    Connection,
    First,
    Last,
    NodeIdArg,
    PageArgs,
    connection,
)
from graphql_api.api.core.relay import decode_id, filter_ids
from graphql_api.api.enums import SortDirection
from graphql_api.api.organization.types import Center, Environment
from graphql_api.db import models
from graphql_api.services import organization


@strawberry.enum(description="Fields centers can be sorted by.")
class CenterOrderField(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="By name.")
    CODE = strawberry.enum_value("CODE", description="By code.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="By creation time.")


@strawberry.input(description="Ordering of a centers list.")
class CenterOrder:
    field: CenterOrderField = strawberry.field(description="Sort field.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Direction.")


@strawberry.input(description="Filters for centers; all given conditions must hold.")
class CenterWhere:
    search: str | None = strawberry.field(default=None, description="Text in name or code.")
    is_active: bool | None = strawberry.field(default=None, description="Only active (true) or inactive (false).")


@strawberry.enum(description="Fields environments can be sorted by.")
class EnvironmentOrderField(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="By name.")
    CODE = strawberry.enum_value("CODE", description="By code.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="By creation time.")


@strawberry.input(description="Ordering of an environments list.")
class EnvironmentOrder:
    field: EnvironmentOrderField = strawberry.field(description="Sort field.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Direction.")


@strawberry.input(description="Filters for environments; all given conditions must hold.")
class EnvironmentWhere:
    center_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only these centers.")
    is_warehouse: bool | None = strawberry.field(default=None, description="Only warehouses (true) or rooms (false).")
    is_active: bool | None = strawberry.field(default=None, description="Only active or inactive ones.")
    search: str | None = strawberry.field(default=None, description="Text in name, code or location.")


_CENTER_COLUMNS = {
    CenterOrderField.NAME: models.Center.name,
    CenterOrderField.CODE: models.Center.code,
    CenterOrderField.CREATED_AT: models.Center.created_at,
}
_ENVIRONMENT_COLUMNS = {
    EnvironmentOrderField.NAME: models.Environment.name,
    EnvironmentOrderField.CODE: models.Environment.code,
    EnvironmentOrderField.CREATED_AT: models.Environment.created_at,
}


def environment_connection(
    info: Info,
    where: organization.EnvironmentFilter | None,
    order: EnvironmentOrder | None,
    args: PageArgs,
) -> Connection[Environment]:
    order = order or EnvironmentOrder(field=EnvironmentOrderField.NAME)
    stmt = organization.environments_query(info.context.require_principal(), where)
    key = sort_key(
        f"environment:{order.field.value}", _ENVIRONMENT_COLUMNS[order.field], models.Environment.id, order.direction
    )
    return connection(info.context, stmt, key, args, Environment.from_model)


@strawberry.type
class OrganizationQuery:
    @strawberry.field(description="One center by ID, if the caller may see it.", extensions=permissions.authenticated())
    async def center(self, info: Info, id: NodeIdArg) -> Center | None:
        pk = decode_id(id, "Center")
        row = await info.context.loaders.center_by_id.load(pk) if pk else None
        return Center.from_model(row) if row else None

    @strawberry.field(description="Centers the caller may see.", extensions=permissions.authenticated())
    def centers(
        self,
        info: Info,
        where: Annotated[CenterWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[CenterOrder | None, strawberry.argument(description="Ordering (default: name).")] = None,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[Center]:
        order = order_by or CenterOrder(field=CenterOrderField.NAME)
        stmt = organization.centers_query(
            info.context.require_principal(),
            organization.CenterFilter(search=where.search, is_active=where.is_active) if where else None,
        )
        key = sort_key(f"center:{order.field.value}", _CENTER_COLUMNS[order.field], models.Center.id, order.direction)
        return connection(info.context, stmt, key, PageArgs(first, after, last, before), Center.from_model)

    @strawberry.field(
        description="One environment by ID, if the caller may see it.", extensions=permissions.authenticated()
    )
    async def environment(self, info: Info, id: NodeIdArg) -> Environment | None:
        pk = decode_id(id, "Environment")
        row = await info.context.loaders.environment_by_id.load(pk) if pk else None
        return Environment.from_model(row) if row else None

    @strawberry.field(
        description="Environments (rooms and warehouses) the caller may see.", extensions=permissions.authenticated()
    )
    def environments(
        self,
        info: Info,
        where: Annotated[EnvironmentWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[
            EnvironmentOrder | None, strawberry.argument(description="Ordering (default: name).")
        ] = None,
        first: First = NOT_GIVEN,
        after: After = NOT_GIVEN,
        last: Last = NOT_GIVEN,
        before: Before = NOT_GIVEN,
    ) -> Connection[Environment]:
        filters = None
        if where is not None:
            filters = organization.EnvironmentFilter(
                center_ids=filter_ids(where.center_ids, "Center"),
                is_warehouse=where.is_warehouse,
                is_active=where.is_active,
                search=where.search,
            )
        return environment_connection(info, filters, order_by, PageArgs(first, after, last, before))
