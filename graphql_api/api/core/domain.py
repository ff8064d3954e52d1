"""A domain registers itself once, in its own package; the schema merges the domain list.

    DOMAIN = Domain(
        name="items",
        query=ItemQuery,
        mutation=ItemMutation,
        types=(InventoryItem, InventoryMovement),
    )

`extends` lists classes of fields the domain adds to other domains' types (see
`types.extends`: `item.loans` belongs to loans, not to items). `types` lists the domain's node types (what `node(id:)` may return: each found through the
by-id loader its `@model_type` declares, so within the caller's scope); loaders need no
registration (they are typed keys, made per request on first use).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    types: tuple[type, ...] = ()
    extends: tuple[type, ...] = ()
