"""Loans of equipment from a warehouse."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.loans.mutations import LoanMutation
from graphql_api.api.loans.queries import LoanQuery
from graphql_api.api.loans.subscriptions import LoanSubscription
from graphql_api.api.loans.types import ItemLoans, Loan

DOMAIN = Domain(
    name="loans",
    query=LoanQuery,
    mutation=LoanMutation,
    subscription=LoanSubscription,
    types=(Loan,),
    extends=(ItemLoans,),
)
