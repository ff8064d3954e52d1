"""Layering: imports only point down, `api → services → auth → db`, and only the API speaks
GraphQL.

ARCHITECTURE.md: `services/`, `db/`, `storage/`, `reports/`, `pubsub/`, `jobs/` (and `auth/`)
hold business rules and infrastructure; only `graphql_api/api/` imports strawberry. Within the
stack, a layer never imports one above it (db knows nothing of auth, auth nothing of
services). The check parses every module (no import side effects) and resolves relative
imports, so `from ..api import x` is caught as well as `import strawberry`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "graphql_api"
LAYERS = ("services", "db", "storage", "reports", "pubsub", "jobs", "auth")
FORBIDDEN = ("strawberry", "graphql_api.api")
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _is_forbidden(module: str) -> bool:
    return any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN)


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, including `from x import y`
    as both `x` and `x.y`, relative imports resolved against `package`, and string literals
    given to importlib.import_module / __import__."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in DYNAMIC_IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((node.lineno, first.value))
    return found


def layer_modules() -> list[Path]:
    modules: list[Path] = []
    for layer in LAYERS:
        directory = PACKAGE_ROOT / layer
        if directory.is_dir():
            modules.extend(sorted(directory.rglob("*.py")))
    return modules


def violations(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    return [
        f"{path.relative_to(PACKAGE_ROOT.parent)}:{line} imports {module}"
        for line, module in imported_modules(source, _package_of(path))
        if _is_forbidden(module)
    ]


# Each layer and what it may not import (the layers above it).
STACK = ("db", "auth", "services", "api")
ABOVE = {layer: tuple(f"graphql_api.{upper}" for upper in STACK[i + 1 :]) for i, layer in enumerate(STACK)}
# Modules every layer may use, which must themselves import none of the stack.
BASE = ("graphql_api.settings", "graphql_api.errors", "graphql_api.i18n")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def upward_imports(path: Path) -> list[str]:
    layer = path.relative_to(PACKAGE_ROOT).parts[0]
    forbidden = ABOVE.get(layer, ())
    if path.with_suffix("").relative_to(PACKAGE_ROOT.parent).as_posix().replace("/", ".") in BASE:
        forbidden = tuple(f"graphql_api.{name}" for name in STACK)
    source = path.read_text(encoding="utf-8")
    return [
        f"{path.relative_to(PACKAGE_ROOT.parent)}:{line} imports {module} (a layer above {layer})"
        for line, module in imported_modules(source, _package_of(path))
        if _within(module, forbidden)
    ]


STACK_MODULES = sorted(
    [path for layer in STACK[:-1] for path in (PACKAGE_ROOT / layer).rglob("*.py")]
    + [PACKAGE_ROOT / f"{name.rpartition('.')[2]}.py" for name in BASE]
)


@pytest.mark.parametrize("path", STACK_MODULES, ids=lambda p: str(p.relative_to(PACKAGE_ROOT)))
def test_no_layer_imports_a_layer_above_it(path: Path) -> None:
    found = upward_imports(path)
    assert found == [], "Imports point down only (api → services → auth → db):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("layer", "module", "upward"),
    [
        ("db", "graphql_api.auth.scope", True),
        ("db", "graphql_api.services.items", True),
        ("auth", "graphql_api.services.audit", True),
        ("auth", "graphql_api.db.reads", False),
        ("services", "graphql_api.api.core.relay", True),
        ("services", "graphql_api.auth.scope", False),
    ],
)
def test_the_upward_check_can_fail(layer: str, module: str, upward: bool) -> None:
    assert _within(module, ABOVE[layer]) is upward


def test_the_layers_exist_and_have_modules() -> None:
    # Guards against a vacuous pass (a wrong root path would scan nothing).
    modules = layer_modules()
    names = {_module_name(path) for path in modules}
    assert {"graphql_api.services.items", "graphql_api.db.engine", "graphql_api.auth.scope"} <= names
    assert len(modules) >= 15


@pytest.mark.parametrize("path", layer_modules(), ids=lambda p: str(p.relative_to(PACKAGE_ROOT)))
def test_layer_module_does_not_import_the_graphql_layer(path: Path) -> None:
    found = violations(path)
    assert found == [], "Only graphql_api/api may import strawberry or graphql_api.api:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "package", "expected"),
    [
        ("import strawberry", "graphql_api.services", ["strawberry"]),
        ("import strawberry.relay as r", "graphql_api.services", ["strawberry.relay"]),
        ("from strawberry.types import Info", "graphql_api.db", ["strawberry.types"]),
        ("from graphql_api.api import schema", "graphql_api.services", ["graphql_api.api"]),
        ("from graphql_api import api", "graphql_api.services", ["graphql_api.api"]),
        ("from ..api.relay import encode_id", "graphql_api.services", ["graphql_api.api.relay"]),
        ("from .. import api", "graphql_api.auth", ["graphql_api.api"]),
        ("import importlib\nimportlib.import_module('strawberry')", "graphql_api.jobs", ["strawberry"]),
        ("__import__('graphql_api.api.schema')", "graphql_api.jobs", ["graphql_api.api.schema"]),
        ("from graphql_api.errors import NotFound\nimport sqlalchemy", "graphql_api.services", []),
        ("from graphql_api import apiary", "graphql_api.services", []),
        ("from .queries import search_condition", "graphql_api.services", []),
    ],
)
def test_the_checker_detects_forbidden_imports(source: str, package: str, expected: list[str]) -> None:
    # The checker itself must be able to fail: every spelling of a forbidden import is seen.
    found = {module for _, module in imported_modules(source, package) if _is_forbidden(module)}
    assert set(expected) <= found
    assert bool(found) == bool(expected), found
