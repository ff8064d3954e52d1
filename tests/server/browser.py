"""Headless Chromium driven over the DevTools protocol (the `websockets` client the tests
already use; no WebDriver, no browser download): enough to load a page, read what it logged
and requested, and evaluate JavaScript in it.

Debian's package (`apt-get install chromium`) is what the tests expect; CHROMIUM names
another binary. The flags keep Chromium from calling home: this machine's network is closed
and the test must see only the requests the page itself makes.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,800",
    "--remote-debugging-port=0",
)
LISTENING = re.compile(r"DevTools listening on (ws://[^\s]+)")


def chromium_binary() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One browser process with its own empty profile; `page()` is its first tab."""

    def __init__(self, binary: str) -> None:
        # Chromium's helper processes may still write to the profile while the browser exits.
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)
        command = [binary, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.endpoint = self._wait_listening()

    def _wait_listening(self, timeout: float = 30) -> str:
        assert self.process.stderr is not None
        deadline, seen = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            found = LISTENING.search(line)
            if found:
                return found.group(1)
        self.close()
        raise RuntimeError("chromium did not start:\n" + "".join(seen[-20:]))

    @contextlib.contextmanager
    def page(self) -> Iterator[Page]:
        address = self.endpoint.split("/")[2]
        targets = httpx.get(f"http://{address}/json/list", timeout=10).json()
        (target,) = [t for t in targets if t["type"] == "page"]
        with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
            yield Page(socket)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # the renderers and zygote, if any are left
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.profile.cleanup()


class Page:
    """A tab: commands wait for their answer; every event is kept in `events`, in order."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        command_id = next(self.ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == command_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of `expression` (awaited if it is a promise); page exceptions raise."""
        answer = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression!r}")
            time.sleep(0.1)

    def named(self, method: str) -> list[dict[str, Any]]:
        return [event["params"] for event in self.events if event.get("method") == method]

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
