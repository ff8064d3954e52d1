"""graphql-transport-ws as its protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) has it:
JSON in text frames, and close code 4400 for any message that is not one of its shapes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Any, cast

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as ClosedByServer
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from graphql_api.api.core.context import Context
from graphql_api.api.core.execution import Schema
from graphql_api.api.core.subscriptions.hub import CLOSE_EXPIRED, Hub, Member, Subscription
from graphql_api.api.core.subscriptions.plan import subscribe
from graphql_api.i18n import translate

# A close frame carries at most 125 bytes: the code (2) and a UTF-8 reason.
MAX_CLOSE_REASON_BYTES = 123


class TextFrames(ASGIWebSocketAdapter):
    """Every message goes out as a text frame. strawberry sends bytes as binary frames, and the
    view's encoder returns bytes (orjson, for HTTP); browsers' graphql-ws, Apollo, GraphiQL and
    gql do not parse binary frames."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.send_text(self.view.encode_json_string(message))

    async def send_text(self, text: str) -> None:
        """A message already encoded (the subscription hub renders once for many sockets)."""
        try:
            await self.ws.send_text(text)
        except (WebSocketDisconnect, ClosedByServer) as error:
            # ClosedByServer: the server closed the socket itself (revoked, expired, behind)
            # with messages still queued for it.
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        # Reasons may quote the client's input (an unknown type, an operation id); one that
        # does not fit in a close frame makes the WebSocket library raise instead of closing.
        encoded = reason.encode()
        if len(encoded) > MAX_CLOSE_REASON_BYTES:
            reason = encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
        await self.ws.close(code=code, reason=reason)


CLIENT_MESSAGE_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
_OPTIONAL_PAYLOAD_FIELDS = (
    ("variables", dict, "an object"),
    ("extensions", dict, "an object"),
    ("operationName", str, "a string"),
)


def malformed(message: object) -> str | None:
    """Why `message` is not a client message of graphql-transport-ws (None when it is one).
    The checks are those of the protocol's reference implementation (`validateMessage`)."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message must have a string 'type'"
    if kind not in CLIENT_MESSAGE_TYPES:
        return f"Unexpected message of type {kind}"
    if kind in ("subscribe", "complete"):
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return f"A '{kind}' message must have a non-empty string 'id'"
    payload = message.get("payload")
    if kind == "subscribe":
        return _malformed_subscribe_payload(payload)
    if payload is not None and not isinstance(payload, dict):
        return f"The payload of '{kind}' must be an object or null"
    return None


def _malformed_subscribe_payload(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return "The payload of 'subscribe' must be an object"
    if not isinstance(payload.get("query"), str):
        return "'payload.query' must be a string"
    for name, kind, described in _OPTIONAL_PAYLOAD_FIELDS:
        value = payload.get(name)
        if value is not None and not isinstance(value, kind):
            return f"'payload.{name}' must be {described} or null"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's handler, given only messages of the protocol's shapes: it indexes them
    blindly, so an array, a payload that is not an object or an unhashable id raised in the
    server (the client saw 1006) and a query that is not a string failed in the operation task."""

    async def handle_message(self, message: Message) -> None:
        problem = malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            # The protocol allows `payload: null`; strawberry takes only an object.
            message = {"type": "connection_init", "payload": {}}
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        ):
            # strawberry refuses it with an untyped error; the client needs the code and the limit.
            language = self.context.language
            error = GraphQLError(
                translate("error.operation_limit", language, {"limit": limit}),
                extensions={"code": "BAD_REQUEST", "limit": limit},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)

    @property
    def _hub(self) -> Hub:
        hub: Hub = cast(Any, self.view).hub
        return hub

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        principal = self.context.principal
        if self.connection_acknowledged and principal is not None:
            # Revoked sessions are closed at once; an expired token at its expiry.
            self._hub.connect(principal.id, self._close)
            claims = self.context.claims
            if claims is not None:
                delay = max(0.0, claims.expires_at.timestamp() - time.time())
                self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        self._closing = asyncio.get_running_loop().create_task(self._close(*CLOSE_EXPIRED))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # the socket may be gone already
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        expiry = getattr(self, "_expiry", None)
        if expiry is not None:
            expiry.cancel()
        principal = self.context.principal
        if principal is not None:
            self._hub.disconnect(principal.id, self._close)
        await super().shutdown()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # A context of its own for each operation: its own connection, and loaders that hold
        # nothing from the socket's earlier operations.
        context = self.context.derive(f"{self.context.meta.request_id}-{operation.id}"[:64])
        try:
            subscription = await self._subscribe(operation, context)
            if subscription is None:
                await self._run_once(operation, context)
                return
            # The checks are done: their connection goes back to the pool now (each event is
            # rendered with a context of its own) instead of being held while the subscription
            # lives, and after it until garbage-collected.
            await context.db.close()
            if isinstance(subscription, list):
                await operation.send_initial_errors(subscription)
            else:
                await self._serve(operation, subscription)
        except Exception as error:
            # As strawberry's own run_operation: logged, the operation ends, its id is free.
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            await context.db.close()

    async def _subscribe(
        self, operation: Operation[Context, None], context: Context
    ) -> Subscription | list[GraphQLError] | None:
        """The operation's subscription, or why not; None for a query or mutation, which then
        runs on `context`. Otherwise `context`'s connection goes back to the pool at once: the
        hub renders each event on a connection of its own, and one held for the life of each
        subscription left a worker's pool empty after its first 30 subscribers."""
        runs_here = False
        try:
            subscription = await subscribe(
                cast(Schema, self.schema), operation.query, operation.variables, operation.operation_name, context
            )
            runs_here = subscription is None
            return subscription
        finally:
            if not runs_here:
                await context.db.close()

    async def _run_once(self, operation: Operation[Context, None], context: Context) -> None:
        """A query or mutation: strawberry's run_operation, with the operation's own context."""
        try:
            context.loaders.activate()
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with contextlib.aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        finally:
            context.loaders.release()
            await context.db.close()

    async def _serve(self, operation: Operation[Context, None], subscription: Subscription) -> None:
        member = Member(operation.id, self.context.settings.subscription_queue_size, self._close)
        hub = self._hub
        group = hub.join(subscription, member)
        try:
            async for text in member.messages():
                await cast(TextFrames, self.websocket).send_text(text)
        except WebSocketDisconnected:
            pass
        finally:
            hub.leave(group, member)

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # strawberry closes the socket (4400) when the document does not parse or names no
        # operation of its own. Those are request errors like a failed validation: the
        # protocol's `error` message for that operation, with its code, and the client's other
        # operations go on.
        return None
