"""Install GraphiQL's files from the npm registry, checked against `lock.json`. Standard library
only: set-up needs nothing but Python (no node, no npm).

    python -m graphql_api.api.core.ide.fetch            install or repair vendor/ (no-op when intact)
    python -m graphql_api.api.core.ide.fetch --check    exit 1 unless vendor/ matches the lock
    python -m graphql_api.api.core.ide.fetch --relock   after editing versions in lock.json: take each
                                                        tarball's integrity from the registry, hash the
                                                        listed files again and rewrite the lock

Every tarball must match the lock's sha512 and every extracted file its sha384, or nothing is
written. Only the files the lock lists are extracted, at paths the lock names, so a tarball
cannot write anywhere else.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOCK = HERE / "lock.json"
VENDOR = HERE / "vendor"
REGISTRY = "https://registry.npmjs.org"
ATTEMPTS = 3


class IntegrityError(Exception):
    pass


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def sri(data: bytes, algorithm: str = "sha384") -> str:
    """Subresource Integrity form of a digest, as npm's lock files and <script integrity> use."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def load_lock(path: Path = LOCK) -> list[dict[str, Any]]:
    packages: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["packages"]
    return packages


def package_dir(package: dict[str, Any], vendor: Path = VENDOR) -> Path:
    return vendor / f"{package['name']}@{package['version']}"


def file_path(package: dict[str, Any], relative: str, vendor: Path = VENDOR) -> Path:
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts:
        raise IntegrityError(f"{package['name']}: unsafe path in the lock: {relative}")
    return package_dir(package, vendor) / relative


def is_installed(package: dict[str, Any], vendor: Path = VENDOR) -> bool:
    for entry in package["files"]:
        target = file_path(package, entry["path"], vendor)
        if not target.is_file() or sri(target.read_bytes()) != entry["integrity"]:
            return False
    return True


def download(url: str) -> bytes:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # The URLs are the lock's and REGISTRY's (https), never anything a user typed.
            request = urllib.request.Request(url, headers={"User-Agent": "graphql-api-ide-fetch"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                data: bytes = response.read()
                return data
        except OSError as error:
            # Connection trouble and 5xx may pass; a 4xx answer will not change.
            permanent = isinstance(error, urllib.error.HTTPError) and error.code < 500
            if permanent or attempt == ATTEMPTS:
                raise
            say(f"  {url}: {error}; retrying")
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def extract(package: dict[str, Any], tarball: bytes) -> dict[str, bytes]:
    """The listed files of a verified tarball (npm packs everything under `package/`)."""
    if sri(tarball, "sha512") != package["integrity"]:
        raise IntegrityError(f"{package['name']}@{package['version']}: tarball does not match the lock's integrity")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for entry in package["files"]:
            member = archive.extractfile(f"package/{entry['path']}")
            if member is None:
                raise IntegrityError(f"{package['name']}: {entry['path']} is not a file in the tarball")
            data = member.read()
            if sri(data) != entry["integrity"]:
                raise IntegrityError(f"{package['name']}: {entry['path']} does not match the lock's integrity")
            files[entry["path"]] = data
    return files


def install(package: dict[str, Any], vendor: Path = VENDOR) -> None:
    files = extract(package, download(package["tarball"]))
    for relative, data in files.items():
        target = file_path(package, relative, vendor)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, target)


def remove_strays(packages: list[dict[str, Any]], vendor: Path = VENDOR) -> None:
    """Files of versions no longer in the lock would otherwise linger (and be served by nobody)."""
    wanted = {file_path(p, e["path"], vendor) for p in packages for e in p["files"]}
    if not vendor.is_dir():
        return
    for path in sorted(vendor.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def sync(vendor: Path = VENDOR, lock: Path = LOCK) -> int:
    packages = load_lock(lock)
    for package in packages:
        if is_installed(package, vendor):
            continue
        say(f"GraphiQL assets: fetching {package['name']}@{package['version']}")
        install(package, vendor)
    remove_strays(packages, vendor)
    return 0


def check(vendor: Path = VENDOR, lock: Path = LOCK) -> int:
    missing = [f"{p['name']}@{p['version']}" for p in load_lock(lock) if not is_installed(p, vendor)]
    for name in missing:
        say(f"GraphiQL assets: {name} is missing or altered")
    return 1 if missing else 0


def relock(lock: Path = LOCK) -> int:
    packages = load_lock(lock)
    for package in packages:
        name = urllib.parse.quote(package["name"], safe="@")
        meta = json.loads(download(f"{REGISTRY}/{name}/{package['version']}"))
        package["tarball"], package["integrity"] = meta["dist"]["tarball"], meta["dist"]["integrity"]
        tarball = download(package["tarball"])
        if sri(tarball, "sha512") != package["integrity"]:
            raise IntegrityError(f"{package['name']}: the download does not match the registry's integrity")
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for entry in package["files"]:
                member = archive.extractfile(f"package/{entry['path']}")
                assert member is not None, entry["path"]
                entry["integrity"] = sri(member.read())
    lock.write_text(json.dumps({"packages": packages}, indent=2) + "\n", encoding="utf-8")
    say(f"rewrote {lock}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graphql_api.api.core.ide.fetch", description=(__doc__ or "").split("\n\n")[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify vendor/ against the lock; download nothing")
    mode.add_argument("--relock", action="store_true", help="rewrite the lock's integrity values from the registry")
    args = parser.parse_args(argv)
    try:
        return check() if args.check else relock() if args.relock else sync()
    except (IntegrityError, OSError) as error:
        say(f"GraphiQL assets: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
