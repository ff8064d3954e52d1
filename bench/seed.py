"""The benchmark's data set, in its own embedded PostgreSQL (bench/.data/postgres).

10 centers, 200 environments (20 of them warehouses), 50 000 items, 200 000 stock movements
(4 per item, consistent with the item's quantities), 2 000 users with their settings. Generation
is deterministic (fixed seed). The data set is built once into a template database, named after
SEED_VERSION and the migration head, and every benchmark run clones a fresh `bench` database from
it (CREATE DATABASE ... TEMPLATE), so mutations of one run never leak into the next.

`pg_stat_statements` is preloaded so that the harness can count statements per request, and
commit timestamps are tracked (`track_commit_timestamp`) so that it can time subscription events
from their commit.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import bcrypt

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on import
    from graphql_api.db.embedded import EmbeddedPostgres

from graphql_api.db.migrate import head_revision, upgrade

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
PG_DIR = DATA_DIR / "postgres"
DATABASE = "bench"
PASSWORD = "Bench12345!"  # every seeded user has it (one bcrypt hash, computed once)
ADMIN_EMAIL = "admin.general@bench.local"
STUDENT_EMAIL = "student@bench.local"
BCRYPT_ROUNDS = 12  # the production default of BCRYPT_ROUNDS, so logins never rehash

SEED_VERSION = 1
CENTERS = 10
ENVIRONMENTS_PER_CENTER = 20
WAREHOUSES_PER_CENTER = 2
ITEMS = 50_000
MOVEMENTS_PER_ITEM = 4
USERS = 2_000

LOG_LINE_PREFIX = "%m [%p] db=%d vxid=%v "
CONF_MARKER = "# --- bench/seed.py ---"
CONF_BLOCK = f"""
{CONF_MARKER}
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 5000
pg_stat_statements.track = top
pg_stat_statements.track_utility = on
"""

CATEGORIES = {
    # category: (label, individual?, brands)
    "COMPUTER": ("Computador", True, ("Dell", "Lenovo", "HP", "Asus")),
    "PROJECTOR": ("Proyector", True, ("Epson", "BenQ", "ViewSonic")),
    "TV": ("Televisor", True, ("Samsung", "LG", "Sony")),
    "CAMERA": ("Cámara", True, ("Canon", "Nikon", "Logitech")),
    "TABLET": ("Tableta", True, ("Samsung", "Apple", "Lenovo")),
    "KEYBOARD": ("Teclado", False, ("Logitech", "Genius", "Microsoft")),
    "MOUSE": ("Mouse", False, ("Logitech", "Genius", "Microsoft")),
    "MICROPHONE": ("Micrófono", False, ("Shure", "Audio-Technica", "Behringer")),
    "OTHER": ("Cable HDMI", False, ("Genérico", "Belkin")),
}
CATEGORY_WEIGHTS = {
    "COMPUTER": 30,
    "PROJECTOR": 5,
    "TV": 4,
    "CAMERA": 3,
    "TABLET": 6,
    "KEYBOARD": 20,
    "MOUSE": 20,
    "MICROPHONE": 5,
    "OTHER": 7,
}
CITIES = (
    "Bogotá",
    "Medellín",
    "Cali",
    "Barranquilla",
    "Bucaramanga",
    "Pereira",
    "Manizales",
    "Cúcuta",
    "Ibagué",
    "Neiva",
)
FIRST_NAMES = ("Ana", "Luis", "María", "Carlos", "Laura", "Andrés", "Paula", "Jorge", "Diana", "Felipe", "Sara")
LAST_NAMES = ("García", "Rodríguez", "Martínez", "López", "Gómez", "Pérez", "Díaz", "Torres", "Ramírez", "Vargas")

ITEM_COLUMNS = [
    "id",
    "environment_id",
    "name",
    "internal_code",
    "serial_number",
    "category",
    "item_type",
    "status",
    "brand",
    "model",
    "purchase_date",
    "warranty_expiry",
    "last_maintenance_date",
    "next_maintenance_date",
    "image_url",
    "notes",
    "quantity",
    "quantity_damaged",
    "quantity_missing",
    "quantity_in_maintenance",
    "quantity_on_loan",
    "movement_count",
    "retired_at",
    "created_at",
    "updated_at",
]
MOVEMENT_COLUMNS = [
    "id",
    "item_id",
    "environment_id",
    "reason",
    "delta_quantity",
    "delta_damaged",
    "delta_missing",
    "delta_in_maintenance",
    "delta_on_loan",
    "quantity_after",
    "actor_id",
    "note",
    "created_at",
]
USER_COLUMNS = [
    "id",
    "email",
    "password_hash",
    "role",
    "first_name",
    "last_name",
    "phone",
    "program",
    "ficha",
    "environment_id",
    "is_active",
    "token_version",
    "created_at",
    "updated_at",
]


def template_name() -> str:
    head = "".join(ch if ch.isalnum() else "_" for ch in (head_revision() or "none"))
    return f"bench_seed_v{SEED_VERSION}_{head}".lower()


def start_cluster() -> EmbeddedPostgres:
    """Start (or reuse) the bench cluster with pg_stat_statements preloaded and commit
    timestamps tracked."""
    server = EmbeddedPostgres(PG_DIR)
    server.init()
    conf = PG_DIR / "postgresql.conf"
    if CONF_MARKER not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(CONF_BLOCK)
    server.start()
    if "pg_stat_statements" not in asyncio.run(_show(server.url("postgres"), "shared_preload_libraries")):
        # A cluster left running by an interrupted run, started before the block was added.
        server.stop()
        server.start()
    if asyncio.run(_show(server.url("postgres"), "track_commit_timestamp")) != "on":
        # The subscriptions workload measures latency from each event's commit time.
        asyncio.run(_execute(server.url("postgres"), "ALTER SYSTEM SET track_commit_timestamp = on"))
        server.stop()
        server.start()
    asyncio.run(
        _execute(
            server.url("postgres"),
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            # The harness counts transactions per request from the statement log (the virtual
            # transaction id of each statement); logging is switched on only while it counts.
            f"ALTER SYSTEM SET log_line_prefix = '{LOG_LINE_PREFIX}'",
            "ALTER SYSTEM RESET log_statement",
            "SELECT pg_reload_conf()",
        )
    )
    return server


async def _show(url: str, name: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval(f"SHOW {name}"))
    finally:
        await conn.close()


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _database_exists(url: str, name: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def prepare_database(server: EmbeddedPostgres, *, reseed: bool = False, log: object = print) -> dict[str, object]:
    """Build the template if needed, then clone a fresh `bench` database from it."""
    admin_url = server.url("postgres")
    template = template_name()
    info: dict[str, object] = {"template": template, "seeded_now": False}
    if reseed and asyncio.run(_database_exists(admin_url, template)):
        asyncio.run(_execute(admin_url, f'DROP DATABASE "{template}" WITH (FORCE)'))
    if not asyncio.run(_database_exists(admin_url, template)):
        started = time.monotonic()
        building = f"{template}_building"
        asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
        server.create_database(building)
        log(f"  migrating {building} ...")
        upgrade(server.url(building))
        log("  generating and copying the data set ...")
        counts = asyncio.run(_seed(server.url(building)))
        asyncio.run(_execute(server.url(building), "VACUUM (ANALYZE)"))
        asyncio.run(_execute(admin_url, f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
        info.update(seeded_now=True, seed_seconds=round(time.monotonic() - started, 1), counts=counts)
        log(f"  seeded in {info['seed_seconds']} s: {counts}")
    started = time.monotonic()
    asyncio.run(
        _execute(
            admin_url,
            f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)',
            f'CREATE DATABASE "{DATABASE}" TEMPLATE "{template}"',
        )
    )
    info["clone_seconds"] = round(time.monotonic() - started, 1)
    return info


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _item_movements(
    rng: random.Random, individual: bool, retire: bool
) -> tuple[list[tuple[str, int, int, int, int, int]], dict[str, int]]:
    """Four consistent movements (reason, dq, dd, dm, dmaint, dloan) and the final quantities."""
    quantity = 1 if individual else rng.randint(5, 40)
    state = {"quantity": quantity, "damaged": 0, "missing": 0, "maint": 0, "loan": 0}
    moves = [("INITIAL", quantity, 0, 0, 0, 0)]
    for step in range(MOVEMENTS_PER_ITEM - 1):
        available = state["quantity"] - state["damaged"] - state["missing"] - state["maint"] - state["loan"]
        last = step == MOVEMENTS_PER_ITEM - 2
        if last and retire and state["loan"] == 0 and state["maint"] == 0:
            moves.append(("RETIRE", 0, 0, 0, 0, 0))
            break
        options: list[str] = []
        if available > 0:
            options += ["LOAN_OUT", "LOAN_OUT", "MAINTENANCE_OUT", "VERIFICATION_FINDING"]
        if state["loan"] > 0:
            options += ["LOAN_RETURN"] * 4
        if state["maint"] > 0:
            options += ["MAINTENANCE_RETURN"] * 4
        if state["damaged"] or state["missing"]:
            options.append("CORRECTION")  # repaired or found
        if not individual:
            options.append("RESTOCK")
            if available > 0:
                options.append("LOSS")
        reason = rng.choice(options)
        units = 1 if individual else rng.randint(1, max(1, min(3, available)))
        delta = [0, 0, 0, 0, 0]
        if reason == "LOAN_OUT":
            delta[4] = units
        elif reason == "LOAN_RETURN":
            delta[4] = -state["loan"]
        elif reason == "MAINTENANCE_OUT":
            delta[3] = 1
        elif reason == "MAINTENANCE_RETURN":
            delta[3] = -state["maint"]
        elif reason == "VERIFICATION_FINDING":
            delta[1 if rng.random() < 0.6 else 2] = 1
        elif reason == "CORRECTION":
            delta[1], delta[2] = -state["damaged"], -state["missing"]
        elif reason == "RESTOCK":
            delta[0] = rng.randint(1, 10)
        elif reason == "LOSS":
            delta[0] = -1
        state["quantity"] += delta[0]
        state["damaged"] += delta[1]
        state["missing"] += delta[2]
        state["maint"] += delta[3]
        state["loan"] += delta[4]
        moves.append((reason, *delta))
    return moves, state


async def _seed(url: str) -> dict[str, int]:
    rng = random.Random(20261125)
    now = datetime.now(UTC).replace(microsecond=0)
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()

    centers, environments = [], []
    rooms: list[tuple[uuid.UUID, int]] = []
    warehouses: list[tuple[uuid.UUID, int]] = []
    for c in range(CENTERS):
        center_id = _uuid(rng)
        city = CITIES[c % len(CITIES)]
        created = now - timedelta(days=800)
        centers.append(
            (center_id, f"Centro de Formación {city}", f"CF{c + 1:02d}", f"Calle {10 + c} # 20-30, {city}", created)
        )
        for e in range(ENVIRONMENTS_PER_CENTER):
            env_id = _uuid(rng)
            warehouse = e < WAREHOUSES_PER_CENTER
            name = f"Almacén {e + 1}" if warehouse else f"Ambiente {e - WAREHOUSES_PER_CENTER + 101}"
            code = f"CF{c + 1:02d}-{'AL' if warehouse else 'AM'}{e + 1:02d}"
            environments.append(
                (env_id, center_id, name, code, f"Bloque {e // 5 + 1}, piso {e % 5 + 1}", 30, warehouse, created)
            )
            (warehouses if warehouse else rooms).append((env_id, c))

    # Users: 1 ADMIN_GENERAL, one ADMIN per warehouse, 4 supervisors per center, instructors, students.
    users = []
    settings = []
    managers: list[uuid.UUID] = []

    def add_user(email: str, role: str, env: uuid.UUID | None) -> uuid.UUID:
        user_id = _uuid(rng)
        created = now - timedelta(days=rng.randint(30, 700))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        program = "Técnico en Sistemas" if role == "STUDENT" else None
        ficha = str(2_500_000 + rng.randint(0, 99_999)) if role == "STUDENT" else None
        phone = f"3{rng.randint(100_000_000, 199_999_999)}"
        users.append(
            (user_id, email, password_hash, role, first, last, phone, program, ficha, env, True, 1, created, created)
        )
        settings.append((user_id, "ES", "SYSTEM", created, created))
        return user_id

    managers.append(add_user(ADMIN_EMAIL, "ADMIN_GENERAL", None))
    add_user(STUDENT_EMAIL, "STUDENT", rooms[0][0])
    for index, (env_id, _) in enumerate(warehouses):
        managers.append(add_user(f"admin{index:04d}@bench.local", "ADMIN", env_id))
    for index in range(CENTERS * 4):
        center_rooms = [r for r in rooms if r[1] == index % CENTERS]
        managers.append(add_user(f"supervisor{index:04d}@bench.local", "SUPERVISOR", rng.choice(center_rooms)[0]))
    for index in range(200):
        add_user(f"instructor{index:04d}@bench.local", "INSTRUCTOR", rng.choice(rooms)[0])
    index = 0
    while len(users) < USERS:
        add_user(f"student{index:04d}@bench.local", "STUDENT", rng.choice(rooms)[0])
        index += 1

    items = []
    movements = []
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    per_env = ITEMS // len(environments)
    number = 0
    for env_id, *_ in environments:
        for _ in range(per_env):
            number += 1
            category = rng.choices(categories, weights)[0]
            label, individual, brands = CATEGORIES[category]
            brand = rng.choice(brands)
            model = f"{brand[:2].upper()}-{rng.randint(100, 999)}"
            retire = rng.random() < 0.01
            moves, state = _item_movements(rng, individual, retire)
            created = now - timedelta(days=rng.randint(10, 400), seconds=rng.randint(0, 86_399))
            stamps = sorted(created + timedelta(seconds=rng.randint(60, 9 * 86_400)) for _ in moves[1:])
            stamps.insert(0, created)
            item_id = _uuid(rng)
            quantity = 0
            for (reason, dq, dd, dm, dmaint, dloan), stamp in zip(moves, stamps, strict=True):
                quantity += dq
                movements.append(
                    (
                        _uuid(rng),
                        item_id,
                        env_id,
                        reason,
                        dq,
                        dd,
                        dm,
                        dmaint,
                        dloan,
                        quantity,
                        rng.choice(managers),
                        None,
                        stamp,
                    )
                )
            retired = moves[-1][0] == "RETIRE"
            purchase = date(2018, 1, 1) + timedelta(days=rng.randint(0, 2500))
            items.append(
                (
                    item_id,
                    env_id,
                    f"{label} {brand} {model}",
                    f"INV-{number:06d}",
                    f"SN-{brand[:3].upper()}-{number:07d}" if individual else None,
                    category,
                    "INDIVIDUAL" if individual else "GROUP",
                    "RETIRED" if retired else "ACTIVE",
                    brand,
                    model,
                    purchase,
                    purchase + timedelta(days=365 * rng.randint(1, 3)),
                    None,
                    None,
                    None,
                    None,
                    state["quantity"],
                    state["damaged"],
                    state["missing"],
                    state["maint"],
                    state["loan"],
                    len(moves),
                    stamps[-1] if retired else None,
                    created,
                    stamps[-1],
                )
            )

    conn = await asyncpg.connect(url)
    try:
        # Rows are consistent by construction: skip the per-row foreign-key triggers.
        await conn.execute("SET session_replication_role = replica")
        async with conn.transaction():
            await conn.copy_records_to_table(
                "centers",
                records=[(i, n, c, loc, None, True, t, t) for i, n, c, loc, t in centers],
                columns=["id", "name", "code", "location", "description", "is_active", "created_at", "updated_at"],
            )
            await conn.copy_records_to_table(
                "environments",
                records=[(i, ci, n, c, loc, cap, wh, True, t, t) for i, ci, n, c, loc, cap, wh, t in environments],
                columns=[
                    "id",
                    "center_id",
                    "name",
                    "code",
                    "location",
                    "capacity",
                    "is_warehouse",
                    "is_active",
                    "created_at",
                    "updated_at",
                ],
            )
            await conn.copy_records_to_table("users", records=users, columns=USER_COLUMNS)
            await conn.copy_records_to_table(
                "user_settings",
                records=settings,
                columns=["user_id", "language", "theme", "created_at", "updated_at"],
            )
            await conn.copy_records_to_table("inventory_items", records=items, columns=ITEM_COLUMNS)
            await conn.copy_records_to_table("inventory_movements", records=movements, columns=MOVEMENT_COLUMNS)
    finally:
        await conn.close()
    return {
        "centers": len(centers),
        "environments": len(environments),
        "warehouses": len(warehouses),
        "users": len(users),
        "items": len(items),
        "movements": len(movements),
    }
