"""The real signaling service for the Python tests: `roommesh serve --port 0` from this
repository's source (node with tsx), stopped when the test ends. Nothing leaves the machine."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_service(*flags: str) -> Iterator[str]:
    """Starts the service on a free loopback port and yields its URL."""
    process = subprocess.Popen(
        ["node", "--import", "tsx", "signaling/cli.ts", "serve", "--port", "0", "--log-level", "warn", *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
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
                yield match.group(1)
                return
        raise TimeoutError(f"the service did not listen within 30 s: {output}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
