"""Set-up installs GraphiQL's files from a package registry with Python alone, and refuses
anything that does not match the lock (graphql_api/api/core/ide/fetch.py).

The registry here is a real HTTP server on loopback serving a real npm-style tarball; the
checked-in lock itself is checked for exact versions and integrity values.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from graphql_api.api.core.ide import fetch

FILES = {"dist/lib.js": b"window.Lib = 1;\n", "dist/lib.css": b".lib{}\n", "LICENSE": b"MIT\n", "README.md": b"x"}


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Registry:
    """Serves `tarballs` by path and counts the requests."""

    def __init__(self) -> None:
        self.tarballs: dict[str, bytes] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                body = registry.tarballs.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def running_registry() -> Iterator[Registry]:
    served = Registry()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()


@pytest.fixture
def registry(running_registry: Registry) -> Registry:
    running_registry.tarballs.clear()
    running_registry.requests.clear()
    return running_registry


def write_lock(path: Path, registry: Registry, data: bytes, files: dict[str, bytes], **changes: Any) -> Path:
    registry.tarballs["/lib/-/lib-1.2.3.tgz"] = data
    package = {
        "name": "lib",
        "version": "1.2.3",
        "tarball": f"{registry.url}/lib/-/lib-1.2.3.tgz",
        "integrity": fetch.sri(data, "sha512"),
        "files": [{"path": name, "integrity": fetch.sri(body), "load": "script"} for name, body in files.items()],
    }
    package.update(changes)
    path.write_text(json.dumps({"packages": [package]}))
    return path


def test_installs_only_the_locked_files_and_then_stays_offline(tmp_path: Path, registry: Registry) -> None:
    wanted = {name: FILES[name] for name in ("dist/lib.js", "dist/lib.css", "LICENSE")}
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), wanted)
    vendor = tmp_path / "vendor"
    assert fetch.check(vendor, lock) == 1
    assert fetch.sync(vendor, lock) == 0
    installed = {str(p.relative_to(vendor / "lib@1.2.3")): p.read_bytes() for p in vendor.rglob("*") if p.is_file()}
    assert installed == wanted  # README.md was in the tarball but not in the lock
    assert fetch.check(vendor, lock) == 0
    assert fetch.sync(vendor, lock) == 0
    assert registry.requests == ["/lib/-/lib-1.2.3.tgz"]  # intact files: no second download


def test_a_damaged_file_is_downloaded_again(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"dist/lib.js": FILES["dist/lib.js"]})
    vendor = tmp_path / "vendor"
    fetch.sync(vendor, lock)
    (vendor / "lib@1.2.3" / "dist" / "lib.js").write_bytes(b"alert(1)")
    assert fetch.check(vendor, lock) == 1
    fetch.sync(vendor, lock)
    assert (vendor / "lib@1.2.3" / "dist" / "lib.js").read_bytes() == FILES["dist/lib.js"]
    assert len(registry.requests) == 2


def test_a_tarball_that_differs_from_the_lock_is_refused(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"dist/lib.js": FILES["dist/lib.js"]})
    registry.tarballs["/lib/-/lib-1.2.3.tgz"] = tarball({**FILES, "dist/lib.js": b"window.Evil = 1;\n"})
    with pytest.raises(fetch.IntegrityError, match="tarball does not match"):
        fetch.sync(tmp_path / "vendor", lock)
    assert not (tmp_path / "vendor").exists()


def test_a_file_that_differs_from_the_lock_is_refused(tmp_path: Path, registry: Registry) -> None:
    # The tarball is the one locked, but the lock pins other bytes for the file.
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"dist/lib.js": b"something else"})
    with pytest.raises(fetch.IntegrityError, match=r"dist/lib\.js does not match"):
        fetch.sync(tmp_path / "vendor", lock)
    assert not (tmp_path / "vendor").exists()


def test_a_lock_path_cannot_leave_the_vendor_directory(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"../../escape.js": b"x"})
    with pytest.raises(fetch.IntegrityError, match="unsafe path"):
        fetch.sync(tmp_path / "vendor", lock)
    assert not (tmp_path / "escape.js").exists()


def test_files_of_versions_no_longer_locked_are_removed(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"dist/lib.js": FILES["dist/lib.js"]})
    stale = tmp_path / "vendor" / "lib@1.0.0" / "dist" / "lib.js"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    fetch.sync(tmp_path / "vendor", lock)
    assert not (tmp_path / "vendor" / "lib@1.0.0").exists()
    assert (tmp_path / "vendor" / "lib@1.2.3" / "dist" / "lib.js").exists()


def test_an_unreachable_registry_fails_set_up_with_a_message(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "lock.json", registry, tarball(FILES), {"dist/lib.js": FILES["dist/lib.js"]})
    registry.tarballs.clear()
    with pytest.raises(OSError, match="404"):
        fetch.sync(tmp_path / "vendor", lock)


# ---- the checked-in lock ---------------------------------------------------------------------

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


@pytest.mark.parametrize("package", fetch.load_lock(), ids=lambda p: p["name"])
def test_the_lock_pins_exact_versions_from_the_npm_registry(package: dict[str, Any]) -> None:
    assert EXACT_VERSION.match(package["version"])
    basename = package["name"].rpartition("/")[2]
    assert package["tarball"] == f"{fetch.REGISTRY}/{package['name']}/-/{basename}-{package['version']}.tgz"
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package["integrity"])
    for entry in package["files"]:
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", entry["integrity"])
        assert entry.get("load") in {None, "script", "style"}


def test_set_up_installed_the_locked_files() -> None:
    # scripts/bootstrap runs the fetch; without it GraphiQL would show an error page.
    assert fetch.check() == 0
