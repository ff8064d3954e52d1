"""Who subscribes in the `subscriptions` workload: the mixes of subscribers, the users they need
(added to the run's fresh database), their tokens and the plan file given to the driver.

Every subscriber watches `itemStockChanged` of one room (the home environment of the bench's
STUDENT). The hub shares one rendering among the subscribers that sent the same document and
variables and share a scope (role, home environment, center, language: `Subscription.key`),
so a mix's number of groups follows from its users and documents.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench import seed
from bench.baselines.common import encode_id
from bench.workloads import STOCK_APP, STOCK_BOARD
from graphql_api.auth.tokens import issue_access_token
from graphql_api.db.models import Role
from graphql_api.settings import Settings

SHARED_USERS = 10  # the `shared` mix: its sockets belong to this many users
UserKey = tuple[str, str, int]  # role, language, ordinal


@dataclass(frozen=True)
class Mix:
    label: str
    subscribers: int
    kind: str  # users | shared | mixed
    description: str


MIXES = [
    Mix("100·users", 100, "users", "100 STUDENTs of the room, one socket each"),
    Mix("1000·users", 1000, "users", "1 000 STUDENTs of the room, one socket each (the deployment case)"),
    Mix("1000·shared", 1000, "shared", f"1 000 sockets of {SHARED_USERS} STUDENTs of the room"),
    Mix(
        "1000·mixed",
        1000,
        "mixed",
        "1 000 users: 70% STUDENT, 15% INSTRUCTOR, 10% SUPERVISOR, 5% ADMIN_GENERAL; 20% in English; "
        "a third on the dashboard's document",
    ),
]


def _mixed_role(index: int) -> str:
    slot = index % 20
    return "ADMIN_GENERAL" if slot == 0 else "SUPERVISOR" if slot < 3 else "INSTRUCTOR" if slot < 6 else "STUDENT"


def subscribers(mix: Mix) -> list[tuple[UserKey, str]]:
    """(user, document) of each subscriber of `mix`."""
    if mix.kind == "users":
        return [(("STUDENT", "ES", i), STOCK_APP) for i in range(mix.subscribers)]
    if mix.kind == "shared":
        return [(("STUDENT", "ES", i % SHARED_USERS), STOCK_APP) for i in range(mix.subscribers)]
    out: list[tuple[UserKey, str]] = []
    ordinals: dict[tuple[str, str], int] = {}
    for i in range(mix.subscribers):
        role = _mixed_role(i)
        language = "EN" if (i // 20) % 5 == 4 else "ES"
        document = STOCK_BOARD if (i // 100) % 3 == 2 else STOCK_APP
        ordinal = ordinals.get((role, language), 0)
        ordinals[(role, language)] = ordinal + 1
        out.append(((role, language, ordinal), document))
    return out


def warm_up() -> list[tuple[UserKey, str]]:
    """A few subscribers of every role and both documents (users the mixed mix has too)."""
    mixed = subscribers(Mix("mixed", 1000, "mixed", ""))
    return mixed[:6] + mixed[200:204]


def groups(mix: Mix, center_id: uuid.UUID, environment_id: uuid.UUID) -> int:
    """The hub's groups for `mix` (as `Subscription.key` forms them)."""
    keys = set()
    for (role, language, _), document in subscribers(mix):
        home = (None, None) if role == "ADMIN_GENERAL" else (environment_id, center_id)
        keys.add((document, role, *home, language))
    return len(keys)


@dataclass
class Setup:
    environment_id: uuid.UUID
    center_id: uuid.UUID
    users: dict[UserKey, uuid.UUID]
    writer_id: uuid.UUID
    items: list[tuple[str, int]]  # the room's active GROUP items: global id, quantity


async def _prepare(url: str, mixes: list[Mix]) -> Setup:
    conn = await asyncpg.connect(url)
    try:
        room = await conn.fetchrow(
            "SELECT e.id, e.center_id FROM users u JOIN environments e ON e.id = u.environment_id WHERE u.email = $1",
            seed.STUDENT_EMAIL,
        )
        writer_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", seed.ADMIN_EMAIL)
        password_hash = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", seed.ADMIN_EMAIL)
        items = await conn.fetch(
            "SELECT id, quantity FROM inventory_items WHERE environment_id = $1 AND item_type = 'GROUP' "
            "AND status = 'ACTIVE' ORDER BY id",
            room["id"],
        )
        keys = sorted({key for mix in mixes for key, _ in subscribers(mix)})
        users = await _add_users(conn, keys, password_hash, room["id"])
    finally:
        await conn.close()
    stream = [(encode_id("InventoryItem", row["id"]), row["quantity"]) for row in items]
    return Setup(room["id"], room["center_id"], users, writer_id, stream)


async def _add_users(
    conn: asyncpg.Connection, keys: list[UserKey], password_hash: str, room: uuid.UUID
) -> dict[UserKey, uuid.UUID]:
    now = datetime.now(UTC)
    rows = [
        (
            f"subs.{role.lower()}.{language.lower()}.{ordinal:04d}@bench.local",
            password_hash,
            role,
            "Suscriptor",
            f"{ordinal:04d}",
            None if role == "ADMIN_GENERAL" else room,
            now,
        )
        for role, language, ordinal in keys
    ]
    async with conn.transaction():
        ids = [
            await conn.fetchval(
                "INSERT INTO users (email, password_hash, role, first_name, last_name, environment_id, is_active, "
                "token_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, true, 1, $7, $7) "
                "ON CONFLICT (email) DO UPDATE SET updated_at = EXCLUDED.updated_at RETURNING id",
                *row,
            )
            for row in rows
        ]
        await conn.executemany(
            "INSERT INTO user_settings (user_id, language, theme, created_at, updated_at) "
            "VALUES ($1, $2, 'SYSTEM', now(), now()) ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language",
            [(user_id, key[1]) for user_id, key in zip(ids, keys, strict=True)],
        )
    return dict(zip(keys, ids, strict=True))


def prepare(url: str, mixes: list[Mix]) -> Setup:
    return asyncio.run(_prepare(url, mixes))


class Tokens:
    """Access tokens minted with the servers' key (no logins: bcrypt would take minutes)."""

    def __init__(self, server_env: dict[str, str]) -> None:
        self.settings = Settings.from_env(server_env, env_file=None)

    def token(self, user_id: uuid.UUID, role: str) -> str:
        return issue_access_token(self.settings, user_id=user_id, role=Role(role), token_version=1)[0]


def write_plan(path: Path, setup: Setup, tokens: Tokens, specs: list[tuple[UserKey, str]]) -> None:
    """The driver's plan: each subscriber's token, document and variables (fresh tokens)."""
    minted: dict[UserKey, str] = {}
    variables = {"environmentId": encode_id("Environment", setup.environment_id)}
    plan: list[dict[str, Any]] = []
    for key, document in specs:
        if key not in minted:
            minted[key] = tokens.token(setup.users[key], key[0])
        plan.append({"token": minted[key], "query": document, "variables": variables, "id": "1"})
    path.write_bytes(orjson.dumps({"subscribers": plan}))
