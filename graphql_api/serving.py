"""uvicorn as `graphql-api serve` runs it: its options from the settings and a deadline for
each request to arrive."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from graphql_api.settings import Settings

log = logging.getLogger("uvicorn.error")


class ServerConfig(Config):
    """uvicorn's configuration plus what our protocol reads (pickled to every worker)."""

    def __init__(self, *args: Any, request_read_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_read_timeout = request_read_timeout


class HttpProtocol(HttpToolsProtocol):
    """httptools with a deadline: a request must arrive whole (headers and body) within
    `request_read_timeout` seconds of its first byte, and a new connection must send its first
    byte within that time too. uvicorn only times out idle keep-alive connections, so a client
    that sends half a request and stops held its connection, and a task waiting for the body,
    for as long as it liked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_read_deadline()

    def on_message_complete(self) -> None:
        self._cancel_read_deadline()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._cancel_read_deadline()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        self._cancel_read_deadline()
        timeout = getattr(self.config, "request_read_timeout", None)
        if timeout:
            self._read_deadline = self.loop.call_later(timeout, self._read_deadline_passed)

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_deadline_passed(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            peer = "{}:{}".format(*self.client) if self.client else "?"
            log.info("Closed the connection of %s: its request did not arrive within the read timeout", peer)
            # The app, if it waits for the body, gets http.disconnect (see app.client_disconnected).
            self.transport.close()


def server_config(settings: Settings, host: str, port: int, workers: int) -> ServerConfig:
    return ServerConfig(
        "graphql_api.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        loop="uvloop",
        http=HttpProtocol,
        ws="websockets-sansio",
        ws_max_size=64 * 1024,
        timeout_graceful_shutdown=20,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=settings.limit_concurrency or None,
        request_read_timeout=settings.request_read_timeout_seconds,
        proxy_headers=False,  # X-Forwarded-For is handled with TRUSTED_PROXIES
        server_header=False,
        access_log=False,
    )


def run(config: ServerConfig) -> None:
    """Serve until SIGTERM/SIGINT: in this process with one worker, else under uvicorn's
    supervisor."""
    if config.workers <= 1:
        server = Server(config)
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)  # as uvicorn.run: the app or the bind failed
        return
    Multiprocess(config, sockets=[config.bind_socket()]).run()
