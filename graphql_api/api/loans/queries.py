"""Read fields for loans (SPEC §4: the requester their own, ADMIN their warehouse's,
SUPERVISOR the loans to instructors of their center, ADMIN_GENERAL all); scope is applied in
the SQL."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graphql_api.api.core import permissions
from graphql_api.api.core.context import Info
from graphql_api.api.core.cost import list_size
from graphql_api.api.core.lists import by_id_field, list_field
from graphql_api.api.core.relay import decode_id, encode_id
from graphql_api.api.items.types import InventoryItem
from graphql_api.api.loans.types import ItemAvailability, Loan
from graphql_api.db import models
from graphql_api.services import loans as service

READERS = permissions.roles(
    models.Role.INSTRUCTOR, models.Role.SUPERVISOR, models.Role.ADMIN, models.Role.ADMIN_GENERAL
)


def _availability(item_id: strawberry.ID, found: service.Availability | None) -> ItemAvailability | None:
    if found is None:
        return None
    return ItemAvailability(
        id=item_id,
        item=InventoryItem.from_model(found.item),
        from_=found.start,
        to=found.end,
        lendable=found.lendable,
        reserved=found.reserved,
        free=found.free,
        conflicts=[Loan.from_model(loan) for loan in found.conflicts],
    )


@strawberry.type
class LoanQuery:
    loan = by_id_field(Loan, description="One loan by ID, if the caller may see it.", permission=READERS)
    # Each page row comes with its warehouse and requester (both visible whenever the loan
    # is): nested `warehouse` and `requester` cost no statement.
    loans = list_field(
        Loan,
        description="Loans the caller may see, filtered and ordered (newest first by default).",
        filters=service.LOAN_FILTERS,
        ordering=service.LOAN_ORDER,
        permission=READERS,
        join=("warehouse", "requester"),
    )
    my_loans = list_field(
        Loan,
        description="The caller's own loan requests, newest first by default.",
        filters=service.MY_LOAN_FILTERS,
        ordering=service.MY_LOAN_ORDER,
        permission=READERS,
        join=("warehouse",),
        rows=lambda context: service.own_loans(context.require_principal()),
    )

    @strawberry.field(
        description=(
            "Per item, the units free to lend on every day of a range and the loans holding the others: what to"
            f" check before requesting or approving. At most {service.MAX_ITEMS} items and {service.MAX_RANGE_DAYS} days;"
            " items the caller may not see are null."
        ),
        extensions=READERS,
        metadata=list_size("itemIds"),
    )
    async def item_availability(
        self,
        info: Info,
        item_ids: Annotated[list[strawberry.ID], strawberry.argument(description="The items, by global ID.")],
        from_: Annotated[
            date | None, strawberry.argument(name="from", description="First day of the range (default: today).")
        ] = None,
        to: Annotated[date | None, strawberry.argument(description="Last day of the range (default: `from`).")] = None,
    ) -> list[ItemAvailability | None]:
        context = info.context
        today = service.Calendar.of(context.settings).today
        start = from_ or today
        wanted = [decode_id(value, "InventoryItem") for value in item_ids]
        async with context.db() as session:
            found = await service.item_availability(
                session,
                context.require_principal(),
                [pk for pk in wanted if pk is not None],
                start,
                to or start,
                today=today,
            )
        return [
            _availability(encode_id("InventoryItem", pk), found.get(pk)) if pk is not None else None for pk in wanted
        ]
