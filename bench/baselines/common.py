"""What both baselines share: the asyncpg pool, authentication and the SQL of each workload.

Authentication is the product's: the same JWT checks (HS256, issuer, audience, required claims)
and one row lookup (user + home environment's center + settings) per request. Scope filters are
the product's rules written as SQL fragments. The SQL is the shape the product aims at (the
issue's statement budgets): node = auth + 1, page/list = auth + 2 (items joined with their
environment and center; movement counts grouped by item), mutation = auth + 3 in one transaction
(conditional UPDATE with compare-and-swap, ledger row, audit row). Each request holds one pooled
connection from start to end; reads run in autocommit (one implicit transaction per statement).
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import jwt
import orjson

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
JWT_ISSUER = os.environ.get("JWT_ISSUER", "inventory-auth")
JWT_AUDIENCE = os.environ.get("JWT_AUDIENCE", "inventory-api")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "15"))
REQUIRED_CLAIMS = ["sub", "role", "ver", "iat", "exp", "iss", "aud", "jti"]
MANUAL_REASONS = frozenset({"RESTOCK", "CORRECTION", "LOSS"})
MANAGER_ROLES = frozenset({"SUPERVISOR", "ADMIN", "ADMIN_GENERAL"})
_jwt = jwt.PyJWT(options={"enforce_minimum_key_length": True})

AVAILABLE = "i.quantity - (i.quantity_damaged + i.quantity_missing + i.quantity_in_maintenance + i.quantity_on_loan)"
AUTH_SQL = """
SELECT u.id, u.role, u.environment_id, u.token_version, u.is_active, e.center_id, s.language
FROM users u
LEFT JOIN environments e ON e.id = u.environment_id
LEFT JOIN user_settings s ON s.user_id = u.id
WHERE u.id = $1
"""


class Unauthenticated(Exception):
    pass


class Forbidden(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    role: str
    environment_id: uuid.UUID | None
    center_id: uuid.UUID | None


def encode_id(type_name: str, value: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode("ascii")


def decode_id(value: str, expected: str) -> uuid.UUID | None:
    try:
        type_name, _, ident = base64.b64decode(value.encode("ascii"), validate=True).decode().partition(":")
        return uuid.UUID(ident) if type_name == expected else None
    except (binascii.Error, UnicodeError, ValueError):
        return None


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Our handlers leave no session state behind, so skip the reset query on release."""


async def create_pool() -> asyncpg.Pool:
    return await asyncpg.create_pool(
        DATABASE_URL,
        min_size=2,
        max_size=POOL_SIZE,
        reset=_no_reset,
        server_settings={"application_name": "bench-baseline"},
    )


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def authenticate(conn: asyncpg.Connection, authorization: str | None) -> Principal | None:
    token = _bearer(authorization)
    if token is None or len(token) > 4096:
        return None
    try:
        claims = _jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            options={"require": REQUIRED_CLAIMS},
            leeway=10,
        )
        user_id, version = uuid.UUID(str(claims["sub"])), int(claims["ver"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    row = await conn.fetchrow(AUTH_SQL, user_id)
    if row is None or not row["is_active"] or row["token_version"] != version:
        return None
    return Principal(row["id"], row["role"], row["environment_id"], row["center_id"])


def scope(p: Principal, column: str, params: list[Any]) -> str:
    """SQL condition: `column` (an environment id) is within the caller's scope (auth/scope.py)."""
    if p.role == "ADMIN_GENERAL":
        return "TRUE"
    if p.environment_id is None:
        return "FALSE"
    if p.role == "SUPERVISOR" and p.center_id is not None:
        params.append(p.center_id)
        return f"{column} IN (SELECT id FROM environments WHERE center_id = ${len(params)})"
    if p.role == "INSTRUCTOR" and p.center_id is not None:
        params.extend((p.environment_id, p.center_id))
        n = len(params)
        warehouses = f"SELECT id FROM environments WHERE center_id = ${n} AND is_warehouse"
        return f"({column} = ${n - 1} OR {column} IN ({warehouses}))"
    params.append(p.environment_id)
    return f"{column} = ${len(params)}"


def manage_scope(p: Principal, column: str, params: list[Any]) -> str:
    if p.role == "ADMIN_GENERAL":
        return "TRUE"
    if p.role == "SUPERVISOR":
        return scope(p, column, params)
    if p.role == "ADMIN" and p.environment_id is not None:
        params.append(p.environment_id)
        return f"{column} = ${len(params)}"
    return "FALSE"


async def item_node(conn: asyncpg.Connection, p: Principal, item_id: uuid.UUID) -> dict[str, Any] | None:
    """`node(id:) { ... on InventoryItem { id name internalCode category status quantity quantityAvailable } }`"""
    params: list[Any] = [item_id]
    where = scope(p, "i.environment_id", params)
    row = await conn.fetchrow(
        f"SELECT i.id, i.name, i.internal_code, i.category, i.status, i.quantity, {AVAILABLE} AS available "
        f"FROM inventory_items i WHERE i.id = $1 AND {where}",
        *params,
    )
    if row is None:
        return None
    return {
        "__typename": "InventoryItem",
        "id": encode_id("InventoryItem", row["id"]),
        "name": row["name"],
        "internalCode": row["internal_code"],
        "category": row["category"],
        "status": row["status"],
        "quantity": row["quantity"],
        "quantityAvailable": row["available"],
    }


async def item_edges(conn: asyncpg.Connection, p: Principal, first: int) -> list[dict[str, Any]]:
    """`items(first:) { edges { node { id name quantityAvailable environment { name center { name } }
    movements(first: 3) { totalCount } } } }` in two statements."""
    params: list[Any] = []
    where = scope(p, "i.environment_id", params)
    params.append(first + 1)  # like the product: one more row tells whether a next page exists
    rows = await conn.fetch(
        f"SELECT i.id, i.name, {AVAILABLE} AS available, e.name AS environment, c.name AS center "
        "FROM inventory_items i JOIN environments e ON e.id = i.environment_id JOIN centers c ON c.id = e.center_id "
        f"WHERE i.status = 'ACTIVE' AND {where} ORDER BY i.name, i.id LIMIT ${len(params)}",
        *params,
    )
    rows = rows[:first]
    count_params: list[Any] = [[row["id"] for row in rows]]
    count_where = scope(p, "environment_id", count_params)
    counts = {
        r["item_id"]: r["count"]
        for r in await conn.fetch(
            "SELECT item_id, count(*) AS count FROM inventory_movements "
            f"WHERE item_id = ANY($1::uuid[]) AND {count_where} GROUP BY item_id",
            *count_params,
        )
    }
    return [
        {
            "node": {
                "id": encode_id("InventoryItem", row["id"]),
                "name": row["name"],
                "quantityAvailable": row["available"],
                "environment": {"name": row["environment"], "center": {"name": row["center"]}},
                "movements": {"totalCount": counts.get(row["id"], 0)},
            }
        }
        for row in rows
    ]


async def items_json(conn: asyncpg.Connection, p: Principal, first: int) -> str:
    """The whole `{"data": {"items": ...}}` response built by PostgreSQL in one statement."""
    params: list[Any] = []
    where = scope(p, "i.environment_id", params)
    params.append(first)
    limit = len(params)
    count_where = scope(p, "m.environment_id", params)
    sql = f"""
    SELECT '{{"data":{{"items":{{"edges":' || coalesce(json_agg(json_build_object('node', json_build_object(
        'id', encode(convert_to('InventoryItem:' || t.id::text, 'UTF8'), 'base64'),
        'name', t.name,
        'quantityAvailable', t.available,
        'environment', json_build_object('name', t.environment, 'center', json_build_object('name', t.center)),
        'movements', json_build_object('totalCount',
            (SELECT count(*) FROM inventory_movements m WHERE m.item_id = t.id AND {count_where}))
    )) ORDER BY t.name, t.id)::text, '[]') || '}}}}}}'
    FROM (
        SELECT i.id, i.name, {AVAILABLE} AS available, e.name AS environment, c.name AS center
        FROM inventory_items i JOIN environments e ON e.id = i.environment_id JOIN centers c ON c.id = e.center_id
        WHERE i.status = 'ACTIVE' AND {where} ORDER BY i.name, i.id LIMIT ${limit}
    ) t
    """
    return str(await conn.fetchval(sql, *params))


def error_result(typename: str, code: str, message: str) -> dict[str, Any]:
    return {"__typename": typename, "code": code, "message": message}


async def adjust_stock(
    conn: asyncpg.Connection,
    p: Principal,
    item_id: uuid.UUID | None,
    *,
    expected_quantity: int,
    delta: dict[str, int],
    reason: str,
    note: str | None,
    meta: dict[str, str | None],
) -> dict[str, Any]:
    """adjustItemStock: CAS UPDATE + ledger row + audit row in one transaction."""
    if p.role not in MANAGER_ROLES:
        raise Forbidden()
    dq, dd, dm = int(delta.get("quantity", 0)), int(delta.get("damaged", 0)), int(delta.get("missing", 0))
    if reason not in MANUAL_REASONS or not (dq or dd or dm):
        return error_result("ValidationError", "VALIDATION", "invalid delta or reason")
    if item_id is None:
        return error_result("NotFoundError", "NOT_FOUND", "item not found")
    params: list[Any] = [item_id, dq, dd, dm, expected_quantity]
    manage = manage_scope(p, "environment_id", params)
    visible = scope(p, "environment_id", params)
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "UPDATE inventory_items SET quantity = quantity + $2, quantity_damaged = quantity_damaged + $3, "
                "quantity_missing = quantity_missing + $4, updated_at = now() "
                f"WHERE id = $1 AND status = 'ACTIVE' AND quantity = $5 AND {manage} AND {visible} "
                "RETURNING id, environment_id, quantity, quantity_damaged, quantity_missing, "
                "quantity_in_maintenance, quantity_on_loan",
                *params,
            )
            if row is None:
                return error_result("ConflictError", "CONFLICT", "the quantity changed; reload and retry")
            movement = await conn.fetchrow(
                "INSERT INTO inventory_movements (item_id, environment_id, reason, delta_quantity, delta_damaged, "
                "delta_missing, quantity_after, actor_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                "RETURNING id",
                row["id"],
                row["environment_id"],
                reason,
                dq,
                dd,
                dm,
                row["quantity"],
                p.id,
                note,
            )
            new = {"quantity": row["quantity"], "quantity_damaged": row["quantity_damaged"]}
            new["quantity_missing"] = row["quantity_missing"]
            old = {"quantity": row["quantity"] - dq, "quantity_damaged": row["quantity_damaged"] - dd}
            old["quantity_missing"] = row["quantity_missing"] - dm
            changed = [k for k in new if new[k] != old[k]]
            changes = [
                {
                    "entity": "inventory_items",
                    "id": str(row["id"]),
                    "action": "update",
                    "old": {k: old[k] for k in changed},
                    "new": {k: new[k] for k in changed},
                }
            ]
            await conn.execute(
                "INSERT INTO audit_logs (actor_id, actor_role, operation, entity_type, entity_id, changes, outcome, "
                "client_ip, user_agent, request_id, duration_ms) "
                "VALUES ($1, $2, 'adjustItemStock', 'inventory_items', $3, $4::jsonb, 'SUCCESS', $5, $6, $7, 0)",
                p.id,
                p.role,
                row["id"],
                orjson.dumps(changes).decode(),
                meta.get("client_ip"),
                meta.get("user_agent"),
                meta.get("request_id"),
            )
    except asyncpg.CheckViolationError:
        return error_result("ValidationError", "VALIDATION", "the change would break a stock rule")
    available = row["quantity"] - sum(row[k] for k in ("quantity_damaged", "quantity_missing"))
    available -= row["quantity_in_maintenance"] + row["quantity_on_loan"]
    return {
        "__typename": "AdjustItemStockPayload",
        "item": {
            "id": encode_id("InventoryItem", row["id"]),
            "quantity": row["quantity"],
            "quantityAvailable": available,
        },
        "movement": {"id": encode_id("InventoryMovement", movement["id"]), "quantityAfter": row["quantity"]},
    }
