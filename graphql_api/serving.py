"""uvicorn as `graphql-api serve` runs it: its options from the settings, a deadline for each
request to arrive, and a listening socket per worker.

uvicorn's supervisor binds one socket and hands it to every worker. All of them wait on it,
and whichever wakes first accepts every connection queued at that moment: a client (or load
balancer) opening its keep-alive connections at once got them all on one worker while the
others idled. Here each worker binds its own socket with SO_REUSEPORT, and the kernel spreads
new connections over the sockets. The supervisor itself is uvicorn's, unchanged (health checks,
replacing a dead worker, SIGHUP, graceful SIGTERM): it passes its "sockets" to each worker it
starts by pickling them, and `WorkerSocket` unpickles as a socket of the worker's own. A dead
worker's socket closes with it, so no connection waits in the queue of a worker that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
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


class WorkerSocket:
    """Pickles (in the supervisor) into a socket bound with SO_REUSEPORT in the worker that
    unpickles it: one socket per worker, in the same port group. uvicorn makes it listen once
    the worker's app has started, so a starting worker is given no connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return (bind_in_worker, (self.host, self.port))


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def bind_in_worker(host: str, port: int) -> socket.socket:
    try:
        return reuse_port_socket(host, port)
    except OSError as error:
        log.error("worker cannot bind %s:%d: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of restarting it forever


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
        ws_max_size=settings.websocket_max_message_bytes,
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
    supervisor with a socket per worker."""
    if config.workers <= 1:
        server = Server(config)
        # After a graceful shutdown on Ctrl-C uvicorn raises SIGINT again (as uvicorn.run does).
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)  # as uvicorn.run: the app or the bind failed
        return
    try:
        # Holds the port (bound, not listening, so it is given no connection) and fails early,
        # in the supervisor, if something else listens there; with port 0 it picks the port.
        reserved = reuse_port_socket(config.host, config.port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    with reserved:
        config.port = reserved.getsockname()[1]
        log.info("Uvicorn running on http://%s:%d with %d workers", config.host, config.port, config.workers)
        Multiprocess(config, sockets=[WorkerSocket(config.host, config.port)]).run()  # type: ignore[list-item]
