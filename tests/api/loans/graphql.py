"""GraphQL documents and calls shared by the loans domain's tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from graphql_api.db import models
from tests.conftest import Actor, GraphQLClient, gid

LOAN_FIELDS = """
    id status quantity purpose priority startDate endDate itemDescription isOverdue
    item { id } warehouse { id } requester { id }
    approvedBy { id } approvedAt rejectedBy { id } rejectedAt rejectionReason cancelledAt
    deliveredBy { id } deliveredAt overdueAt receivedBy { id } returnedAt returnDate
    returnedQuantity returnedDamaged returnedMissing returnNotes createdAt updatedAt
"""
ERROR_FIELDS = """
    ... on Error { __typename code message }
    ... on ValidationError { fieldErrors { field code message } }
"""
MUTATIONS = {
    name: f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename ... on LoanPayload {{ loan {{ {LOAN_FIELDS} }} }} {ERROR_FIELDS} }}
}}
"""
    for name, input_type in {
        "createLoan": "CreateLoanInput",
        "approveLoan": "LoanIdInput",
        "rejectLoan": "RejectLoanInput",
        "cancelLoan": "LoanIdInput",
        "deliverLoan": "LoanIdInput",
        "returnLoan": "ReturnLoanInput",
    }.items()
}


def request_input(
    warehouse: models.Environment,
    start: date,
    end: date,
    *,
    item: models.InventoryItem | None = None,
    description: str | None = None,
    **values: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "warehouseId": gid("Environment", warehouse.id),
        "purpose": values.pop("purpose", "Taller de redes"),
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        **values,
    }
    if item is not None:
        out["itemId"] = gid("InventoryItem", item.id)
    if description is not None:
        out["itemDescription"] = description
    return out


async def call(gql: GraphQLClient, name: str, values: dict[str, Any], actor: Actor | None) -> dict[str, Any]:
    """The mutation's result (a union member); no top-level error allowed."""
    data = await gql.data(MUTATIONS[name], {"input": values}, token=actor)
    result: dict[str, Any] = data[name]
    return result


async def act(gql: GraphQLClient, name: str, loan: Any, actor: Actor, **values: Any) -> dict[str, Any]:
    """A transition of `loan` (a model row, its uuid or its global ID) by `actor`."""
    global_id = loan if isinstance(loan, str) else gid("Loan", getattr(loan, "id", loan))
    return await call(gql, name, {"id": global_id, **values}, actor)


def field_codes(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(error["field"], error["code"]) for error in result["fieldErrors"]]
