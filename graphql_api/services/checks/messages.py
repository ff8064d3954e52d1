"""What the check tells people (notifications about a room's check, in each reader's language),
and the texts of its errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api import i18n
from graphql_api.db.models import Environment, InventoryCheck, NotificationPriority, Role
from graphql_api.services import notifications


async def supervisors_of(session: AsyncSession, check: InventoryCheck) -> list[uuid.UUID]:
    return await notifications.users_reaching(session, check.environment_id, [Role.SUPERVISOR])


def students_of(check: InventoryCheck) -> list[uuid.UUID]:
    """Who opened the check and who submitted it."""
    return [user for user in (check.started_by_id, check.student_submitted_by_id) if user is not None]


async def tell(
    session: AsyncSession,
    check: InventoryCheck,
    kind: str,
    recipients: Iterable[uuid.UUID],
    *,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    **params: Any,
) -> None:
    room = await session.scalar(select(Environment.name).where(Environment.id == check.environment_id))
    await notifications.notify(
        session,
        recipients,
        kind,
        params={"environment": room, "date": check.check_date.isoformat(), **params},
        priority=priority,
        subject=("InventoryCheck", check.id),
    )


i18n.register(
    {
        "es": {
            "error.check_wrong_state": "La verificación está en el estado {status}; esta acción no aplica.",
            "field.no_class_today": "Esta clase no tiene sesión hoy (día, vigencia o clase inactiva).",
            "field.not_in_check": "El elemento no forma parte de esta verificación.",
            "field.counts_must_add_up": "Encontrados, dañados y faltantes deben sumar {expected}.",
            "field.items_not_recorded": "Faltan {count} elementos por registrar.",
            "notification.check.submitted.title": "Verificación por revisar",
            "notification.check.submitted.body": "Los aprendices enviaron la verificación de {environment} del {date}.",
            "notification.check.awaiting_approval.title": "Verificación por aprobar",
            "notification.check.awaiting_approval.body": (
                "El instructor revisó la verificación de {environment} del {date}; falta tu aprobación."
            ),
            "notification.check.approved.title": "Verificación aprobada",
            "notification.check.approved.body": "La verificación de {environment} del {date} fue aprobada.",
            "notification.check.rejected.title": "Verificación rechazada",
            "notification.check.rejected.body": (
                "La verificación de {environment} del {date} fue rechazada: {reason}. Corrígela y envíala de nuevo."
            ),
        },
        "en": {
            "error.check_wrong_state": "The check is {status}; this action does not apply.",
            "field.no_class_today": "This class does not meet today (weekday, validity or inactive class).",
            "field.not_in_check": "The item is not part of this check.",
            "field.counts_must_add_up": "Found, damaged and missing must add up to {expected}.",
            "field.items_not_recorded": "{count} items are not recorded yet.",
            "notification.check.submitted.title": "Check to review",
            "notification.check.submitted.body": "The students submitted the check of {environment} on {date}.",
            "notification.check.awaiting_approval.title": "Check to approve",
            "notification.check.awaiting_approval.body": (
                "The instructor reviewed the check of {environment} on {date}; it awaits your approval."
            ),
            "notification.check.approved.title": "Check approved",
            "notification.check.approved.body": "The check of {environment} on {date} was approved.",
            "notification.check.rejected.title": "Check rejected",
            "notification.check.rejected.body": (
                "The check of {environment} on {date} was rejected: {reason}. Correct it and submit it again."
            ),
        },
    }
)
