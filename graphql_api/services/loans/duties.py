"""What a loan asks of the caller next: the steps of the state machine they may take (or, for
the requester, the units to bring back), each on the day it is due."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Select, and_, case, literal, or_

from graphql_api.auth import scope
from graphql_api.auth.scope import Principal
from graphql_api.db.models import Loan
from graphql_api.services.loans.transitions import APPROVE, DELIVER, RETURN, Actor, _may_act
from graphql_api.services.loans.visibility import visible_loans


class Duty(enum.Enum):
    """The caller's next step on a loan, and the date it is due on."""

    DECIDE = "DECIDE"  # a decider approves or rejects a request (by its start date)
    DELIVER = "DELIVER"  # a decider hands out an approved loan (by its start date)
    RECEIVE = "RECEIVE"  # a decider takes the units back (by the end date)
    RETURN = "RETURN"  # the requester brings the units back (by the end date)


def duties(principal: Principal) -> Select[Any]:
    """Rows (loan, duty, due date) of the loans the caller must act on, among those they may
    see: the transitions they may apply (`_may_act`, the rule the transitions themselves
    enforce), and their own loans out. A decider who requested a loan of their own warehouse
    gets one row for it, the decider's. Callers narrow by the `due` column."""
    decider = _may_act(principal, Actor.DECIDER)
    decides = and_(decider, Loan.status.in_(APPROVE.sources))
    delivers = and_(decider, Loan.status.in_(DELIVER.sources))
    receives = and_(decider, Loan.status.in_(RETURN.sources))
    returns = and_(Loan.requester_id == scope.caller(principal), Loan.status.in_(RETURN.sources))
    duty = case(
        (decides, literal(Duty.DECIDE.value)),
        (delivers, literal(Duty.DELIVER.value)),
        (receives, literal(Duty.RECEIVE.value)),
        else_=literal(Duty.RETURN.value),
    ).label("duty")
    due = case((Loan.status.in_(RETURN.sources), Loan.end_date), else_=Loan.start_date).label("due")
    return visible_loans(principal).add_columns(duty, due).where(or_(decides, delivers, receives, returns))
