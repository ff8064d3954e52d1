"""The README's check walk-through works as written: its GraphQL blocks, run in order over HTTP
with the demo accounts on the demo data, take a check from start to approval and show what
the approval did."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import parse, validate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.api.schema import build_schema
from graphql_api.services import demo
from graphql_api.settings import Settings
from tests.conftest import GraphQLClient, repo_root

LOGIN = "mutation($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken } } }"


def _section() -> str:
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Daily inventory check\n", 1)[1].split("\n## ", 1)[0]


def _blocks() -> dict[str, str]:
    """The section's operations by name (the walk-through's steps)."""
    blocks = re.findall(r"```graphql\n(.*?)```", _section(), re.DOTALL)
    named = {re.search(r"(?:query|mutation) (\w+)", block)[1]: block for block in blocks}  # type: ignore[index]
    assert len(named) == len(blocks)
    return named


def _inline() -> list[str]:
    return re.findall(r"`(subscription \{.*?\})`", _section(), re.DOTALL)


@pytest.mark.parametrize("document", [*_blocks().values(), *_inline()])
def test_each_block_is_a_valid_operation(document: str) -> None:
    assert validate(build_schema()._schema, parse(document)) == []


async def _sign_in(gql: GraphQLClient, who: str) -> str:
    credentials = {"email": f"{who}.cgmlti@demo.local", "password": demo.DEMO_PASSWORD}
    token: str = (await gql.data(LOGIN, {"input": credentials}))["login"]["accessToken"]
    return token


async def _step(gql: GraphQLClient, token: str, name: str, **variables: Any) -> Any:
    data = await gql.data(_blocks()[name], variables, token=token)
    return data if len(data) > 1 else next(iter(data.values()))


def _findings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item as known, except one more damaged unit of the first item with a good one."""
    inputs = []
    extra = True
    for edge in records:
        node = edge["node"]
        good = node["expected"] - node["knownDamaged"] - node["knownMissing"]
        more = 1 if extra and good > 0 else 0
        extra = extra and not more
        inputs.append(
            {
                "itemId": node["item"]["id"],
                "found": good - more,
                "damaged": node["knownDamaged"] + more,
                "missing": node["knownMissing"],
            }
        )
    assert not extra, "the demo room has an item with a good unit"
    return inputs


async def test_the_walk_through_takes_a_demo_check_to_approval(
    gql: GraphQLClient, db: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with db.begin() as session:
        await demo.load_demo(session, settings)
    student = await _sign_in(gql, "estudiante")
    today = await _step(gql, student, "Today")
    classes = today["mySchedulesToday"]["edges"]
    assert classes, "the demo student's room has a class today"
    started = await _step(gql, student, "Start", input={"scheduleId": classes[0]["node"]["id"]})
    assert (started["__typename"], started["started"]) == ("StartInventoryCheckPayload", True), started
    check_id, records = started["check"]["id"], started["check"]["records"]["edges"]
    for given in _findings(records):
        recorded = await _step(gql, student, "Record", input={"checkId": check_id, **given})
        assert recorded["__typename"] == "RecordCheckItemPayload", recorded
    submitted = await _step(gql, student, "Submit", input={"checkId": check_id, "cleaningNotes": "Aula barrida"})
    assert submitted["check"]["status"] == "INSTRUCTOR_REVIEW", submitted
    assert submitted["check"]["hasIssues"] is True

    instructor = await _sign_in(gql, "instructor")
    pending = await _step(gql, instructor, "Pending")
    assert check_id in {edge["node"]["id"] for edge in pending["edges"]}
    review = {"checkId": check_id, "isClean": True, "isOrganized": True, "inventoryComplete": True}
    reviewed = await _step(gql, instructor, "Review", input=review)
    assert reviewed["check"]["status"] == "SUPERVISOR_REVIEW", reviewed

    supervisor = await _sign_in(gql, "supervisor")
    approved = await _step(gql, supervisor, "Approve", input={"checkId": check_id})
    assert approved["check"]["status"] == "APPROVED", approved
    results = await _step(gql, supervisor, "Results", check=check_id)
    latest = [
        edge["node"]["item"]["movements"]["edges"][0]["node"] for edge in results["inventoryCheck"]["records"]["edges"]
    ]
    assert {"reason": "VERIFICATION_FINDING", "deltaDamaged": 1, "deltaMissing": 0} in latest
    opened = [edge["node"] for edge in results["maintenanceRequests"]["edges"]]
    assert any(request["units"] == 1 for request in opened), opened
