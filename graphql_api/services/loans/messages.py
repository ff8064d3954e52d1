"""What the loans domain says: its errors, the notifications of each transition (rendered in
the reader's language when read), and the event every change publishes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api import i18n
from graphql_api.db.models import Loan, NotificationPriority
from graphql_api.services import events, notifications

# Every change of a loan: subject the loan, environment its warehouse, user_ids its requester.
LOAN_CHANGED = "loan"


def params_of(loan: Loan, item_name: str | None, **extra: Any) -> dict[str, Any]:
    """What a notification about the loan says (the item by name, dates as ISO days)."""
    label = item_name if item_name is not None else loan.item_description
    return {
        "item": label or "",
        "quantity": loan.quantity,
        "start": loan.start_date.isoformat(),
        "end": loan.end_date.isoformat(),
        **extra,
    }


def publish_change(session: AsyncSession, loan: Loan) -> None:
    events.publish(
        session,
        LOAN_CHANGED,
        subject_id=loan.id,
        environment_id=loan.warehouse_id,
        user_ids=[loan.requester_id],
        status=loan.status.value,
    )


async def tell_requester(
    session: AsyncSession,
    loan: Loan,
    item_name: str | None,
    kind: str,
    *,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    **extra: Any,
) -> None:
    """A transition: the requester is told (in their language, when they read it) and the
    loan's subscribers hear of it once the transaction commits."""
    await notifications.notify(
        session,
        [loan.requester_id],
        f"loan.{kind}",
        params=params_of(loan, item_name, **extra),
        priority=priority,
        subject=("Loan", loan.id),
    )
    publish_change(session, loan)


i18n.register(
    {
        "es": {
            "error.loan_wrong_status": "El préstamo está en estado {status}; esta acción no es posible ahora.",
            "error.loan_no_capacity": (
                "No hay unidades suficientes en esas fechas: quedan {free} libres y el préstamo pide {quantity}."
            ),
            "error.loan_units_unavailable": (
                "El almacén no tiene ahora las unidades para entregar este préstamo"
                " (disponibles {available}, pedidas {quantity})."
            ),
            "field.not_a_warehouse": "El ambiente no es un almacén.",
            "field.item_not_in_warehouse": "El elemento no pertenece a ese almacén.",
            "field.item_retired": "El elemento está dado de baja.",
            "field.exceeds_lendable": "El elemento tiene como máximo {max} unidades para prestar.",
            "field.item_or_description": "Indica un elemento registrado o describe uno no registrado (uno de los dos).",
            "field.date_in_past": "La fecha no puede estar en el pasado.",
            "field.date_in_future": "La fecha no puede estar en el futuro.",
            "field.loan_too_long": "Un préstamo dura como máximo {max} días.",
            "field.idempotency_key_reused": "Esta clave ya se usó con otra solicitud.",
            "field.return_counts": "Las unidades devueltas, dañadas y faltantes deben sumar {quantity}.",
            "field.before_delivery": "La fecha no puede ser anterior a la entrega ({delivered}).",
            "field.too_many": "Como máximo {max} valores.",
            "field.range_too_long": "El rango abarca como máximo {max} días.",
            "notification.loan.requested.title": "Nueva solicitud de préstamo",
            "notification.loan.requested.body": "{requester} solicita {quantity} × {item} del {start} al {end}.",
            "notification.loan.approved.title": "Préstamo aprobado",
            "notification.loan.approved.body": "Tu solicitud de {quantity} × {item} del {start} al {end} fue aprobada.",
            "notification.loan.rejected.title": "Préstamo rechazado",
            "notification.loan.rejected.body": "Tu solicitud de {quantity} × {item} fue rechazada: {reason}",
            "notification.loan.cancelled.title": "Solicitud cancelada",
            "notification.loan.cancelled.body": "Se canceló tu solicitud de {quantity} × {item} del {start} al {end}.",
            "notification.loan.delivered.title": "Préstamo entregado",
            "notification.loan.delivered.body": "Recibiste {quantity} × {item}. Devuélvelo a más tardar el {end}.",
            "notification.loan.overdue.title": "Préstamo vencido",
            "notification.loan.overdue.body": (
                "El préstamo de {quantity} × {item} venció el {end}. Devuélvelo al almacén cuanto antes."
            ),
            "notification.loan.returned.title": "Devolución registrada",
            "notification.loan.returned.body": (
                "Se registró la devolución de {quantity} × {item} el {returned_on}: {returned} en buen estado,"
                " {damaged} dañadas, {missing} faltantes."
            ),
        },
        "en": {
            "error.loan_wrong_status": "The loan is {status}; this action is not possible now.",
            "error.loan_no_capacity": (
                "Not enough units on those dates: {free} are free and the loan asks for {quantity}."
            ),
            "error.loan_units_unavailable": (
                "The warehouse does not have the units to deliver this loan now"
                " ({available} available, {quantity} requested)."
            ),
            "field.not_a_warehouse": "The environment is not a warehouse.",
            "field.item_not_in_warehouse": "The item does not belong to that warehouse.",
            "field.item_retired": "The item is retired.",
            "field.exceeds_lendable": "The item has at most {max} units to lend.",
            "field.item_or_description": "Give a registered item or describe an unregistered one (one of the two).",
            "field.date_in_past": "The date cannot be in the past.",
            "field.date_in_future": "The date cannot be in the future.",
            "field.loan_too_long": "A loan lasts at most {max} days.",
            "field.idempotency_key_reused": "This key was already used with another request.",
            "field.return_counts": "Returned, damaged and missing units must add up to {quantity}.",
            "field.before_delivery": "The date cannot be before the delivery ({delivered}).",
            "field.too_many": "At most {max} values.",
            "field.range_too_long": "The range spans at most {max} days.",
            "notification.loan.requested.title": "New loan request",
            "notification.loan.requested.body": "{requester} asks for {quantity} × {item} from {start} to {end}.",
            "notification.loan.approved.title": "Loan approved",
            "notification.loan.approved.body": (
                "Your request for {quantity} × {item} from {start} to {end} was approved."
            ),
            "notification.loan.rejected.title": "Loan rejected",
            "notification.loan.rejected.body": "Your request for {quantity} × {item} was rejected: {reason}",
            "notification.loan.cancelled.title": "Request cancelled",
            "notification.loan.cancelled.body": (
                "Your request for {quantity} × {item} from {start} to {end} was cancelled."
            ),
            "notification.loan.delivered.title": "Loan delivered",
            "notification.loan.delivered.body": "You received {quantity} × {item}. Return it by {end}.",
            "notification.loan.overdue.title": "Loan overdue",
            "notification.loan.overdue.body": (
                "The loan of {quantity} × {item} was due on {end}. Return it to the warehouse as soon as possible."
            ),
            "notification.loan.returned.title": "Return recorded",
            "notification.loan.returned.body": (
                "The return of {quantity} × {item} on {returned_on} was recorded: {returned} in good condition,"
                " {damaged} damaged, {missing} missing."
            ),
        },
    }
)
