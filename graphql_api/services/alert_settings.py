"""Each user's alert settings, read and changed by that user only: the low-stock threshold,
which alert types and from which severity they want, and whether to be notified. A user who
never saved any has the defaults (no row)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.db.models import AlertSettings, AlertSeverity, AlertType
from graphql_api.errors import FieldErrors
from graphql_api.services import audit, validation
from graphql_api.services.alerts import DEFAULT_THRESHOLD

MAX_THRESHOLD = 100_000  # as the table's CHECK constraint


def _default_values(user_id: uuid.UUID) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "low_stock_threshold": DEFAULT_THRESHOLD,
        "alert_types": None,
        "min_severity": AlertSeverity.LOW,
        "notify": True,
    }


def defaults(user_id: uuid.UUID) -> AlertSettings:
    """The settings of a user who never changed them (not stored)."""
    return AlertSettings(**_default_values(user_id))


async def get(session: AsyncSession, user_id: uuid.UUID) -> AlertSettings:
    found: AlertSettings | None = await session.scalar(select(AlertSettings).where(AlertSettings.user_id == user_id))
    return found if found is not None else defaults(user_id)


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    if "low_stock_threshold" in changes:
        threshold = changes["low_stock_threshold"]
        validation.int_range(errors, "lowStockThreshold", threshold, minimum=0, maximum=MAX_THRESHOLD)
    errors.raise_if_any()
    clean = dict(changes)
    if clean.get("alert_types") is not None:
        # Stored by name, each once, in the enum's order; null (all types) stays null.
        chosen = set(clean["alert_types"])
        clean["alert_types"] = [t.value for t in AlertType if t in chosen]
    return clean


async def update(session: AsyncSession, user_id: uuid.UUID, changes: dict[str, Any]) -> AlertSettings:
    """Change the given settings of `user_id` (the others keep their value, or the default)."""
    clean = _clean(changes)
    insert = pg_insert(AlertSettings).values({**_default_values(user_id), **clean})
    statement = (
        insert.on_conflict_do_update(
            index_elements=[AlertSettings.user_id],
            set_={**{name: insert.excluded[name] for name in clean}, "updated_at": func.now()},
        )
        .returning(AlertSettings)
        .execution_options(populate_existing=True)
    )
    saved: AlertSettings = (await session.execute(statement)).scalar_one()
    audit.note_change(session, entity="alert_settings", entity_id=user_id, new=clean)
    return saved
