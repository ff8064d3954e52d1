"""Live loans: every change of the loans the subscriber may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from graphql_api.api.core.context import Context, Info
from graphql_api.api.core.relay import require_id
from graphql_api.api.core.subscriptions.feeds import Feed, Shared, subscription
from graphql_api.api.loans.loaders import LOAN_BY_ID
from graphql_api.api.loans.queries import READERS
from graphql_api.api.loans.types import Loan
from graphql_api.api.organization.loaders import ENVIRONMENT_BY_ID
from graphql_api.errors import NotFound
from graphql_api.pubsub.events import Event
from graphql_api.services import loans


async def _loan(context: Context, event: Event) -> Loan | None:
    assert event.subject_id is not None
    row = await context.loaders[LOAN_BY_ID].load(event.subject_id)
    return Loan.from_model(row) if row is not None else None


@strawberry.type
class LoanSubscription:
    @subscription(
        description="Each change of a loan the caller may see (request, every transition), as it is committed; the loan as it is then.",
        permission=READERS,
    )
    async def loan_changed(
        self,
        info: Info,
        warehouse_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only the loans of this warehouse (default: all).")
        ] = None,
    ) -> AsyncGenerator[Loan, None]:
        if warehouse_id is None:
            return Feed(loans.LOAN_CHANGED, matches=lambda event: True, load=_loan, shared=Shared.BY_USER)
        # A warehouse out of scope looks exactly like one that does not exist.
        warehouse = require_id(warehouse_id, "Environment", "warehouseId")
        if await info.context.loaders[ENVIRONMENT_BY_ID].load(warehouse) is None:
            raise NotFound("environment")
        return Feed(
            loans.LOAN_CHANGED,
            matches=lambda event: event.environment_id == warehouse,
            load=_loan,
            shared=Shared.BY_USER,
        )
