"""myAgenda over HTTP: what each role finds on it for the coming week and what it does not
(another room's classes, another warehouse's loans, another user's requests), in order; a check
started today shows on its class; a bad range is refused before any read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.settings import Settings
from tests.api.agenda.helpers import AGENDA, Scene, agenda, build
from tests.conftest import Factory, GraphQLClient, World, error_codes


@pytest.fixture
async def scene(world: World, factory: Factory, db: async_sessionmaker[AsyncSession], settings: Settings) -> Scene:
    return await build(world, factory, db, settings)


def expected(scene: Scene, role: str) -> list[tuple[str, str, date]]:
    """Each role's agenda from today to six days on, in order (T: today)."""
    t = scene.today

    def d(days: int) -> date:
        return t + timedelta(days=days)

    return {
        "instructor": [
            ("Loan", "loan_overdue", d(-9)),
            ("CheckReview", "check_teacher2", d(-7)),
            ("Class", "a1", t),
            ("MaintenanceRequest", "req_instructor", t),
            ("Class", "a2", d(1)),
            ("Loan", "loan_delivered", d(2)),
        ],
        "teacher2": [("CheckReview", "check_teacher2", d(-7)), ("Class", "a1_teacher2", t)],
        "student": [("Class", "a1", t), ("Class", "a1_teacher2", t), ("CheckReview", "check_today", t)],
        "student_b": [("Class", "b1", t), ("CheckReview", "check_b1", t)],
        "supervisor": [
            ("CheckReview", "check_supervisor", d(-14)),
            ("MaintenanceRequest", "req_supervisor", t),
            ("MaintenancePlan", "plan_a1", d(3)),
            ("MaintenancePlan", "plan_aw", d(5)),
        ],
        "admin": [
            ("Loan", "loan_overdue", d(-9)),
            ("Loan", "loan_pending", d(1)),
            *sorted([("Loan", "loan_approved", d(2)), ("Loan", "loan_delivered", d(2))]),
            ("MaintenancePlan", "plan_aw", d(5)),
        ],
        "admin_b": [("MaintenanceRequest", "req_b", t), ("Loan", "loan_b", d(1))],
        "admin_general": [
            ("Loan", "loan_overdue", d(-9)),
            *sorted([("Loan", "loan_pending", d(1)), ("Loan", "loan_b", d(1))]),
            *sorted([("Loan", "loan_approved", d(2)), ("Loan", "loan_delivered", d(2))]),
            ("MaintenancePlan", "plan_a1", d(3)),
            ("MaintenancePlan", "plan_b1", d(4)),
            ("MaintenancePlan", "plan_aw", d(5)),
        ],
    }[role]


ROLES = ("instructor", "teacher2", "student", "student_b", "supervisor", "admin", "admin_b", "admin_general")


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_sees_what_it_must_do_and_nothing_else(gql: GraphQLClient, scene: Scene, role: str) -> None:
    found = await agenda(gql, scene.actor(role), scene.today, scene.today + timedelta(days=6))
    entries = [scene.entry(entry) for entry in found["entries"]]
    want = expected(scene, role)
    # Ties of one kind on one day go by ID: compare those as sets, the rest in order.
    assert sorted(entries) == sorted(want)
    assert [(day, kind) for kind, _, day in entries] == [(day, kind) for kind, _, day in want]
    assert found["truncated"] == []
    assert (found["from"], found["today"]) == (scene.today.isoformat(), scene.today.isoformat())


async def test_entries_say_why_and_how_late(gql: GraphQLClient, scene: Scene) -> None:
    found = await agenda(gql, scene.world.admin, scene.today, scene.today + timedelta(days=6))
    loans = {scene.names[e["loan"]["id"]]: (e["action"], e["late"]) for e in found["entries"] if "loan" in e}
    assert loans == {
        "loan_overdue": ("RECEIVE", True),
        "loan_pending": ("DECIDE", False),
        "loan_approved": ("DELIVER", False),
        "loan_delivered": ("RECEIVE", False),
    }
    mine = await agenda(gql, scene.world.instructor, scene.today, scene.today + timedelta(days=6))
    actions = {scene.names[e["loan"]["id"]]: (e["action"], e["late"]) for e in mine["entries"] if "loan" in e}
    assert actions == {"loan_overdue": ("RETURN", True), "loan_delivered": ("RETURN", False)}
    review = next(e for e in mine["entries"] if e["__typename"] == "AgendaCheckReview")
    assert (review["late"], review["check"]["status"]) == (True, "INSTRUCTOR_REVIEW")


async def test_a_check_started_today_shows_on_its_class(gql: GraphQLClient, scene: Scene) -> None:
    found = await agenda(gql, scene.world.student, scene.today, scene.today + timedelta(days=7))
    classes = [e for e in found["entries"] if e["__typename"] == "AgendaClass"]
    by_name = {(scene.names[e["schedule"]["id"]], e["date"]): e for e in classes}
    today, next_week = scene.today.isoformat(), (scene.today + timedelta(days=7)).isoformat()
    started = by_name[("a1", today)]
    assert (started["checkStatus"], scene.names[started["inventoryCheck"]["id"]]) == ("STUDENT_PENDING", "check_today")
    assert (started["startTime"], started["endTime"]) == ("08:00:00", "10:00:00")
    assert by_name[("a1_teacher2", today)]["checkStatus"] == "NOT_STARTED"
    # Next week's classes have no check yet.
    for name in ("a1", "a1_teacher2"):
        later = by_name[(name, next_week)]
        assert (later["checkStatus"], later["inventoryCheck"]) == ("NOT_STARTED", None)


async def test_a_range_in_the_future_keeps_what_is_late_and_drops_the_rest(gql: GraphQLClient, scene: Scene) -> None:
    start = scene.today + timedelta(days=10)
    found = await agenda(gql, scene.world.instructor, start, start + timedelta(days=13))
    entries = [scene.entry(entry) for entry in found["entries"]]
    late = [entry for entry in entries if entry[2] < scene.today]
    t = scene.today
    assert late == [
        ("Loan", "loan_overdue", t - timedelta(days=9)),
        ("CheckReview", "check_teacher2", t - timedelta(days=7)),
    ]
    assert ("MaintenanceRequest", "req_instructor", start) in entries  # no due date: on the range's first day
    assert ("Loan", "loan_later", scene.today + timedelta(days=20)) in entries
    assert {kind for kind, _, _ in entries} == {"Loan", "CheckReview", "MaintenanceRequest", "Class"}
    assert all(day >= start for kind, _, day in entries if kind == "Class")


@pytest.mark.parametrize(
    ("days", "error"),
    [(-1, ("to", "DATE_ORDER")), (31, ("to", "RANGE_TOO_LONG")), (400, ("to", "RANGE_TOO_LONG"))],
)
async def test_a_bad_range_is_refused_before_any_read(
    gql: GraphQLClient, world: World, count_statements: object, days: int, error: tuple[str, str]
) -> None:
    today = date(2031, 3, 3)
    variables = {"from": today.isoformat(), "to": (today + timedelta(days=days)).isoformat()}
    # The baseline reads only the caller (their token's user row), as any signed-in field does.
    with count_statements() as baseline:  # type: ignore[operator]
        await gql.data("{ me { id } }", token=world.instructor)
    with count_statements() as counted:  # type: ignore[operator]
        result = await gql.execute(AGENDA, variables, token=world.instructor)
    assert result["data"] is None
    assert error_codes(result) == ["BAD_REQUEST"]
    field_errors = result["errors"][0]["extensions"]["fieldErrors"]
    assert [(e["field"], e["code"]) for e in field_errors] == [error]
    assert all(e["message"] for e in field_errors)
    assert counted.value == baseline.value


async def test_31_days_is_the_longest_range(gql: GraphQLClient, world: World) -> None:
    start = date(2031, 3, 1)
    found = await agenda(gql, world.instructor, start, start + timedelta(days=30))
    assert found["entries"] == []
    assert found["truncated"] == []


async def test_anonymous_callers_get_nothing(gql: GraphQLClient) -> None:
    result = await gql.execute(AGENDA, {"from": "2031-03-03", "to": "2031-03-04"})
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_the_query_cost_counts_every_entry_the_list_may_hold(gql: GraphQLClient, world: World) -> None:
    """At most 200 entries of each of the 5 kinds: 1000, and pages nested under them multiply."""
    query = """{ myAgenda(from: "2031-03-03", to: "2031-03-04") { entries {
      ... on AgendaCheckReview { check { records(first: 10) { totalCount } } } } } }"""
    result = await gql.execute(query, token=world.instructor)
    assert result["extensions"]["cost"]["estimated"] == 1000 + 1000 * 10
