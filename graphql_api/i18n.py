"""The message catalogue: every human-readable text, in Spanish (default) and English.

Codes never change with the language; only `message` does. Keys are dotted; parameters are
`str.format` fields. A key missing from the catalogue renders as the key itself (and a test
checks that both languages define the same keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("es", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    "es": {
        "error.generic": "Ocurrió un error.",
        "error.not_found": "No se encontró el recurso solicitado.",
        "error.conflict": "El recurso cambió mientras tanto; vuelve a cargarlo e inténtalo de nuevo.",
        "error.permission_denied": "No tienes permiso para realizar esta acción.",
        "error.invalid_credentials": "Correo o contraseña incorrectos.",
        "error.rate_limited": "Demasiados intentos. Inténtalo de nuevo en {seconds} segundos.",
        "error.validation": "Los datos enviados no son válidos.",
        "error.unauthenticated": "Debes iniciar sesión.",
        "error.forbidden": "Tu rol no permite esta operación.",
        "error.internal": "Error inesperado.",
        "error.db_unavailable": "La base de datos no está disponible. Inténtalo de nuevo en unos segundos.",
        "error.bad_request": "La solicitud no es válida.",
        "error.registration_disabled": "El registro de nuevas cuentas está deshabilitado.",
        "error.stale_quantity": "La cantidad cambió mientras tanto (esperada {expected}, actual {actual}).",
        "error.invalid_refresh_token": "La sesión expiró o no es válida; inicia sesión de nuevo.",
        "error.item_retired": "El elemento está dado de baja.",
        "error.already_in_state": "El recurso ya está en ese estado.",
        "error.query_cost": (
            "La consulta pide demasiados objetos: su costo estimado es {cost} y el límite es {limit}. "
            "Pide páginas más pequeñas o menos listas anidadas."
        ),
        "error.busy": "El servidor está ocupado con otras consultas grandes. Inténtalo de nuevo en {seconds} segundos.",
        "error.operation_limit": (
            "Esta conexión ya tiene {limit} operaciones abiertas; termina alguna antes de empezar otra."
        ),
        "field.required": "Este campo es obligatorio.",
        "field.blank": "Este campo no puede estar vacío.",
        "field.too_long": "Máximo {max} caracteres.",
        "field.invalid_email": "Correo electrónico no válido.",
        "field.email_taken": "Ya existe una cuenta con este correo.",
        "field.password_too_short": "La contraseña debe tener al menos {min} bytes.",
        "field.password_too_long": "La contraseña admite como máximo {max} bytes (UTF-8).",
        "field.wrong_password": "La contraseña actual no es correcta.",
        "field.same_password": "La nueva contraseña debe ser distinta de la actual.",
        "field.invalid_id": "Identificador no válido.",
        "field.not_found": "No existe o no está a tu alcance.",
        "field.must_be_warehouse": "Un administrador de almacén debe tener como ambiente un almacén.",
        "field.code_taken": "Ya existe un registro con este código.",
        "field.internal_code_taken": "Ya existe un elemento con este código interno.",
        "field.serial_taken": "Ya existe un elemento con este número de serie.",
        "field.min_value": "El valor mínimo es {min}.",
        "field.max_value": "El valor máximo es {max}.",
        "field.individual_quantity": "Un elemento individual tiene exactamente una unidad.",
        "field.buckets_exceed_quantity": "Las unidades no disponibles no pueden superar la cantidad total.",
        "field.negative_result": "El resultado no puede ser negativo.",
        "field.no_change": "Indica al menos un cambio.",
        "field.reason_not_allowed": "Este motivo no se puede usar en un ajuste manual.",
        "field.invalid_timezone": "Zona horaria no válida.",
        "field.environment_inactive": "El ambiente está inactivo.",
        "field.end_before_start": "Debe ser posterior al inicio.",
        "field.invalid_url": "URL no válida (debe empezar por http:// o https://).",
        "field.date_order": "La fecha final no puede ser anterior a la inicial.",
        "field.cannot_change_own": "No puedes cambiar esto en tu propia cuenta.",
        "field.has_units_out": "El elemento tiene unidades prestadas o en mantenimiento.",
    },
    "en": {
        "error.generic": "An error occurred.",
        "error.not_found": "The requested resource was not found.",
        "error.conflict": "The resource changed in the meantime; reload it and try again.",
        "error.permission_denied": "You are not allowed to perform this action.",
        "error.invalid_credentials": "Wrong e-mail or password.",
        "error.rate_limited": "Too many attempts. Try again in {seconds} seconds.",
        "error.validation": "The submitted data is not valid.",
        "error.unauthenticated": "You must sign in.",
        "error.forbidden": "Your role does not allow this operation.",
        "error.internal": "Unexpected error.",
        "error.db_unavailable": "The database is unavailable. Try again in a few seconds.",
        "error.bad_request": "The request is not valid.",
        "error.registration_disabled": "Registration of new accounts is disabled.",
        "error.stale_quantity": "The quantity changed in the meantime (expected {expected}, now {actual}).",
        "error.invalid_refresh_token": "The session expired or is invalid; sign in again.",
        "error.item_retired": "The item is retired.",
        "error.already_in_state": "The resource is already in that state.",
        "error.query_cost": (
            "The query asks for too many objects: its estimated cost is {cost} and the limit is {limit}. "
            "Ask for smaller pages or fewer nested lists."
        ),
        "error.busy": "The server is busy with other large queries. Try again in {seconds} seconds.",
        "error.operation_limit": (
            "This connection already has {limit} operations open; complete one before starting another."
        ),
        "field.required": "This field is required.",
        "field.blank": "This field cannot be blank.",
        "field.too_long": "At most {max} characters.",
        "field.invalid_email": "Invalid e-mail address.",
        "field.email_taken": "An account with this e-mail already exists.",
        "field.password_too_short": "The password must be at least {min} bytes long.",
        "field.password_too_long": "The password may be at most {max} bytes (UTF-8).",
        "field.wrong_password": "The current password is not correct.",
        "field.same_password": "The new password must differ from the current one.",
        "field.invalid_id": "Invalid identifier.",
        "field.not_found": "Does not exist or is out of your reach.",
        "field.must_be_warehouse": "A warehouse administrator's environment must be a warehouse.",
        "field.code_taken": "A record with this code already exists.",
        "field.internal_code_taken": "An item with this internal code already exists.",
        "field.serial_taken": "An item with this serial number already exists.",
        "field.min_value": "The minimum value is {min}.",
        "field.max_value": "The maximum value is {max}.",
        "field.individual_quantity": "An individual item has exactly one unit.",
        "field.buckets_exceed_quantity": "Unavailable units cannot exceed the total quantity.",
        "field.negative_result": "The result cannot be negative.",
        "field.no_change": "Give at least one change.",
        "field.reason_not_allowed": "This reason cannot be used in a manual adjustment.",
        "field.invalid_timezone": "Invalid time zone.",
        "field.environment_inactive": "The environment is inactive.",
        "field.end_before_start": "Must come after the start.",
        "field.invalid_url": "Invalid URL (must start with http:// or https://).",
        "field.date_order": "The end date cannot be before the start date.",
        "field.cannot_change_own": "You cannot change this on your own account.",
        "field.has_units_out": "The item has units on loan or in maintenance.",
    },
}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a domain's own messages (its notifications, its alerts) to the one catalogue, from
    the domain's module; both languages, and never a key that means something else already."""
    if set(messages) != set(LANGUAGES):
        raise ValueError(f"messages must be given in {LANGUAGES}")
    for language, entries in messages.items():
        for key, text in entries.items():
            known = CATALOGUE[language].get(key)
            if known is not None and known != text:
                raise ValueError(f"{key} is already in the catalogue with another text")
        CATALOGUE[language].update(entries)


def translate(key: str, language: str, params: Mapping[str, Any] | None = None) -> str:
    table = CATALOGUE.get(language) or CATALOGUE["es"]
    template = table.get(key) or CATALOGUE["es"].get(key) or key
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def negotiate(accept_language: str | None, default: str = "es") -> str:
    """Pick es or en from an Accept-Language header (first supported tag wins by weight)."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for part in accept_language.split(",")[:20]:
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        quality = 1.0
        for piece in pieces[1:]:
            name, _, value = piece.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # q=0 means "not acceptable" (RFC 9110 §12.4.2), not "least preferred".
        if tag in LANGUAGES and quality > 0 and quality > best_q:
            best, best_q = tag, quality
    return best
