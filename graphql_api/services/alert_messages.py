"""What each alert type says, in the catalogue's two languages, and the parameters its
texts need (a domain that raises an alert gives exactly those; `alerts.raise_alert` checks).

An alert's message is `alert.<type>`; the notification sent when it is raised is of kind
`alert.<type>` (`notification.alert.<type>.title` / `.body`), with the alert's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql_api import i18n
from graphql_api.db.models import AlertType

PARAMS: Mapping[AlertType, frozenset[str]] = {
    AlertType.LOW_STOCK: frozenset({"item", "code", "environment", "available", "threshold"}),
    AlertType.MAINTENANCE_DUE: frozenset({"item", "code", "environment", "due_date"}),
    AlertType.EQUIPMENT_MISSING: frozenset({"item", "code", "environment", "missing"}),
    AlertType.LOAN_OVERDUE: frozenset({"item", "environment", "requester", "due_date"}),
    AlertType.VERIFICATION_PENDING: frozenset({"environment", "date", "slot"}),
}


def kind(alert_type: AlertType) -> str:
    """The alert's catalogue key and its notification's kind."""
    return f"alert.{alert_type.value.lower()}"


_ES = {
    "alert.low_stock": (
        "Quedan {available} unidades disponibles de «{item}» ({code}) en {environment}; umbral {threshold}."
    ),
    "alert.maintenance_due": "«{item}» ({code}) de {environment} tiene mantenimiento pendiente desde el {due_date}.",
    "alert.equipment_missing": "Faltan {missing} unidades de «{item}» ({code}) en {environment}.",
    "alert.loan_overdue": "El préstamo de «{item}» de {environment} a {requester} venció el {due_date}.",
    "alert.verification_pending": "La verificación de {environment} del {date} ({slot}) no se envió a tiempo.",
    "notification.alert.low_stock.title": "Existencias bajas",
    "notification.alert.maintenance_due.title": "Mantenimiento pendiente",
    "notification.alert.equipment_missing.title": "Equipos faltantes",
    "notification.alert.loan_overdue.title": "Préstamo vencido",
    "notification.alert.verification_pending.title": "Verificación pendiente",
}
_EN = {
    "alert.low_stock": "{available} units of “{item}” ({code}) left available in {environment}; threshold {threshold}.",
    "alert.maintenance_due": "“{item}” ({code}) in {environment} has had maintenance due since {due_date}.",
    "alert.equipment_missing": "{missing} units of “{item}” ({code}) are missing in {environment}.",
    "alert.loan_overdue": "The loan of “{item}” from {environment} to {requester} was due on {due_date}.",
    "alert.verification_pending": "The check of {environment} on {date} ({slot}) was not submitted in time.",
    "notification.alert.low_stock.title": "Low stock",
    "notification.alert.maintenance_due.title": "Maintenance due",
    "notification.alert.equipment_missing.title": "Missing equipment",
    "notification.alert.loan_overdue.title": "Loan overdue",
    "notification.alert.verification_pending.title": "Check pending",
}
_ERRORS = {
    "es": {"error.alert_open_exists": "Ya hay una alerta abierta del mismo tipo para el mismo objeto."},
    "en": {"error.alert_open_exists": "An open alert of the same type for the same object already exists."},
}


def _with_bodies(texts: dict[str, str]) -> dict[str, str]:
    # A notification's body is the alert's own message.
    bodies = {f"notification.{kind(t)}.body": texts[kind(t)] for t in AlertType}
    return {**texts, **bodies}


i18n.register({"es": {**_with_bodies(_ES), **_ERRORS["es"]}, "en": {**_with_bodies(_EN), **_ERRORS["en"]}})
