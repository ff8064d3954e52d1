"""`create_app(settings)`: the Starlette application with its routes, middleware and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graphql_api.api.core.ide import page as ide_page
from graphql_api.api.core.subscriptions.hub import Hub
from graphql_api.api.core.transport import BodyLimit
from graphql_api.api.core.view import GraphQLView
from graphql_api.api.schema import build_schema
from graphql_api.auth import passwords
from graphql_api.db.engine import is_db_unavailable, make_engine, make_sessionmaker, statement_counter
from graphql_api.db.migrate import is_at_head
from graphql_api.jobs.registry import JOBS
from graphql_api.jobs.scheduler import Scheduler
from graphql_api.pubsub.postgres import OutboxListener, driver_dsn
from graphql_api.services import events
from graphql_api.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, database_url: str | None = None, **engine_options: Any) -> Starlette:
    """Build the application. The engine is created here (lazily connecting) and disposed
    when the lifespan ends."""
    url = database_url or settings.database_url
    if not url:
        raise RuntimeError("no DATABASE_URL: start through `graphql-api serve` for the embedded database")
    passwords.set_thread_nice(settings.hash_thread_nice)
    engine = make_engine(settings, url, **engine_options)
    sessionmaker = make_sessionmaker(engine)
    schema = build_schema(
        introspection=settings.graphql_introspection,
        field_suggestions=not settings.is_production,
    )
    view = GraphQLView(
        schema,
        settings=settings,
        engine=engine,
        db=sessionmaker,
        graphql_ide="graphiql" if settings.graphql_ide else None,
        allow_queries_via_get=False,
        multipart_uploads_enabled=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=10),
        max_subscriptions_per_connection=10,
    )
    view.hub = hub = Hub(
        schema=schema, engine=engine, sessionmaker=sessionmaker, settings=settings, revoke_topic=events.SESSIONS_REVOKED
    )
    listener = OutboxListener(driver_dsn(url), hub.dispatch, poll_seconds=settings.outbox_poll_seconds, idle=hub.idle)
    scheduler = Scheduler(sessionmaker, settings, JOBS)

    async def live(_: Request) -> Response:
        if settings.is_production:
            return JSONResponse({"status": "ok"})
        # Which worker process answered: the tests of how workers share connections read it.
        return JSONResponse({"status": "ok", "worker": os.getpid()})

    async def ready(_: Request) -> Response:
        return await readiness(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # What exists at start-up (modules, the schema, SQLAlchemy's metadata) lives as long as
        # the process. Frozen, it is no longer walked by full collections, which otherwise made
        # most of the p99 of small requests.
        gc.collect()
        gc.freeze()
        if settings.slow_callback_ms:
            watch_event_loop(settings.slow_callback_ms)
        await listener.start()
        if settings.scheduler_enabled:
            scheduler.start()
        yield
        await scheduler.stop()
        await listener.stop()
        await hub.stop()
        await engine.dispose()

    middleware = []
    if settings.count_statements:
        middleware.append(Middleware(CountStatements))
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "accept-language", "x-request-id"],
                allow_credentials=True,
                max_age=600,
            )
        )
    # Innermost, so that CORS headers reach a 413 too.
    middleware.append(Middleware(BodyLimit, max_bytes=settings.max_body_bytes))
    app = Starlette(
        routes=[
            # Every method reaches the view, which answers a 405 as a GraphQL JSON body.
            Route("/graphql", view),
            WebSocketRoute("/graphql", view),
            Route("/health/live", live),
            Route("/health/ready", ready),
            *(ide_page.routes() if settings.graphql_ide else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={ClientDisconnect: client_disconnected},
    )
    app.state.engine = engine
    app.state.listener = listener
    app.state.hub = hub
    app.state.sessionmaker = sessionmaker
    app.state.settings = settings
    return app


async def readiness(engine: AsyncEngine) -> Response:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        at_head = await is_at_head(engine)
    except Exception as error:
        reason = is_db_unavailable(error) or "ERROR"
        log.warning("readiness check failed: %r", error)
        return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
    if not at_head:
        return JSONResponse({"status": "unavailable", "database": "ok", "migrations": "behind"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "migrations": "head"})


async def client_disconnected(request: Request, _: Exception) -> Response:
    """A client that hangs up before its body is in is routine (a closed app, a lost network,
    the read timeout): one line, not a traceback. Nobody reads the response."""
    peer = request.client.host if request.client else "?"
    log.info("client %s disconnected before its %s %s request arrived", peer, request.method, request.url.path)
    return Response(status_code=400)


def watch_event_loop(threshold_ms: int) -> None:
    """SLOW_CALLBACK_MS (diagnostics, benchmarks): asyncio debug mode, which logs every callback
    that holds the event loop longer than the threshold ("Executing <Task …> took 0.061 seconds").
    Debug mode itself slows the server down; never in production."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = threshold_ms / 1000
    # Debug mode also records where every coroutine was created (10 frames each), which slows
    # every request and is not needed to find slow callbacks; the loop turns it on with a
    # callback of its own (uvloop), so it is turned off again by the next one.
    loop.call_soon(sys.set_coroutine_origin_tracking_depth, 0)
    log.warning("event loop watch on: callbacks over %s ms are logged by the 'asyncio' logger", threshold_ms)


class CountStatements:
    """COUNT_STATEMENTS mode (benchmarks): report the SQL statements and transactions of each
    HTTP request in `x-sql-statements` / `x-sql-transactions` response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0, 0]
        token = statement_counter.set(counter)

        async def send_with_counts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-sql-statements"] = str(counter[0])
                headers["x-sql-transactions"] = str(counter[1])
            await send(message)

        try:
            await self.app(scope, receive, send_with_counts)
        finally:
            statement_counter.reset(token)


def app_factory() -> Starlette:
    """Entry point for uvicorn workers (`--factory`): settings from the environment."""
    return create_app(Settings.from_env())
