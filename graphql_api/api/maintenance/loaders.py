"""What the maintenance domain loads by key."""

from __future__ import annotations

import uuid
from typing import Any, Generic

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from strawberry.dataloader import DataLoader

from graphql_api.api.core.database import RequestDatabase
from graphql_api.api.core.loaders import ById, Children, LoaderKey, M, Visible
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal, ScopedStatement
from graphql_api.db import models, reads
from graphql_api.services import maintenance

_IDS = ARRAY(UUID(as_uuid=True))


class ByUniqueColumn(LoaderKey[uuid.UUID, M | None], Generic[M]):
    """The one `model` row (among those `visible(principal)` selects) whose unique `column`
    holds the key: an item's plan, a request's history record. Like `ById`, compiled once per
    scope shape and read without the ORM."""

    def __init__(self, model: type[M], column: Any, visible: Visible) -> None:
        self.row_class = reads.row_class(model)
        self._column_name = column.key
        self._statement = ScopedStatement(
            lambda principal, _: (
                visible(_caller(principal))
                .with_only_columns(*reads.model_columns(model))
                .where(column == any_(bindparam("keys", type_=_IDS)))
            )
        )

    def make(self, db: RequestDatabase, principal: Principal) -> DataLoader[uuid.UUID, M | None]:
        compiled = self._statement.compiled(principal)
        params = scope.parameters(principal)
        row_class, column = self.row_class, self._column_name

        async def load(keys: list[uuid.UUID]) -> list[M | None]:
            records = await db.fetch(compiled, {**params, "keys": keys})
            found = {getattr(row, column): row for row in reads.rows(records, compiled, row_class)}
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)


def _caller(principal: Principal | None) -> Principal:
    assert principal is not None, "scoped loaders always have a caller"
    return principal


REQUEST_BY_ID = ById(models.MaintenanceRequest, maintenance.visible_requests)
RECORD_BY_ID = ById(models.MaintenanceRecord, maintenance.visible_records)
PLAN_BY_ID = ById(models.MaintenancePlan, maintenance.visible_plans)
# An item's requests and records are in its environment, so visible whenever the item is.
REQUESTS_OF_ITEM = Children(
    models.MaintenanceRequest,
    models.MaintenanceRequest.item_id,
    maintenance.visible_requests,
    maintenance.REQUEST_ORDER,
)
RECORDS_OF_ITEM = Children(
    models.MaintenanceRecord,
    models.MaintenanceRecord.item_id,
    maintenance.visible_records,
    maintenance.RECORD_ORDER,
)
PLAN_OF_ITEM = ByUniqueColumn(models.MaintenancePlan, models.MaintenancePlan.item_id, maintenance.visible_plans)
RECORD_OF_REQUEST = ByUniqueColumn(
    models.MaintenanceRecord, models.MaintenanceRecord.request_id, maintenance.visible_records
)
