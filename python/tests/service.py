"""The real signaling service for the Python tests: `roommesh serve --port 0` from this
repository's source (node with tsx), stopped when the test ends; it can be stopped and started
again on the same port (a service restart). Nothing leaves the machine."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Service:
    def __init__(self, *flags: str) -> None:
        self._flags = flags
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, port: int = 0) -> str:
        """Starts the service (on a free loopback port, or on `port`) and returns its URL."""
        process = subprocess.Popen(
            ["node", "--import", "tsx", "signaling/cli.ts", "serve", "--port", str(port), "--log-level", "warn", *self._flags],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._process = process
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        output = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line == "":
                raise RuntimeError(f"the service exited before listening: {output}")
            output += line
            match = re.search(r"signaling service on (\S+)", line)
            if match is not None:
                self.url = match.group(1)
                # Keep reading what it prints, so that its logs never fill the pipe and block it.
                threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
                return self.url
        raise TimeoutError(f"the service did not listen within 30 s: {output}")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_service(*flags: str) -> Iterator[str]:
    """Starts the service on a free loopback port and yields its URL."""
    service = Service(*flags)
    try:
        yield service.start()
    finally:
        service.stop()
