"""The API's refusals, against the real service (no peers needed): each a RoomError with the shared code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from roommesh import RoomClient, RoomError

from .service import running_service


async def code_of(call: Awaitable[object]) -> str:
    try:
        await call
    except RoomError as error:
        return error.code
    return "no error"


def test_calls_out_of_order_or_with_bad_input_get_the_shared_codes() -> None:
    async def run(url: str) -> None:
        room = RoomClient(url=url, room="api", name="python")
        assert await code_of(room.messaging.enable()) == "NOT_STARTED"
        await room.start()
        assert await code_of(room.messaging.send_message(to="x" * 22, type="t", message={})) == "NOT_ENABLED"
        assert await code_of(room.messaging.broadcast_message(type="t", message={})) == "NOT_ENABLED"
        await room.messaging.enable()
        assert room.messaging.get_participants() == []
        assert await code_of(room.messaging.send_message(to="x" * 22, type="t", message={})) == "PARTICIPANT_NOT_FOUND"
        for type_, message, attachment in (("", {}, None), ("t" * 257, {}, None), ("t", [1], None), ("t", {"x": float("nan")}, None), ("t", {"x": object()}, None), ("t", {}, "text")):
            outcome = await code_of(room.messaging.send_message(to="x" * 22, type=type_, message=message, attachment=attachment))  # type: ignore[arg-type]
            assert outcome == "INVALID_MESSAGE", (type_, message, attachment, outcome)
        assert await room.messaging.broadcast_message(type="t", message={}) == []  # nobody else: no outcomes
        try:
            room.messaging.on("no-such-event", lambda: None)
            raise AssertionError("an unknown event was taken")
        except RoomError as error:
            assert error.code == "INVALID_ARGUMENT"
        ended: list[str] = []

        async def iterate() -> None:
            async for message in room.messaging.messages():
                ended.append(message.type)
            ended.append("ended")

        iterating = asyncio.ensure_future(iterate())
        await asyncio.sleep(0)
        await room.messaging.disable()
        await asyncio.wait_for(iterating, 5)
        assert ended == ["ended"]
        await room.close()
        assert await code_of(room.messaging.enable()) == "CLOSED"
        assert await code_of(room.start()) == "CLOSED"

    with running_service() as url:
        asyncio.run(run(url))


def test_a_service_that_cannot_be_reached_is_signaling_failed() -> None:
    async def run() -> None:
        room = RoomClient(url="http://127.0.0.1:1", room="api", name="python")
        assert await code_of(room.start()) == "SIGNALING_FAILED"

    asyncio.run(run())


def test_two_python_participants_link_and_requests_fail_with_the_shared_codes() -> None:
    async def run(url: str) -> None:
        a = RoomClient(url=url, room="py", name="a")
        b = RoomClient(url=url, room="py", name="b")

        async def slow(_request: object) -> dict[str, int]:
            await asyncio.sleep(5)  # longer than the asker waits
            return {}

        def broken(_request: object) -> dict[str, int]:
            raise ValueError("no sum today")

        b.messaging.on_request("slow", slow)
        b.messaging.on_request("broken", broken)
        b.messaging.on_request("sum", lambda request: {"sum": request.message["x"] + request.message["y"]})
        got: asyncio.Queue[str] = asyncio.Queue()
        b.messaging.on("message", lambda m: got.put_nowait(m.type))
        for room in (a, b):
            await room.start()
            await room.messaging.enable()
        peer = a.messaging.get_participant_by_name("b")
        assert peer is not None and peer.link == "direct"
        await a.messaging.send_message(to=peer, type="hello", message={})
        assert await asyncio.wait_for(got.get(), 5) == "hello"
        assert (await a.messaging.request(to=peer, type="sum", message={"x": 1, "y": 2})).message == {"sum": 3}
        assert await code_of(a.messaging.request(to=peer, type="slow", message={}, timeout=0.5)) == "TIMEOUT"
        assert await code_of(a.messaging.request(to=peer, type="broken", message={})) == "REQUEST_FAILED"
        assert await code_of(a.messaging.request(to=peer, type="nobody", message={})) == "NO_HANDLER"
        await b.close()
        await a.close()

    with running_service() as url:
        asyncio.run(run(url))
