"""How a domain declares a subscription: a field whose resolver checks what the subscriber
asked for and answers with a `Feed` (which events, and what each becomes).

    @strawberry.type
    class ItemSubscription:
        @subscription(description="...", permission=permissions.authenticated())
        async def item_stock_changed(self, info: Info, environment_id: ...) -> AsyncGenerator[StockChange, None]:
            environment = await visible_or_not_found(info, ENVIRONMENT_BY_ID, environment_id, "Environment")
            return Feed(
                items.STOCK_CHANGED,
                matches=lambda event: event.environment_id == environment.id,
                load=stock_change,            # (context, event) -> the value, or None if not visible
                shared=Shared.BY_SCOPE,
            )

The kit runs it once, when the client subscribes; afterwards the worker's hub hands the feed
every committed event of its topic, and renders each event once per group of subscribers that
sent the same document and variables and share a scope (see hub.py).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Generic, NoReturn, TypeVar

import strawberry
from strawberry.extensions import FieldExtension

from graphql_api.api.core.context import Context
from graphql_api.pubsub.events import Event

T = TypeVar("T")


class Shared(enum.Enum):
    """Which subscribers may share one rendering of an event."""

    # Those with the same caller (a user's own notifications, or anything that may depend on
    # who the caller is).
    BY_USER = "user"
    # Those who see the same rows (`scope.audience`: role, home environment and center, and an
    # instructor's own classes): for events whose visibility follows the environment only.
    BY_SCOPE = "scope"


class Feed(AsyncGenerator[T, None], Generic[T]):
    """The events of `topic` that `matches` (the subscriber's arguments), each turned into the
    field's value by `load` with a fresh context made for that event (its loaders, its
    connection; None: the subscriber may not see it now, and gets nothing). A subscription
    resolver returns one; the hub serves it."""

    def __init__(
        self,
        topic: str,
        *,
        matches: Callable[[Event], bool],
        load: Callable[[Context, Event], Awaitable[T | None]],
        shared: Shared = Shared.BY_USER,
    ) -> None:
        self.topic = topic
        self.matches = matches
        self.load = load
        self.shared = shared

    async def asend(self, value: None) -> NoReturn:
        raise RuntimeError("a Feed is served by the subscription hub (graphql_api.api.core.subscriptions)")

    async def athrow(self, *args: Any) -> NoReturn:
        raise RuntimeError("a Feed is served by the subscription hub")


def subscription(*, description: str, permission: list[FieldExtension] | None = None) -> Callable[[Any], Any]:
    """Declare a subscription field whose resolver returns a `Feed`."""

    def decorator(resolver: Any) -> Any:
        return strawberry.subscription(resolver=resolver, description=description, extensions=permission or [])

    return decorator
