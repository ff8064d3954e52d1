"""Each worker's subscription hub: the outbox listener hands it every committed event; it
renders each event once per group of subscribers and queues the rendered message for each.

A group is the subscribers that sent the same document, operation and variables and share a
scope (`Shared`): one rendering serves them all, with a fresh context (its own connection,
loaders and caller) made for that event, so what a subscriber gets is checked against their
scope when it is delivered. Each group renders its events in order, one at a time, from a
bounded queue that holds the listener back when full; each subscriber has a bounded queue of
rendered messages, and one that falls behind is disconnected instead of making the server
hold more and more for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, execute
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.execution.is_awaitable import optimized_is_awaitable

from graphql_api.api.core.context import Context
from graphql_api.api.core.errors import format_error
from graphql_api.api.core.subscriptions.feeds import Feed
from graphql_api.auth import scope
from graphql_api.auth.scope import Principal
from graphql_api.db.engine import is_db_unavailable
from graphql_api.pubsub.events import Event
from graphql_api.settings import Settings

log = logging.getLogger(__name__)
Close = Callable[[int, str], Coroutine[Any, Any, None]]
# graphql-transport-ws has no code for these; 4403 (Forbidden) is what its reference server
# uses to refuse a session, and 1008 is the WebSocket code for a policy violation.
CLOSE_REVOKED = (4403, "Forbidden: session revoked")
CLOSE_EXPIRED = (4403, "Forbidden: token expired")
CLOSE_BEHIND = (1008, "Subscriber fell behind")


@dataclass(frozen=True)
class Subscription:
    """A subscribe message accepted by the kit: what to render and for whom."""

    feed: Feed[Any]
    document: DocumentNode
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    context: Context

    @property
    def principal(self) -> Principal:
        return self.context.require_principal()

    def key(self) -> Hashable:
        principal, shared = self.principal, self.feed.shared.value
        who: tuple[Any, ...] = (scope.audience(principal), self.context.language)
        if shared == "user":
            who = (principal.id, *who)
        variables = orjson.dumps(self.variables or {}, option=orjson.OPT_SORT_KEYS)
        return (self.query, self.operation_name, variables, shared, who)


_TASKS: set[asyncio.Task[None]] = set()


def _background(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` on its own (closing a socket must not wait for the caller), keeping the task
    referenced until it ends."""
    task = asyncio.get_running_loop().create_task(work)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


class Member:
    """One subscriber (an operation on one socket): the messages ready to send it, at most
    `capacity`. A deque and one waiter rather than an asyncio.Queue: the queue's bookkeeping
    for many producers and consumers (its counters, its unfinished-task event, a deque of
    waiters) ran for every message of every subscriber."""

    def __init__(self, operation_id: str, capacity: int, close: Close) -> None:
        self.operation_id = operation_id
        self._prefix = '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'
        self._pending: deque[str] = deque()
        self._capacity = capacity
        self._waiter: asyncio.Future[None] | None = None
        self._close = close
        self.behind = False

    def offer(self, payload: str) -> None:
        if self.behind:
            return
        if len(self._pending) >= self._capacity:
            self.fall_behind()
            return
        self._pending.append(self._prefix + payload + "}")
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fall_behind(self) -> None:
        """Too much is waiting for this subscriber: its socket is closed."""
        if not self.behind:
            self.behind = True
            _background(self._close(*CLOSE_BEHIND))

    def queued(self) -> int:
        """Messages rendered for this subscriber and not yet sent."""
        return len(self._pending)

    async def messages(self) -> AsyncIterator[str]:
        pending = self._pending
        while True:
            if pending:
                yield pending.popleft()
            else:
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter


class Group:
    def __init__(self, hub: Hub, key: Hashable, subscription: Subscription) -> None:
        self.hub, self.key, self.subscription = hub, key, subscription
        self.feed = subscription.feed
        self.members: dict[Member, None] = {}
        self._events: asyncio.Queue[Event] = asyncio.Queue(hub.settings.subscription_queue_size)
        self._space = asyncio.Event()
        self._stopped = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="subscription-group")
        self.rendered = 0

    async def put(self, event: Event) -> None:
        """Queue an event to render, waiting while the queue is full: renderings that are
        behind (a database restarting, a burst) hold the listener back instead of losing
        events or disconnecting subscribers who are keeping up."""
        while not self._stopped:
            try:
                self._events.put_nowait(event)
                return
            except asyncio.QueueFull:
                self._space.clear()
                await self._space.wait()

    def stop(self) -> None:
        self._stopped = True
        self._space.set()
        self._task.cancel()

    def pending(self) -> int:
        """Events waiting to be rendered."""
        return self._events.qsize()

    async def _run(self) -> None:
        while True:
            event = await self._events.get()
            self._space.set()
            payload = await self._render(event)
            if payload is None:
                continue
            self.rendered += 1
            for member in list(self.members):
                member.offer(payload)

    async def _render(self, event: Event) -> str | None:
        """The event's payload; a database that is away (restarting) is waited for rather than
        the event dropped, the group's later events waiting behind it. Any other failure skips
        the event."""
        pause = 0.1
        while True:
            try:
                return await self.hub.render(self.subscription, event)
            except Exception as error:
                if is_db_unavailable(error) is None:
                    log.exception("rendering event %s for a subscription failed", event.id)
                    return None
                log.warning("rendering event %s waits for the database (%r); again in %.1f s", event.id, error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


class Hub:
    def __init__(
        self,
        *,
        schema: Any,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        revoke_topic: str,
    ) -> None:
        self.schema, self.engine, self.sessionmaker, self.settings = schema, engine, sessionmaker, settings
        self._revoke_topic = revoke_topic
        self._groups: dict[str, dict[Hashable, Group]] = {}
        self._sockets: dict[uuid.UUID, dict[Close, None]] = {}

    # ---- sockets ------------------------------------------------------------------------

    def connect(self, user_id: uuid.UUID, close: Close) -> None:
        self._sockets.setdefault(user_id, {})[close] = None

    def disconnect(self, user_id: uuid.UUID, close: Close) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is not None:
            sockets.pop(close, None)
            if not sockets:
                del self._sockets[user_id]

    def sockets(self) -> int:
        return sum(len(sockets) for sockets in self._sockets.values())

    def idle(self) -> bool:
        """Nobody on this worker waits for events: no open socket (revocations close sockets)
        and no subscriber."""
        return not self._sockets and not any(self._groups.values())

    # ---- subscribers --------------------------------------------------------------------

    def join(self, subscription: Subscription, member: Member) -> Group:
        key = subscription.key()
        groups = self._groups.setdefault(subscription.feed.topic, {})
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(self, key, subscription)
        group.members[member] = None
        return group

    def leave(self, group: Group, member: Member) -> None:
        group.members.pop(member, None)
        if not group.members:
            group.stop()
            groups = self._groups.get(group.feed.topic, {})
            if groups.get(group.key) is group:
                del groups[group.key]

    def groups(self) -> int:
        return sum(len(groups) for groups in self._groups.values())

    def live_groups(self) -> list[Group]:
        """The groups subscribers are in now (what the hub holds, for the tests that count it)."""
        return [group for groups in self._groups.values() for group in groups.values()]

    # ---- events -------------------------------------------------------------------------

    async def dispatch(self, events: Sequence[Event]) -> None:
        """Every committed event, in commit order (the listener's `deliver`)."""
        for event in events:
            if event.topic == self._revoke_topic:
                self._revoke(event.user_ids)
                continue
            for group in list(self._groups.get(event.topic, {}).values()):
                if group.feed.matches(event):
                    await group.put(event)

    def _revoke(self, user_ids: Sequence[uuid.UUID]) -> None:
        for user_id in user_ids:
            for close in list(self._sockets.get(user_id, {})):
                _background(close(*CLOSE_REVOKED))

    async def render(self, subscription: Subscription, event: Event) -> str | None:
        """The `next` payload of `event` for a group, as JSON text; None when the group's
        caller may not see it now."""
        context = subscription.context.derive(f"event-{event.id}")
        context.loaders.activate()
        try:
            value = await subscription.feed.load(context, event)
            if value is None:
                return None
            result: Any = execute(
                self.schema._schema,
                subscription.document,
                root_value=value,
                context_value=context,
                variable_values=subscription.variables,
                operation_name=subscription.operation_name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                executor_class=self.schema.execution_context_class,
            )
            if optimized_is_awaitable(result):
                result = await result
            for error in result.errors or ():
                if error.original_error is not None and is_db_unavailable(error.original_error):
                    raise error.original_error  # rendered again once the database is back
            return self._payload(result, context)
        finally:
            context.loaders.release()
            await context.db.close()

    def _payload(self, result: Any, context: Context) -> str:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            self.schema.process_errors(result.errors)
            payload["errors"] = [
                format_error(error, context.language, context.meta.request_id).formatted for error in result.errors
            ]
        text = orjson.dumps(payload).decode()
        if len(text) > self.settings.websocket_max_message_bytes - 100:
            error = GraphQLError(
                "The event does not fit in one message; select fewer fields.", extensions={"code": "BAD_REQUEST"}
            )
            text = orjson.dumps({"data": None, "errors": [error.formatted]}).decode()
        return text

    async def stop(self) -> None:
        for groups in self._groups.values():
            for group in groups.values():
                group.stop()
        self._groups.clear()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
