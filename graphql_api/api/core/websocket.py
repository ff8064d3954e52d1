"""graphql-transport-ws as its protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) has it:
JSON in text frames."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected

# A close frame carries at most 125 bytes: the code (2) and a UTF-8 reason.
MAX_CLOSE_REASON_BYTES = 123


class TextFrames(ASGIWebSocketAdapter):
    """Every message goes out as a text frame. strawberry sends bytes as binary frames, and the
    view's encoder returns bytes (orjson, for HTTP); browsers' graphql-ws, Apollo, GraphiQL and
    gql do not parse binary frames."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        # Reasons may quote the client's input (an unknown type, an operation id); one that
        # does not fit in a close frame makes the WebSocket library raise instead of closing.
        encoded = reason.encode()
        if len(encoded) > MAX_CLOSE_REASON_BYTES:
            reason = encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
        await self.ws.close(code=code, reason=reason)
