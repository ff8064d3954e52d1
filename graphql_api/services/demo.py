"""The demo data set loaded on first start in development (and by `seed --demo`).

Two centers with two rooms and a warehouse each, one account per role in each center, and
about sixty items across all categories, some with damaged or missing units; the instructor
of each center teaches in both rooms every day; in each center, maintenance requests in
every state, a history entry and a maintenance plan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.auth.scope import Principal
from graphql_api.db.models import (
    Center,
    Environment,
    InventoryItem,
    ItemCategory,
    ItemType,
    MaintenancePriority,
    MaintenanceType,
    Role,
    User,
)
from graphql_api.services import items, maintenance, notifications, organization, schedules, users
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
        await _schedules(session, settings, system, code, rooms)
        await _maintenance(session, settings, code.lower(), f"{center_index}0", rooms[0])
    return accounts


# The demo instructor's classes, every day of the week so that "today" has some whenever the
# demo is used: mornings in the home room, afternoons in the second room.
_SLOTS = ((0, time(7, 0), time(12, 0), "Programación de software"), (1, time(13, 0), time(17, 0), "Redes"))


async def _schedules(
    session: AsyncSession, settings: Settings, system: Principal, code: str, rooms: list[Environment]
) -> None:
    teacher = await session.scalar(select(User.id).where(User.email == f"instructor.{code.lower()}@demo.local"))
    today = datetime.now(settings.timezone).date()
    for weekday in range(1, 8):
        for room_index, start, end, program in _SLOTS:
            await schedules.create_schedule(
                session,
                system,
                environment_id=rooms[room_index].id,
                instructor_id=teacher,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=today - timedelta(days=30),
                valid_until=today + timedelta(days=365),
                program=program,
                group_number=f"{2758300 + room_index}",
                topic=None,
                student_count=24,
            )


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


async def _person(session: AsyncSession, email: str) -> Principal:
    user, center_id = (
        await session.execute(
            select(User, Environment.center_id)
            .outerjoin(Environment, Environment.id == User.environment_id)
            .where(User.email == email)
        )
    ).one()
    return Principal(user.id, user.role, user.environment_id, center_id, "es", user.token_version)


async def _demo_item(session: AsyncSession, tag: str, index: int) -> uuid.UUID:
    code = f"SENA-{tag}-{index:03d}"
    item_id: uuid.UUID = (
        await session.scalars(select(InventoryItem.id).where(InventoryItem.internal_code == code))
    ).one()
    return item_id


async def _maintenance(session: AsyncSession, settings: Settings, code: str, tag: str, room: Environment) -> None:
    """Requests of the first room in every state, made through the services as people would,
    plus a manual history entry and a plan for the desktops."""
    student, instructor, supervisor = [
        await _person(session, f"{who}.{code}@demo.local") for who in ("estudiante", "instructor", "supervisor")
    ]
    today = datetime.now(settings.timezone).date()
    desktops, projector, keyboards, mice = [await _demo_item(session, tag, index) for index in (0, 2, 3, 4)]

    async def request(by: Principal, item_id: uuid.UUID | None, title: str, **extra: Any) -> uuid.UUID:
        made = await maintenance.open_request(
            session,
            by,
            item_id=item_id,
            environment_id=None if item_id else room.id,
            units=extra.pop("units", 1 if item_id else None),
            title=title,
            description=extra.pop("description", title),
            priority=extra.pop("priority", MaintenancePriority.MEDIUM),
            **extra,
        )
        return made.id

    await request(student, desktops, "Equipos no encienden", units=2, description="Dos equipos de la fila 3.")
    assigned = await request(
        supervisor, None, "Aire acondicionado", description="No enfría.", priority=MaintenancePriority.HIGH
    )
    await maintenance.assign_request(session, supervisor, assigned, assignee_id=supervisor.id)
    started = await request(instructor, projector, "Imagen borrosa", priority=MaintenancePriority.URGENT)
    await maintenance.assign_request(session, supervisor, started, assignee_id=instructor.id)
    await maintenance.start_request(session, instructor, started)
    repaired = await request(supervisor, keyboards, "Teclas dañadas", units=2, units_already_damaged=True)
    await maintenance.assign_request(session, supervisor, repaired, assignee_id=supervisor.id)
    await maintenance.start_request(session, supervisor, repaired)
    work = maintenance.RecordFields(
        MaintenanceType.CORRECTIVE, "Cambio de teclas y limpieza.", cost=Decimal("35000.00"), parts="Juego de teclas"
    )
    await maintenance.complete_request(session, supervisor, repaired, returned_damaged=0, fields=work, today=today)
    mistaken = await request(student, mice, "Mouse sin respuesta", priority=MaintenancePriority.LOW)
    await maintenance.cancel_request(session, student, mistaken, reason="Era la batería.")
    await _maintenance_history(session, supervisor, desktops, today)


async def _maintenance_history(session: AsyncSession, supervisor: Principal, desktops: uuid.UUID, today: date) -> None:
    cleaning = maintenance.RecordFields(
        MaintenanceType.PREVENTIVE,
        "Limpieza interna y revisión de ventiladores.",
        performed_on=today - timedelta(days=60),
        next_date=today + timedelta(days=30),
    )
    await maintenance.add_record(session, supervisor, item_id=desktops, fields=cleaning, today=today)
    plan = maintenance.PlanFields(every_days=90, next_due_date=today + timedelta(days=30), units=20)
    await maintenance.set_plan(session, supervisor, item_id=desktops, fields=plan, today=today)
