"""Every setting of the server, read from the environment in this module and nowhere else.

Values come from environment variables, with a `.env` file in the working directory filling in
what the environment does not set (development convenience; never commit one). The README lists
each variable with its default; `Settings.from_env` is the single place that parses them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The development secret is public (it is in this file), so production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"  # noqa: S105
DEFAULT_QR_SECRET_KEY = "dev-insecure-qr-key-change-me-0123456789abcdef"  # noqa: S105
MIN_SECRET_BYTES = 32


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe; the message names the variable."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed, immutable configuration; build it with `Settings.from_env()`."""

    app_env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    data_dir: Path = Path(".data")
    database_url: str | None = None
    seed_demo: bool = True

    secret_key: str = DEFAULT_SECRET_KEY
    qr_secret_key: str = DEFAULT_QR_SECRET_KEY
    jwt_issuer: str = "inventory-auth"
    jwt_audience: str = "inventory-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    bcrypt_rounds: int = 12
    hash_thread_nice: int = 10
    allow_self_registration: bool = True
    login_max_failures_per_account_and_ip: int = 5
    login_max_failures_per_ip: int = 20
    login_max_failures_per_account: int = 20
    login_known_address_days: int = 30
    login_failure_window_seconds: int = 15 * 60
    login_lockout_seconds: int = 15 * 60
    register_max_per_ip: int = 30
    register_window_seconds: int = 3600

    graphql_ide: bool = True
    graphql_introspection: bool = True
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    keep_alive_timeout_seconds: int = 5
    request_read_timeout_seconds: int = 30
    limit_concurrency: int = 1000
    app_timezone: str = "America/Bogota"
    default_language: str = "es"

    db_pool_size: int = 20
    db_max_overflow: int = 10
    db_pool_timeout_seconds: int = 5
    db_connect_timeout_seconds: int = 3
    db_statement_timeout_ms: int = 15_000
    count_statements: bool = False
    slow_callback_ms: int = 0
    max_page_size: int = 100
    query_cost_limit: int = 25_000
    admission_running_cost: int = 10_000
    admission_queue_cost: int = 100_000
    subscription_queue_size: int = 100
    websocket_max_message_bytes: int = 65_536
    outbox_retention_seconds: int = 86_400
    outbox_poll_seconds: int = 5
    scheduler_enabled: bool = True

    env_file_values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.app_timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")) -> Settings:
        """Read the settings; `environ` defaults to `os.environ` merged over `.env`."""
        env: dict[str, str] = {}
        file_values: dict[str, str] = {}
        if environ is None:
            if env_file is not None and env_file.is_file():
                from dotenv import dotenv_values

                file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
                env.update(file_values)
            env.update(os.environ)
        else:
            env.update(environ)

        app_env = env.get("APP_ENV", "development").strip().lower() or "development"
        if app_env not in {"development", "production", "test"}:
            raise SettingsError(f"APP_ENV must be development, production or test, got {app_env!r}")
        production = app_env == "production"

        settings = cls(
            app_env=app_env,
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000, minimum=0),
            workers=_int(env, "WORKERS", 1, minimum=1),
            log_level=env.get("LOG_LEVEL", "info").lower(),
            data_dir=Path(env.get("DATA_DIR", ".data")),
            database_url=env.get("DATABASE_URL") or None,
            seed_demo=_bool(env, "SEED_DEMO", not production),
            secret_key=env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
            qr_secret_key=env.get("QR_SECRET_KEY", DEFAULT_QR_SECRET_KEY),
            jwt_issuer=env.get("JWT_ISSUER", "inventory-auth"),
            jwt_audience=env.get("JWT_AUDIENCE", "inventory-api"),
            access_token_ttl_seconds=_int(env, "ACCESS_TOKEN_TTL_SECONDS", 900, minimum=30),
            refresh_token_ttl_seconds=_int(env, "REFRESH_TOKEN_TTL_SECONDS", 14 * 24 * 3600, minimum=60),
            bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 12, minimum=4),
            hash_thread_nice=_int(env, "HASH_THREAD_NICE", 10, minimum=0),
            allow_self_registration=_bool(env, "ALLOW_SELF_REGISTRATION", True),
            login_max_failures_per_account_and_ip=_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP", 5, minimum=1),
            login_max_failures_per_ip=_int(env, "LOGIN_MAX_FAILURES_PER_IP", 20, minimum=1),
            login_max_failures_per_account=_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 20, minimum=1),
            login_known_address_days=_int(env, "LOGIN_KNOWN_ADDRESS_DAYS", 30, minimum=0),
            login_failure_window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1),
            login_lockout_seconds=_int(env, "LOGIN_LOCKOUT_SECONDS", 900, minimum=1),
            register_max_per_ip=_int(env, "REGISTER_MAX_PER_IP", 30, minimum=1),
            register_window_seconds=_int(env, "REGISTER_WINDOW_SECONDS", 3600, minimum=1),
            graphql_ide=_bool(env, "GRAPHQL_IDE", not production),
            graphql_introspection=_bool(env, "GRAPHQL_INTROSPECTION", not production),
            cors_origins=_list(env, "CORS_ORIGINS"),
            trusted_proxies=_list(env, "TRUSTED_PROXIES"),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            keep_alive_timeout_seconds=_int(env, "KEEP_ALIVE_TIMEOUT_SECONDS", 5, minimum=1),
            request_read_timeout_seconds=_int(env, "REQUEST_READ_TIMEOUT_SECONDS", 30, minimum=1),
            limit_concurrency=_int(env, "LIMIT_CONCURRENCY", 1000),
            app_timezone=env.get("APP_TIMEZONE", "America/Bogota"),
            default_language=env.get("DEFAULT_LANGUAGE", "es"),
            db_pool_size=_int(env, "DB_POOL_SIZE", 20, minimum=1),
            db_max_overflow=_int(env, "DB_MAX_OVERFLOW", 10),
            db_pool_timeout_seconds=_int(env, "DB_POOL_TIMEOUT_SECONDS", 5, minimum=1),
            db_connect_timeout_seconds=_int(env, "DB_CONNECT_TIMEOUT_SECONDS", 3, minimum=1),
            db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 15_000, minimum=100),
            count_statements=_bool(env, "COUNT_STATEMENTS", False),
            slow_callback_ms=_int(env, "SLOW_CALLBACK_MS", 0),
            max_page_size=_int(env, "MAX_PAGE_SIZE", 100, minimum=1),
            query_cost_limit=_int(env, "QUERY_COST_LIMIT", 25_000, minimum=1),
            admission_running_cost=_int(env, "ADMISSION_RUNNING_COST", 10_000, minimum=1),
            admission_queue_cost=_int(env, "ADMISSION_QUEUE_COST", 100_000),
            subscription_queue_size=_int(env, "SUBSCRIPTION_QUEUE_SIZE", 100, minimum=1),
            websocket_max_message_bytes=_int(env, "WEBSOCKET_MAX_MESSAGE_BYTES", 65_536, minimum=4096),
            outbox_retention_seconds=_int(env, "OUTBOX_RETENTION_SECONDS", 86_400, minimum=60),
            outbox_poll_seconds=_int(env, "OUTBOX_POLL_SECONDS", 5, minimum=1),
            scheduler_enabled=_bool(env, "SCHEDULER_ENABLED", True),
            env_file_values=file_values,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse configurations that are unsafe or cannot work."""
        if "*" in self.cors_origins:
            raise SettingsError("CORS_ORIGINS must list origins explicitly; '*' is not allowed")
        if self.hash_thread_nice > 19:
            raise SettingsError("HASH_THREAD_NICE must be between 0 and 19")
        if self.max_page_size > 1000:
            raise SettingsError("MAX_PAGE_SIZE may be at most 1000")
        if self.default_language not in {"es", "en"}:
            raise SettingsError("DEFAULT_LANGUAGE must be es or en")
        try:
            ZoneInfo(self.app_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"APP_TIMEZONE {self.app_timezone!r} is not a known zone") from None
        for name, value in (("SECRET_KEY", self.secret_key), ("QR_SECRET_KEY", self.qr_secret_key)):
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise SettingsError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
        if self.secret_key == self.qr_secret_key:
            raise SettingsError("QR_SECRET_KEY must differ from SECRET_KEY")
        if self.is_production:
            if self.secret_key == DEFAULT_SECRET_KEY:
                raise SettingsError("SECRET_KEY must be set in production (the default is public)")
            if self.qr_secret_key == DEFAULT_QR_SECRET_KEY:
                raise SettingsError("QR_SECRET_KEY must be set in production (the default is public)")
            if self.seed_demo:
                raise SettingsError("SEED_DEMO must be false in production (demo accounts have public passwords)")

    @property
    def postgres_data_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"
