"""Seeded fuzzing of the HTTP body and the GraphQL document (hypothesis is not a dependency,
so the generators are small and deterministic: a failure reproduces with the same seed).

Property: whatever arrives, the answer is 200 with well-formed GraphQL errors carrying a public
code (never INTERNAL), or a 400 or 413 whose body is a GraphQL error with BAD_REQUEST; never a
500 or an exception escaping the app.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from tests.conftest import World

SEED = 20261125
CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_REQUEST", "RATE_LIMITED"}
VALID = "query Q($s: String, $n: Int) { items(first: $n, where: {search: $s}) { totalCount edges { node { name } } } }"
ALPHABET = ["{", "}", "(", ")", ":", "$", "@", "...", '"', "\\", "#", "\n", " ", "!", "=", "[", "]", ",", "\x00", "é"]
STRINGS = ["", "'", "%", "_", "\\", "' OR 1=1 --", "\x00", "\x1b[31m", "\ud800", "😀", "a" * 300, "\n\r\t", "null"]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 40 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**31, 2**63, 10**30, 1.5, -0.0])
    if choice in (3, 4):
        return rng.choice(STRINGS) + "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(5)))
    if choice in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {
        rng.choice(["query", "variables", "operationName", "extensions", "s", "n", "\x00"]): random_value(
            rng, depth + 1
        )
    }


def mutate_query(rng: random.Random, query: str) -> str:
    chars = list(query)
    for _ in range(rng.randrange(1, 6)):
        position = rng.randrange(len(chars) + 1)
        action = rng.randrange(3)
        if action == 0 and chars:
            del chars[min(position, len(chars) - 1)]
        elif action == 1:
            chars.insert(position, rng.choice(ALPHABET))
        else:
            chars[position:position] = chars[position : position + rng.randrange(1, 30)]
    return "".join(chars)


def bodies(rng: random.Random, count: int) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(count):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        elif kind == 1:
            text = json.dumps(random_value(rng), ensure_ascii=rng.choice([True, False]))
            out.append(text.encode("utf-8", "surrogatepass"))
        elif kind == 2:
            out.append(json.dumps({"query": mutate_query(rng, VALID)}).encode())
        elif kind == 3:
            variables = {"s": random_value(rng), "n": random_value(rng)}
            out.append(json.dumps({"query": VALID, "variables": variables}).encode("utf-8", "surrogatepass"))
        else:
            valid = json.dumps({"query": VALID}).encode()
            cut = rng.randrange(len(valid))
            out.append(valid[:cut] + bytes([rng.randrange(256)]) + valid[cut + 1 :])
    return out


def check(response: httpx.Response) -> None:
    assert response.status_code in {200, 400, 413}, (response.status_code, response.text[:500])
    body = response.json()  # transport errors too are GraphQL JSON bodies
    if response.status_code != 200:
        assert set(body) == {"errors"}, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], body
        return
    assert set(body) <= {"data", "errors", "extensions"}
    for error in body.get("errors") or []:
        assert isinstance(error["message"], str)
        assert error["extensions"]["code"] in CODES, error
        assert "exception" not in error["extensions"]


@pytest.mark.parametrize("batch", range(4))
async def test_random_bodies_never_fail_the_server(client: httpx.AsyncClient, world: World, batch: int) -> None:
    rng = random.Random(SEED + batch)
    headers = {"authorization": f"Bearer {world.admin_general.token}", "content-type": "application/json"}
    for body in bodies(rng, 75):
        check(await client.post("/graphql", content=body, headers=headers))


async def test_generators_cover_every_outcome(client: httpx.AsyncClient, world: World) -> None:
    """The fuzzing is not vacuous: successes, GraphQL errors and 400s all occur."""
    headers = {"authorization": f"Bearer {world.admin_general.token}", "content-type": "application/json"}
    seen: set[str] = set()
    for batch in range(4):
        for body in bodies(random.Random(SEED + batch), 75):
            response = await client.post("/graphql", content=body, headers=headers)
            if response.status_code == 200:
                seen.add("errors" if response.json().get("errors") else "data")
            else:
                seen.add(str(response.status_code))
    assert {"data", "errors", "400"} <= seen
