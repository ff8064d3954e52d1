"""The demo data set loaded on first start in development (and by `seed --demo`).

Two centers with two rooms and a warehouse each, one account per role in each center, and
about sixty items across all categories, some with damaged or missing units, and system
alerts about them (missing units, maintenance due, low stock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import (
    AlertSeverity,
    AlertType,
    Center,
    Environment,
    InventoryItem,
    ItemCategory,
    ItemType,
    Role,
    User,
)
from graphql_api.services import alerts, items, low_stock, notifications, organization, users
from graphql_api.settings import Settings

DEMO_PASSWORD = "Demo12345!"  # noqa: S105 - published on purpose; demo data only


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    role: Role
    environment: str | None


_CENTERS = [
    ("CGMLTI", "Centro de Gestión de Mercados, Logística y TIC", "Bogotá, Calle 52 # 13-65"),
    ("CDM", "Centro de Diseño y Metrología", "Bogotá, Carrera 30 # 17-91"),
]
_ROOMS = [
    ("A101", "Ambiente 101 - Sistemas", "Bloque A, piso 1", 30),
    ("B204", "Ambiente 204 - Multimedia", "Bloque B, piso 2", 25),
]
_ITEMS: list[tuple[str, ItemCategory, ItemType, int, int, int, str | None]] = [
    # name, category, type, quantity, damaged, missing, brand
    ("Computador de escritorio", ItemCategory.COMPUTER, ItemType.GROUP, 20, 1, 0, "Lenovo"),
    ("Portátil instructor", ItemCategory.COMPUTER, ItemType.INDIVIDUAL, 1, 0, 0, "HP"),
    ("Videoproyector", ItemCategory.PROJECTOR, ItemType.INDIVIDUAL, 1, 0, 0, "Epson"),
    ("Teclado USB", ItemCategory.KEYBOARD, ItemType.GROUP, 20, 2, 1, "Genius"),
    ("Mouse óptico", ItemCategory.MOUSE, ItemType.GROUP, 20, 0, 2, "Logitech"),
    ('Televisor 55"', ItemCategory.TV, ItemType.INDIVIDUAL, 1, 0, 0, "Samsung"),
    ("Cámara web", ItemCategory.CAMERA, ItemType.GROUP, 4, 0, 0, "Logitech"),
    ("Micrófono inalámbrico", ItemCategory.MICROPHONE, ItemType.GROUP, 2, 1, 0, "Shure"),
    ("Tableta gráfica", ItemCategory.TABLET, ItemType.GROUP, 6, 0, 0, "Wacom"),
    ("Regleta multitoma", ItemCategory.OTHER, ItemType.GROUP, 10, 0, 0, None),
    # Low on stock everywhere (3 of 10 available): the low-stock job's alert.
    ("Cable HDMI", ItemCategory.OTHER, ItemType.GROUP, 10, 3, 4, None),
]


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def demo_accounts(session: AsyncSession) -> list[DemoAccount]:
    """The demo accounts in the database (after the first start; one may have been changed)."""
    rows = await session.execute(
        select(User.email, User.role, Environment.name)
        .outerjoin(Environment, Environment.id == User.environment_id)
        .where(User.email.like("%@demo.local"))
    )
    ranks = {role: rank for rank, role in enumerate(Role)}
    found = [DemoAccount(email, role, environment) for email, role, environment in rows]
    return sorted(found, key=lambda account: (account.email.split("@")[0].split(".")[-1], ranks[account.role]))


async def load_demo(session: AsyncSession, settings: Settings) -> list[DemoAccount]:
    """Create the demo data in the session's transaction; returns the accounts created."""
    accounts: list[DemoAccount] = []
    for center_index, (code, name, location) in enumerate(_CENTERS):
        center = await organization.create_center(
            session, name=name, code=code, location=location, description="Centro de demostración"
        )
        rooms = [
            await organization.create_environment(
                session,
                center_id=center.id,
                name=room_name,
                code=f"{code}-{room_code}",
                location=room_location,
                capacity=capacity,
                is_warehouse=False,
                description=None,
            )
            for room_code, room_name, room_location, capacity in _ROOMS
        ]
        warehouse = await organization.create_environment(
            session,
            center_id=center.id,
            name=f"Almacén {code}",
            code=f"{code}-ALM",
            location="Bloque C, sótano",
            capacity=0,
            is_warehouse=True,
            description=None,
        )
        created = await _users(session, settings, center, rooms[0], warehouse)
        accounts += created
        await _welcome(session, [account.email for account in created])
        admin = await session.scalar(select(User).where(User.email == f"admingeneral.{code.lower()}@demo.local"))
        assert admin is not None
        system = Principal(admin.id, Role.ADMIN_GENERAL, None, None, "es", admin.token_version)
        for env_index, environment in enumerate([*rooms, warehouse]):
            await _items(session, system, environment, f"{center_index}{env_index}")
    await _alerts(session, settings)
    return accounts


async def _users(
    session: AsyncSession,
    settings: Settings,
    center: Center,
    room: Environment,
    warehouse: Environment,
) -> list[DemoAccount]:
    code = center.code.lower()
    plan = [
        ("estudiante", Role.STUDENT, room, "Ana", "Estudiante"),
        ("instructor", Role.INSTRUCTOR, room, "Iván", "Instructor"),
        ("supervisor", Role.SUPERVISOR, room, "Sofía", "Supervisora"),
        ("almacen", Role.ADMIN, warehouse, "Andrés", "Almacenista"),
        ("admingeneral", Role.ADMIN_GENERAL, None, "Gloria", "Administradora"),
    ]
    accounts = []
    for prefix, role, home, first, last in plan:
        email = f"{prefix}.{code}@demo.local"
        await users.create_user(
            session,
            settings,
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            first_name=first,
            last_name=f"{last} {center.code}",
            environment_id=home.id if home else None,
        )
        accounts.append(DemoAccount(email, role, home.name if home else None))
    return accounts


async def _welcome(session: AsyncSession, emails: list[str]) -> None:
    """A first notification for every demo account, so that the inbox is not empty."""
    people = (await session.execute(select(User.id, User.role).where(User.email.in_(emails)))).all()
    for user_id, role in people:
        await notifications.notify(session, [user_id], "account.welcome", params={"role": role.value})


async def _alerts(session: AsyncSession, settings: Settings) -> None:
    """Alerts of three types: missing units, the projectors' maintenance due a week ago, and
    what the low-stock job finds (it would on its first run anyway)."""
    now = datetime.now(UTC)
    rows = await session.execute(
        select(InventoryItem, Environment.name)
        .join(Environment, Environment.id == InventoryItem.environment_id)
        .where((InventoryItem.quantity_missing > 0) | (InventoryItem.category == ItemCategory.PROJECTOR))
    )
    for item, environment in rows:
        where = {"item": item.name, "code": item.internal_code, "environment": environment}
        if item.quantity_missing:
            severity = AlertSeverity.HIGH if item.quantity_missing >= 3 else AlertSeverity.MEDIUM
            kind, params = AlertType.EQUIPMENT_MISSING, {**where, "missing": item.quantity_missing}
        else:
            severity = AlertSeverity.LOW
            kind, params = (
                AlertType.MAINTENANCE_DUE,
                {**where, "due_date": (now - timedelta(days=7)).date().isoformat()},
            )
        await alerts.raise_alert(
            session,
            kind,
            severity,
            subject_type="InventoryItem",
            subject_id=item.id,
            environment_id=item.environment_id,
            params=params,
        )
    await low_stock.run(session, now, settings)


async def _items(session: AsyncSession, actor: Principal, environment: Environment, tag: str) -> None:
    for index, (name, category, item_type, quantity, damaged, missing, brand) in enumerate(_ITEMS):
        if environment.is_warehouse and item_type is ItemType.INDIVIDUAL and index % 2:
            continue
        await items.create_item(
            session,
            actor,
            environment_id=environment.id,
            item_type=item_type,
            category=category,
            quantity=quantity,
            quantity_damaged=damaged,
            quantity_missing=missing,
            name=name,
            internal_code=f"SENA-{tag}-{index:03d}",
            serial_number=f"SN{tag}{index:04d}" if item_type is ItemType.INDIVIDUAL else None,
            brand=brand,
        )
