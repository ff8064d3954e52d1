"""What the loans domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById, Children
from graphql_api.db import models
from graphql_api.services import loans

LOAN_BY_ID = ById(models.Loan, loans.visible_loans)
# A loan's requester is visible whenever the loan is (a warehouse's administrator sees who
# asked, wherever that person's home is).
LOAN_REQUESTER = ById(models.User, loans.visible_requesters, includes_caller=True)
LOANS_OF_ITEM = Children(models.Loan, models.Loan.item_id, loans.visible_loans, loans.LOAN_ORDER)
