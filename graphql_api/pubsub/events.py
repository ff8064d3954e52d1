"""What an event is, as written to the outbox and read back by every worker."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The LISTEN/NOTIFY channel; a notification carries only the newest outbox id.
CHANNEL = "graphql_api_outbox"
# Any fixed bigint, distinct from the project's other advisory locks.
OUTBOX_LOCK = 0x6F7574626F78  # "outbox"


@dataclass(frozen=True, slots=True)
class Event:
    """One committed event: its topic and the ids it concerns, never data."""

    id: int
    topic: str
    subject_id: uuid.UUID | None = None
    environment_id: uuid.UUID | None = None
    user_ids: tuple[uuid.UUID, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def ref(self, name: str) -> uuid.UUID:
        """One of the further ids the event names (kept as text in the outbox)."""
        return uuid.UUID(str(self.data[name]))
