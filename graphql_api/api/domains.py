"""The domains the schema is made of: one line each (its package under graphql_api/api/),
in the order of the schema's fields. Each package's `DOMAIN` says what it adds."""

from __future__ import annotations

import importlib

from graphql_api.api.core.domain import Domain

PACKAGES = (
    "auth",
    "users",
    "organization",
    "items",
    "audit",
    "notifications",
    "alerts",
    "schedules",
    "maintenance",
    "loans",
    "checks",
    "agenda",
)

DOMAINS: tuple[Domain, ...] = tuple(importlib.import_module(f"graphql_api.api.{name}").DOMAIN for name in PACKAGES)
