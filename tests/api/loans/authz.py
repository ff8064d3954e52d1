"""The loans domain's cases for the authorization matrix (tests/authz/), from SPEC.md §4:
INSTRUCTOR (from a warehouse of their center) and ADMIN (their own warehouse) request; the
ADMIN of the warehouse and ADMIN_GENERAL approve, reject, deliver and receive returns; the
requester cancels. Reading: the requester their own, ADMIN their warehouse's, SUPERVISOR the
loans to instructors of their center, ADMIN_GENERAL all; students none."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, select

from graphql_api.db import models
from graphql_api.services import loans
from tests.api.loans.helpers import make_loan
from tests.authz import (
    NOT_FOUND,
    DomainCases,
    MutationCase,
    Nested,
    NodeCases,
    Reached,
    Scene,
    Table,
    with_target,
)
from tests.authz.cases import Builder
from tests.conftest import Actor, gid

READERS = frozenset({"INSTRUCTOR", "SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
REQUESTERS = frozenset({"INSTRUCTOR", "ADMIN"})
DECIDERS = frozenset({"ADMIN", "ADMIN_GENERAL"})
Status = models.LoanStatus


def _notes(scene: Scene) -> dict[str, Any]:
    notes: dict[str, Any] = scene.notes.setdefault("loans", {"next_day": 0})
    return notes


async def _loan(
    scene: Scene, requester: Actor, status: Status, *, world_b: bool = False, unregistered: bool = False
) -> models.Loan:
    """A loan of the group item of world A's (or B's) warehouse, or of an unregistered item,
    each on days of its own so that no reservation ever stands in another's way."""
    w, notes = scene.world, _notes(scene)
    notes["next_day"] += 3
    room, decider = ("bw", w.admin_b) if world_b else ("aw", w.admin)
    item = None if unregistered else w.items[room][1]
    return await make_loan(
        scene.db, scene.factory.settings, requester, decider, getattr(w, room),
        status=status, item=item, description="Cable HDMI", start=notes["next_day"],
    )  # fmt: skip


async def setup(scene: Scene) -> None:
    w = scene.world
    mine = [
        await _loan(scene, w.instructor, Status.PENDING),
        await _loan(scene, w.instructor, Status.APPROVED),
        # Unregistered: units of world A's group item on loan would stop the items domain's
        # cases from retiring it.
        await _loan(scene, w.instructor, Status.DELIVERED, unregistered=True),
    ]
    admins = [await _loan(scene, w.admin, Status.PENDING)]
    world_b = [
        await _loan(scene, w.admin_b, status, world_b=True)
        for status in (Status.PENDING, Status.APPROVED, Status.DELIVERED)
    ]
    async with scene.db.begin() as session:
        # The notifications the history sent would show up in inboxes that the notifications
        # domain's cases count.
        await session.execute(delete(models.Notification).where(models.Notification.subject_type == "Loan"))
    a_ids = [loan.id for loan in mine + admins]
    notes = _notes(scene)
    notes["unregistered"] = mine[2].id
    notes["world_b"] = [loan.id for loan in world_b]
    notes["visible"] = {
        "student": [],
        "instructor": [loan.id for loan in mine],
        "supervisor": [loan.id for loan in mine],  # the instructor's; not the admin's own
        "admin": a_ids,
        "admin_general": a_ids + notes["world_b"],
    }


def _visible(scene: Scene, caller: str) -> list[uuid.UUID]:
    visible: list[uuid.UUID] = _notes(scene)["visible"][caller]
    return visible


def _in_scope(scene: Scene, caller: str) -> list[uuid.UUID]:
    if caller == "admin_general":
        return list(_notes(scene)["world_b"])
    return _visible(scene, caller)


def _filtered(column: Any) -> Callable[[Scene, str, uuid.UUID], Select[Any]]:
    def statement(scene: Scene, caller: str, value: uuid.UUID) -> Select[Any]:
        return select(models.Loan.id).where(column == value, models.Loan.id.in_(_visible(scene, caller)))

    return statement


def _world(scene: Scene, caller: str) -> str:
    return "bw" if caller == "admin_general" else "aw"


def _requesters(scene: Scene, caller: str) -> list[uuid.UUID]:
    w = scene.world
    return {"admin_general": [w.admin_b.id], "admin": [w.instructor.id, w.admin.id]}.get(caller, [w.instructor.id])


LOAN = NodeCases(
    world_b=lambda s: list(_notes(s)["world_b"]),
    in_scope=_in_scope,
    filtered_by={
        "InventoryItem": _filtered(models.Loan.item_id),
        "Environment": _filtered(models.Loan.warehouse_id),
        "User": _filtered(models.Loan.requester_id),
    },
    # Loans come from warehouses: filter by the warehouse (and its item) each caller sees.
    filter_with={
        "InventoryItem": lambda s, caller: [s.world.items[_world(s, caller)][1].id],
        "Environment": lambda s, caller: [s.room_id(_world(s, caller))],
        "User": _requesters,
    },
)


# ---- mutation inputs -----------------------------------------------------------------------


def _request(scene: Scene, warehouse: str | None, **values: Any) -> dict[str, Any]:
    notes = _notes(scene)
    notes["next_day"] += 3
    start = loans.Calendar.of(scene.factory.settings).today + timedelta(days=notes["next_day"])
    return {
        "warehouseId": warehouse,
        "purpose": "Clase práctica",
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=1)).isoformat(),
        **values,
    }


async def _planted(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    return _request(scene, target, itemDescription="Planted")


async def _new_request(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
    item = scene.world.items["aw"][1]
    return _request(scene, gid("Environment", scene.world.aw.id), itemId=gid("InventoryItem", item.id))


def _fresh(status: Status, *, own: bool = False, **values: Any) -> Builder:
    """A new loan in `status` that the caller may act on: the caller's own request (`own`:
    cancelLoan), else the instructor's from world A's warehouse (world B's admin's, for
    ADMIN_GENERAL)."""

    async def build(scene: Scene, caller: str, target: str | None) -> dict[str, Any]:
        w = scene.world
        if own and caller in ("instructor", "admin"):
            requester = w.role(caller)
        else:
            requester = w.admin_b if caller == "admin_general" else w.instructor
        loan = await _loan(scene, requester, status, world_b=caller == "admin_general")
        return {"id": gid("Loan", loan.id), **values}

    return build


def _transition(access: frozenset[str], builder: Builder, **attack: Any) -> MutationCase:
    return MutationCase(
        access=access,
        target="Loan",
        slot="id",
        attack=with_target("id", **attack),
        out_of_scope=NOT_FOUND,
        in_scope=builder,
        success="LoanPayload",
    )


MUTATIONS = {
    "createLoan": MutationCase(
        access=REQUESTERS,
        target="Environment",
        slot="warehouseId",
        extra_slots={"itemId": "InventoryItem"},
        attack=_planted,
        out_of_scope=NOT_FOUND,
        in_scope=_new_request,
        success="LoanPayload",
    ),
    "approveLoan": _transition(DECIDERS, _fresh(Status.PENDING)),
    "rejectLoan": _transition(DECIDERS, _fresh(Status.PENDING, reason="No"), reason="Planted"),
    "cancelLoan": _transition(REQUESTERS, _fresh(Status.PENDING, own=True)),
    "deliverLoan": _transition(DECIDERS, _fresh(Status.APPROVED)),
    "returnLoan": _transition(DECIDERS, _fresh(Status.DELIVERED, returned=1), returned=1),
}


# ---- nested paths --------------------------------------------------------------------------

NESTED_QUERY = """
{ loanItems: items(first: 100) { edges { node { id loans(first: 20) { totalCount edges { node {
    id item { id environment { id } } warehouse { id center { id } } requester { id environment { id } }
    approvedBy { id } deliveredBy { id }
} } } } } } }
"""


def _check_nested(scene: Scene, reached: Reached) -> None:
    # Reached through their items: the loans of registered items the caller may see.
    expected = set(_visible(scene, reached.caller)) - {_notes(scene)["unregistered"]}
    assert reached.of_type("Loan") == expected, (reached.of_type("Loan"), expected)


# ---- where: filters never widen the scope -------------------------------------------------

LOANS = "query Q($where: LoanWhere) { loans(where: $where, first: 100) { totalCount edges { node { id } } } }"


async def where_filters_do_not_widen_scope(scene: Scene) -> None:
    w = scene.world

    async def ids(where: dict[str, Any], caller: Actor) -> set[str]:
        data = await scene.gql.data(LOANS, {"where": where}, token=caller)
        return {edge["node"]["id"] for edge in data["loans"]["edges"]}

    b_warehouse = [gid("Environment", w.bw.id)]
    assert await ids({"warehouseIds": b_warehouse}, w.admin) == set()
    # The admin's own request is not the instructor's to see, whatever the filter says.
    assert await ids({"requesterIds": [gid("User", w.admin.id)]}, w.instructor) == set()
    assert await ids({"requesterIds": [gid("User", w.admin.id)]}, w.supervisor) == set()
    assert await ids({"itemIds": ["garbage!!", gid("Center", w.center_b.id)]}, w.admin) == set()
    # The positive control: ADMIN_GENERAL gets world B through the same filter.
    expected = {gid("Loan", loan) for loan in _notes(scene)["world_b"]}
    assert await ids({"warehouseIds": b_warehouse}, w.admin_general) == expected


CASES = DomainCases(
    nodes={"Loan": LOAN},
    id_names={"warehouseIds": "Environment", "requesterIds": "User"},
    queries={"loan": READERS, "loans": READERS, "itemAvailability": READERS},
    mutations=MUTATIONS,
    tables={"loans": Table()},
    setup=setup,
    nested=Nested(NESTED_QUERY, _check_nested),
    checks={"where_filters_do_not_widen_scope": where_filters_do_not_widen_scope},
)
