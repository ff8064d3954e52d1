"""The agenda's part of the authorization matrix (tests/authz/): myAgenda takes no ID and the
domain has no node type, mutation or table of its own, so its only case is the nested one:
every path from the agenda, run by every role of world A over the scene every domain set up,
stays in the caller's rooms (and so never reaches world B)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.authz import DomainCases, Nested, Reached, Scene
from tests.conftest import gid

# The other domains' setups date their history around today (local); the agenda reads a month
# around it, wide enough for the day in UTC to do.
_TODAY = datetime.now(UTC).date()
_FROM, _TO = _TODAY - timedelta(days=15), _TODAY + timedelta(days=15)

# A loan's own id is left out: the loans domain's check counts the loans reached through
# items, which an unregistered item's loan is not (the agenda lists it, rightly).
_ENTRIES = """
    ... on AgendaClass { schedule { id environment { id } } inventoryCheck { id environment { id } } }
    ... on AgendaCheckReview { check { id environment { id } } }
    ... on AgendaLoan { loan { warehouse { id } requester { id } item { id environment { id } } } }
    ... on AgendaMaintenanceRequest { request { id environment { id } } }
    ... on AgendaMaintenancePlan { plan { id item { id environment { id } } } }
"""
NESTED_QUERY = f'{{ myAgenda(from: "{_FROM.isoformat()}", to: "{_TO.isoformat()}") {{ entries {{ {_ENTRIES} }} }} }}'


def _rooms(value: Any, out: set[str]) -> None:
    """The ids of every `environment` / `warehouse` object under `value`."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in {"environment", "warehouse"} and isinstance(sub, dict):
                out.add(sub["id"])
            _rooms(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _rooms(sub, out)


def _check_nested(scene: Scene, reached: Reached) -> None:
    rooms: set[str] = set()
    _rooms(reached.data["myAgenda"], rooms)
    allowed = {gid("Environment", scene.room_id(name)) for name in scene.rooms_in_scope(reached.caller)}
    assert rooms <= allowed, (reached.caller, rooms - allowed)
    if reached.caller == "instructor":  # teaches today in a1 and a2 (the schedules' setup)
        assert rooms, reached.data["myAgenda"]


CASES = DomainCases(nested=Nested(NESTED_QUERY, _check_nested))
