"""The TypeScript participants of the interop suite: test/fixtures/interop.ts in its own
process (Node on @roamhq/wrtc and node-datachannel, and Chromium pages), driven by JSON lines.
Every wait has a timeout and names what it waited for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from roommesh import RoomError

from .service import ROOT, Service

Event = dict[str, Any]


class Driver:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._process: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._replies: dict[int, asyncio.Future[Event]] = {}
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def start(self, url: str, room: str) -> None:
        self._process = await asyncio.create_subprocess_exec(
            "node", "--import", "tsx", "test/fixtures/interop.ts", url, room, cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=1 << 20,
        )
        self._reader = asyncio.ensure_future(self._read())
        asyncio.ensure_future(self._read_stderr())
        await self.event(lambda e: e["event"] == "ready", "the driver's ready line", 30)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while line := await self._process.stdout.readline():
            event = json.loads(line)
            if event["event"] in ("done", "failed") and event.get("id") in self._replies:
                self._replies.pop(event["id"]).set_result(event)
            else:
                self.events.append(event)
                self._changed.set()
        # Its stdout closed: the driver exited (or crashed). Whatever waits for it fails now, saying how.
        code = await self._process.wait()
        for reply in self._replies.values():
            if not reply.done():
                reply.set_result({"event": "failed", "code": "DRIVER_EXITED", "message": f"the driver exited with {code} (a negative code is the signal that killed it); its stderr: {self.stderr.decode(errors='replace')}"})
        self._replies.clear()

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while chunk := await self._process.stderr.read(65536):
            self.stderr = (self.stderr + chunk)[-4000:]

    async def call(self, cmd: str, timeout: float = 60, **fields: Any) -> Event:
        """Runs a command; its result, or a RoomError with the code the TypeScript side failed with."""
        assert self._process is not None and self._process.stdin is not None
        self._next_id += 1
        reply: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._replies[self._next_id] = reply
        self._process.stdin.write((json.dumps({"id": self._next_id, "cmd": cmd, **fields}) + "\n").encode())
        try:
            result = await asyncio.wait_for(reply, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"the driver did not finish {cmd} {fields} within {timeout} s; its stderr: {self.stderr.decode(errors='replace')}") from None
        if result["event"] == "failed":
            raise RoomError(result["code"], result["message"])
        return result

    async def event(self, predicate: Callable[[Event], Any], label: str, timeout: float = 20, since: int = 0) -> Event:
        """The first event (seen so far, from index `since`, or to come) that `predicate` accepts."""
        async def look() -> Event:
            while True:
                for event in self.events[since:]:
                    if predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(look(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout} s waiting for {label}; driver stderr: {self.stderr.decode(errors='replace')}") from None

    async def message(self, at: str, type_: str, label: str, timeout: float = 20) -> Event:
        """The first message of `type_` that participant `at` received."""
        return await self.event(lambda e: e["event"] == "message" and e["at"] == at and e["type"] == type_, label, timeout)

    async def close(self) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def served(room: str, *flags: str) -> AsyncIterator[tuple[Service, Driver]]:
    """The real service (with `flags`) and a driver for `room`, both stopped at the end."""
    service = Service(*flags)
    url = service.start()
    driver = Driver()
    try:
        await driver.start(url, room)
        yield service, driver
    finally:
        await driver.close()
        service.stop()
