"""Python in one room with TypeScript participants: Node on @roamhq/wrtc, Node on
node-datachannel, and Chromium and Firefox pages (the real browser bundle), through the real
service on a free loopback port. What each side observes is asserted on both sides."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from roommesh import ReceivedMessage, Reply, RoomClient

from .driver import Driver, served
from .service import ROOT, Service

STACKS = {"wrtc": "@roamhq/wrtc", "ndc": "node-datachannel", "other-user": "chromium", "firefox": "firefox"}
MiB = 1024 * 1024


class Seen:
    """What the Python participant saw, with waits on it (each with a timeout and a label)."""

    def __init__(self, room: RoomClient) -> None:
        self.messages: list[ReceivedMessage] = []
        self.added: list[str] = []
        self.removed: list[str] = []
        self._changed = asyncio.Event()
        room.messaging.on("message", self._note(self.messages))
        room.messaging.on("participant_added", self._note(self.added, lambda p: p.name))
        room.messaging.on("participant_removed", self._note(self.removed, lambda p: p.name))

    def _note(self, into: list[Any], how: Callable[[Any], Any] = lambda x: x) -> Callable[[Any], None]:
        def note(item: Any) -> None:
            into.append(how(item))
            self._changed.set()

        return note

    async def until(self, check: Callable[[], bool], label: str, timeout: float = 20) -> None:
        async def wait() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout} s waiting for {label}") from None

    async def message_from(self, sender: str, type_: str, label: str, timeout: float = 20) -> ReceivedMessage:
        await self.until(lambda: self.message(sender, type_) is not None, label, timeout)
        found = self.message(sender, type_)
        assert found is not None
        return found

    def message(self, sender: str, type_: str) -> ReceivedMessage | None:
        return next((m for m in self.messages if m.from_participant.name == sender and m.type == type_), None)


async def attachment_each_way(room: RoomClient, seen: Seen, driver: Driver, name: str, size: int) -> None:
    """`size` random bytes from Python to `name` and back: each side reports the size and SHA-256 it received."""
    target = room.messaging.get_participant_by_name(name)
    assert target is not None
    data = os.urandom(size)
    await room.messaging.send_message(to=target, type="bytes", message={"size": size}, attachment=data)
    got = await driver.event(lambda e: e["event"] == "message" and e["at"] == name and e["type"] == "bytes" and e["message"] == {"size": size}, f"{size} bytes at {name}", 60)
    assert got["attachment"] == {"size": size, "sha256": hashlib.sha256(data).hexdigest()}
    sent = await driver.call("send", timeout=120, sender=name, to="python", type=f"bytes-back-{size}", message={}, size=size)
    back = await seen.message_from(name, f"bytes-back-{size}", f"{size} bytes from {name}", 60)
    assert back.attachment is not None and (len(back.attachment), hashlib.sha256(back.attachment).hexdigest()) == (size, sent["sha256"])


@asynccontextmanager
async def mesh(names: list[str], *, relay_only: bool = False, room: str = "interop") -> AsyncIterator[tuple[Service, Driver]]:
    async with served(room) as (service, driver):
        for name in names:
            await driver.call("join", name=name, stack=STACKS[name], relayOnly=relay_only)
        yield service, driver


def test_the_seed_snippet_runs_verbatim_and_every_stack_and_browser_exchanges_messages_broadcasts_requests_and_16_mib_with_python() -> None:
    async def run() -> None:
        async with mesh(list(STACKS)) as (service, driver):
            room = RoomClient(url=service.url, room="interop", name="python")
            seen = Seen(room)
            room.messaging.on_request("sum", lambda request: {"sum": request.message["x"] + request.message["y"]})
            room.messaging.on_request("blob", lambda request: Reply(message={"ok": True}, attachment=b"\x01" * 70_000))
            await room.start()

            # The Room API's own example, verbatim.
            await room.messaging.enable()

            participant = room.messaging.get_participant_by_name("other-user")
            if participant is not None:
                await room.messaging.send_message(
                    to=participant,
                    type="chat",
                    message={"text": "Hello from Python!"},
                )

            await room.messaging.broadcast_message(
                type="announcement",
                message={"content": "Hello everyone!"},
            )
            # What it did, as the others saw it.
            assert participant is not None
            assert sorted((p.name or "", p.link) for p in room.messaging.get_participants()) == [("firefox", "direct"), ("ndc", "direct"), ("other-user", "direct"), ("wrtc", "direct")]
            chat = await driver.event(lambda e: e["event"] == "message" and e["at"] == "other-user" and e["type"] == "chat", "the page's chat from Python")
            assert (chat["from"], chat["message"], chat["broadcast"]) == ("python", {"text": "Hello from Python!"}, False)
            for name in STACKS:
                got = await driver.message(name, "announcement", f"{name}'s announcement")
                assert (got["from"], got["message"], got["broadcast"]) == ("python", {"content": "Hello everyone!"}, True)
                assert (await driver.call("names", at=name))["names"] == sorted(["python", *(n for n in STACKS if n != name)])

            # Each of them to Python: a direct message, a broadcast (its outcome for Python), a request both ways.
            for name in STACKS:
                await driver.call("send", sender=name, to="python", type="dm", message={"from": name})
                outcomes = (await driver.call("broadcast", sender=name, type="news", message={"by": name}))["outcomes"]
                assert {"name": "python", "ok": True} in outcomes
                reply = await driver.call("request", sender=name, to="python", type="sum", message={"x": 2, "y": 3})
                assert reply["reply"] == {"sum": 5}
                to_them = await room.messaging.request(to=room.messaging.get_participant_by_name(name) or name, type="sum", message={"x": 40, "y": 2})
                assert to_them.message == {"sum": 42}
            await seen.until(lambda: all(seen.message(n, "dm") and seen.message(n, "news") for n in STACKS), "a dm and a broadcast from each")
            for name in STACKS:
                dm, news = seen.message(name, "dm"), seen.message(name, "news")
                assert dm is not None and news is not None
                assert (dm.message, dm.broadcast, news.message, news.broadcast) == ({"from": name}, False, {"by": name}, True)

            # 16 MiB each way, with each stack.
            for name in STACKS:
                await attachment_each_way(room, seen, driver, name, 16 * MiB)
            await room.close()

    asyncio.run(run())


def test_presence_follows_enable_disable_and_a_killed_process_both_ways() -> None:
    async def run() -> None:
        async with mesh(["wrtc"]) as (service, driver):
            room = RoomClient(url=service.url, room="interop", name="python")
            seen = Seen(room)
            await room.start()
            await room.messaging.enable()
            assert [p.name for p in room.messaging.get_participants()] == ["wrtc"]
            await driver.event(lambda e: e["event"] == "added" and e["at"] == "wrtc" and e["name"] == "python", "wrtc lists python")

            await driver.call("disable", name="wrtc")
            await seen.until(lambda: "wrtc" in seen.removed, "python sees wrtc disable", 5)
            assert room.messaging.get_participant_by_name("wrtc") is None
            await driver.call("enable", name="wrtc")
            assert (await driver.call("names", at="wrtc"))["names"] == ["python"]
            await seen.until(lambda: seen.added.count("wrtc") == 2, "python lists wrtc again")

            mark = len(driver.events)
            await room.messaging.disable()
            await driver.event(lambda e: e["event"] == "removed" and e["at"] == "wrtc" and e["name"] == "python", "wrtc sees python disable", 5, since=mark)
            await room.messaging.enable()
            assert [p.name for p in room.messaging.get_participants()] == ["wrtc"]

            # A participant whose process is killed (node-datachannel, in a process of its own).
            child = subprocess.Popen(
                ["node", "--import", "tsx", "test/fixtures/participant.ts", service.url, "interop", "doomed", "stay", "node-datachannel"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )
            try:
                await seen.until(lambda: "doomed" in seen.added, "python lists the doomed participant", 30)
                child.send_signal(signal.SIGKILL)
                await seen.until(lambda: "doomed" in seen.removed, "python sees the killed participant go", 15)
            finally:
                child.kill()
                child.wait()
            mark = len(driver.events)
            await room.close()
            await driver.event(lambda e: e["event"] == "removed" and e["at"] == "wrtc" and e["name"] == "python", "wrtc sees python close", 5, since=mark)

    asyncio.run(run())


def test_a_pair_that_cannot_link_directly_is_relayed_both_ways() -> None:
    async def run() -> None:
        async with mesh(["wrtc", "ndc"], relay_only=True) as (service, driver):
            # node-datachannel ignores iceTransportPolicy (it answers checks from its host sockets): Python refuses direct links too.
            room = RoomClient(url=service.url, room="interop", name="python", direct=False)
            seen = Seen(room)
            await room.start()
            await room.messaging.enable()
            for name in ("wrtc", "ndc"):
                target = room.messaging.get_participant_by_name(name)
                assert target is not None and target.link == "relayed"
                assert (await driver.call("link", at=name, of="python"))["link"] == "relayed"
                await attachment_each_way(room, seen, driver, name, 2 * MiB)
            await room.close()

    asyncio.run(run())


def test_a_service_restart_keeps_direct_links_and_presence_and_the_room_resumes() -> None:
    async def run() -> None:
        async with mesh(["wrtc"]) as (service, driver):
            room = RoomClient(url=service.url, room="interop", name="python")
            seen = Seen(room)
            reconnected = asyncio.Event()
            room.on("reconnected", reconnected.set)
            await room.start()
            await room.messaging.enable()
            wrtc = room.messaging.get_participant_by_name("wrtc")
            assert wrtc is not None and wrtc.link == "direct"

            port = service.port
            service.stop()
            # The service is down: the direct link carries on, both ways.
            await room.messaging.send_message(to=wrtc, type="while-down", message={})
            await driver.event(lambda e: e["event"] == "message" and e["type"] == "while-down", "wrtc gets a message while the service is down")
            await driver.call("send", sender="wrtc", to="python", type="while-down-back", message={})
            await seen.until(lambda: seen.message("wrtc", "while-down-back") is not None, "python gets one back")

            service.start(port)
            await asyncio.wait_for(reconnected.wait(), 20)
            # Signaling works again: a newcomer links with Python; nobody was removed.
            await driver.call("join", name="ndc", stack="node-datachannel")
            await seen.until(lambda: "ndc" in seen.added, "python lists the newcomer")
            assert seen.removed == []
            assert sorted(p.name or "" for p in room.messaging.get_participants()) == ["ndc", "wrtc"]
            await room.messaging.send_message(to=wrtc, type="after", message={})
            await room.close()

    asyncio.run(run())


def test_the_example_agent_answers_requests_and_messages_from_a_node_participant() -> None:
    async def run() -> None:
        async with mesh([]) as (service, driver):
            agent = await asyncio.create_subprocess_exec(
                "/usr/bin/python3", "examples/agent.py", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(ROOT / "python"), "ROOMMESH_URL": service.url, "ROOMMESH_ROOM": "interop"},
            )
            try:
                assert agent.stdout is not None
                line = await asyncio.wait_for(agent.stdout.readline(), 30)
                assert b"py-agent is in room 'interop'" in line
                await driver.call("join", name="wrtc", stack="@roamhq/wrtc")
                assert (await driver.call("names", at="wrtc"))["names"] == ["py-agent"]
                assert (await driver.call("request", sender="wrtc", to="py-agent", type="sum", message={"x": 2, "y": 3}))["reply"] == {"sum": 5}
                await driver.call("send", sender="wrtc", to="py-agent", type="chat", message={"text": "hi"})
                chat = await driver.message("wrtc", "chat", "the agent's answer")
                assert (chat["from"], chat["message"]) == ("py-agent", {"text": "echo: hi"})
            finally:
                agent.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(agent.wait(), 15) == 0

    asyncio.run(run())


def test_python_offering_and_python_answering_both_link_directly_with_every_stack_and_browser() -> None:
    async def run() -> None:
        async with mesh(list(STACKS)) as (service, driver):
            for offering in (True, False):
                # Join again until the ids make Python the lower (it offers to everyone) or the higher (it answers everyone).
                for _ in range(200):
                    room = RoomClient(url=service.url, room="interop", name="python")
                    await room.start()
                    others = await driver.call("ids")
                    assert room.local_participant is not None
                    if all((room.local_participant.id < other) == offering for other in others["ids"]):
                        break
                    await room.close()
                else:
                    raise AssertionError("no id of the wanted order in 200 joins")
                seen = Seen(room)
                await room.messaging.enable()
                assert sorted((p.name or "", p.link) for p in room.messaging.get_participants()) == sorted((name, "direct") for name in STACKS)
                for name in STACKS:
                    await driver.call("send", sender=name, to="python", type=f"hi-{offering}", message={})
                    await seen.message_from(name, f"hi-{offering}", f"a message from {name} ({'offering' if offering else 'answering'})")
                await room.close()

    asyncio.run(run())
