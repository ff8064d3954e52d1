"""The maintenance domain's texts: its errors and field errors, and its notifications."""

from __future__ import annotations

from graphql_api import i18n

i18n.register(
    {
        "es": {
            "error.maintenance_wrong_status": (
                "La solicitud de mantenimiento está en estado {status}: no admite esta acción."
            ),
            "error.maintenance_units_unavailable": (
                "Las {units} unidades de la solicitud no están en el elemento; nada cambió."
            ),
            "field.maintenance_target_required": "Indica un elemento o un ambiente.",
            "field.maintenance_not_item_environment": "El ambiente no es el del elemento.",
            "field.maintenance_no_units_for_environment": "Una solicitud para un ambiente no lleva unidades.",
            "field.maintenance_more_than_damaged": "El elemento no tiene tantas unidades dañadas.",
            "field.maintenance_date_in_future": "La fecha no puede ser posterior a hoy.",
            "field.maintenance_date_in_past": "La fecha no puede ser anterior a hoy.",
            "field.maintenance_next_date_not_after": "La próxima fecha debe ser posterior a la fecha del trabajo.",
            "field.maintenance_cost_decimals": "El costo admite como máximo dos decimales.",
            "field.maintenance_user_inactive": "El usuario está inactivo.",
            "field.maintenance_assignee_out_of_scope": "El usuario no tiene acceso al ambiente de la solicitud.",
            "field.maintenance_plan_schedule": "Indica cada cuántos días o una fecha fija, una de las dos.",
            "notification.maintenance.requested.title": "Nueva solicitud de mantenimiento",
            "notification.maintenance.requested.body": "«{title}» en {place}. Prioridad: {priority}.",
            "notification.maintenance.assigned.title": "Solicitud de mantenimiento asignada",
            "notification.maintenance.assigned.body": "«{title}» ({place}) quedó asignada a {assignee}.",
            "notification.maintenance.started.title": "Mantenimiento en curso",
            "notification.maintenance.started.body": "Comenzó el trabajo de «{title}» ({place}).",
            "notification.maintenance.completed.title": "Mantenimiento completado",
            "notification.maintenance.completed.body": "«{title}» ({place}) quedó completada.",
            "notification.maintenance.cancelled.title": "Solicitud de mantenimiento cancelada",
            "notification.maintenance.cancelled.body": "«{title}» ({place}) fue cancelada.",
        },
        "en": {
            "error.maintenance_wrong_status": "The maintenance request is {status}: this action does not apply to it.",
            "error.maintenance_units_unavailable": "The request's {units} units are not on the item; nothing changed.",
            "field.maintenance_target_required": "Give an item or an environment.",
            "field.maintenance_not_item_environment": "The environment is not the item's.",
            "field.maintenance_no_units_for_environment": "A request for an environment has no units.",
            "field.maintenance_more_than_damaged": "The item does not have that many damaged units.",
            "field.maintenance_date_in_future": "The date cannot be after today.",
            "field.maintenance_date_in_past": "The date cannot be before today.",
            "field.maintenance_next_date_not_after": "The next date must be after the date of the work.",
            "field.maintenance_cost_decimals": "The cost takes at most two decimals.",
            "field.maintenance_user_inactive": "The user is inactive.",
            "field.maintenance_assignee_out_of_scope": "The user has no access to the request's environment.",
            "field.maintenance_plan_schedule": "Give either an interval in days or a fixed date, one of the two.",
            "notification.maintenance.requested.title": "New maintenance request",
            "notification.maintenance.requested.body": "“{title}” in {place}. Priority: {priority}.",
            "notification.maintenance.assigned.title": "Maintenance request assigned",
            "notification.maintenance.assigned.body": "“{title}” ({place}) is assigned to {assignee}.",
            "notification.maintenance.started.title": "Maintenance in progress",
            "notification.maintenance.started.body": "Work on “{title}” ({place}) has started.",
            "notification.maintenance.completed.title": "Maintenance completed",
            "notification.maintenance.completed.body": "“{title}” ({place}) is completed.",
            "notification.maintenance.cancelled.title": "Maintenance request cancelled",
            "notification.maintenance.cancelled.body": "“{title}” ({place}) was cancelled.",
        },
    }
)
