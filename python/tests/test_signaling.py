"""The Python signaling client against the real service (test/service.py starts it): joining,
presence as the service announces it, and refusals as RoomErrors with the shared codes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from roommesh.errors import RoomError
from roommesh.signaling import PROTOCOL_VERSION, SignalingClient

from .service import running_service


async def joined(url: str, name: str) -> tuple[SignalingClient, dict[str, Any]]:
    client = SignalingClient(url)
    await client.connect()
    reply = await client.request("join", {"v": PROTOCOL_VERSION, "room": "py", "name": name})
    return client, reply


async def next_of(queue: asyncio.Queue[Any], label: str) -> Any:
    try:
        return await asyncio.wait_for(queue.get(), timeout=10)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {label}") from None


def test_joins_sees_who_enables_and_who_leaves() -> None:
    async def run(url: str) -> None:
        ann, ann_join = await joined(url, "ann")
        assert ann_join["participant"]["attributes"]["name"] == "ann"
        assert len(ann_join["credential"]) == 43
        enabled: asyncio.Queue[Any] = asyncio.Queue()
        removed: asyncio.Queue[Any] = asyncio.Queue()
        ann.on("participant:enabled", enabled.put_nowait)
        ann.on("participant:removed", removed.put_nowait)
        assert (await ann.request("messaging:enable"))["participants"] == []
        bob, bob_join = await joined(url, "bob")
        peers = (await bob.request("messaging:enable"))["participants"]
        assert [p["id"] for p in peers] == [ann_join["participant"]["id"]]
        announced = await next_of(enabled, "ann hears bob enable")
        assert announced["id"] == bob_join["participant"]["id"]
        await bob.close()
        gone = await next_of(removed, "ann hears bob leave")
        assert gone["id"] == bob_join["participant"]["id"]
        await ann.close()

    with running_service() as url:
        asyncio.run(run(url))


def test_refusals_are_room_errors_with_the_service_codes() -> None:
    async def run(url: str) -> None:
        client = SignalingClient(url)
        await client.connect()
        with pytest.raises(RoomError) as refused:
            await client.request("messaging:enable")
        assert refused.value.code == "NOT_STARTED"
        with pytest.raises(RoomError) as invalid:
            await client.request("join", {"v": PROTOCOL_VERSION, "room": "py"})
        assert invalid.value.code == "INVALID_MESSAGE"
        await client.close()
        unreachable = SignalingClient("http://127.0.0.1:9", request_timeout_s=2)
        with pytest.raises(RoomError) as down:
            await unreachable.connect()
        assert down.value.code == "SIGNALING_FAILED"

    with running_service() as url:
        asyncio.run(run(url))
