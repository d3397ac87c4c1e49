"""Python (aiortc) beside Node, in one run: `npm run bench:python`.

For each Node stack, in one room through the real service on loopback:
- Node <-> Node: the second Node participant's enable() (linking to the first), request round
  trips, a burst of small messages, a 16 MiB attachment (test/fixtures/interop.ts, `bench`);
- Python <-> Node: Python's enable() (linking to the same Node participant), the same round
  trips, burst and attachment from Python, and a 16 MiB attachment from Node to Python.
Numbers, not assertions; the ratios are Python's over Node's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from roommesh import RoomClient  # noqa: E402
from tests.driver import Driver  # noqa: E402
from tests.service import Service  # noqa: E402

MiB = 1024 * 1024
ROUND_TRIPS = 50
BURST = 200


async def python_side(url: str, room_name: str, node: str, node_id: str, initiate: bool) -> tuple[dict[str, float], RoomClient]:
    """Python joins (again, until its id makes it the initiator or the answerer, as asked) and measures."""
    while True:
        room = RoomClient(url=url, room=room_name, name="python")
        await room.start()
        assert room.local_participant is not None
        if (room.local_participant.id < node_id) == initiate:
            break
        await room.close()
    direct = asyncio.Event()
    room.messaging.on("participant_added", lambda p: direct.set() if p.link == "direct" else None)
    room.messaging.on("participant_link_changed", lambda p: direct.set() if p.link == "direct" else None)
    t0 = time.perf_counter()
    await room.messaging.enable()
    enable_ms = (time.perf_counter() - t0) * 1000
    try:
        await asyncio.wait_for(direct.wait(), 30)
    except asyncio.TimeoutError:
        raise AssertionError(f"no direct link within 30 s: {[(p.name, p.link) for p in room.messaging.get_participants()]}") from None
    direct_ms = (time.perf_counter() - t0) * 1000
    target = room.messaging.get_participant_by_name(node)
    assert target is not None and target.link == "direct", f"Python is not linked directly to {node}"
    print(f"  Python {'initiates' if initiate else 'answers'}: enable() {enable_ms:.0f} ms, direct after {direct_ms:.0f} ms")
    rtts = []
    for i in range(ROUND_TRIPS):
        t0 = time.perf_counter()
        await room.messaging.request(to=target, type="sum", message={"x": i, "y": 1})
        rtts.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    await asyncio.gather(*(room.messaging.send_message(to=target, type="burst", message={"i": i}) for i in range(BURST)))
    rate = BURST / (time.perf_counter() - t0)
    data = os.urandom(16 * MiB)
    t0 = time.perf_counter()
    await room.messaging.send_message(to=target, type="bulk", message={}, attachment=data)
    mbps = len(data) / 1e6 / (time.perf_counter() - t0)
    return {"directMs": direct_ms, "enableMs": enable_ms, "rttP50Ms": statistics.median(rtts), "messagesPerSecond": rate, "megabytesPerSecond": mbps}, room


async def run(stack: str) -> None:
    service = Service()
    url = service.start()
    driver = Driver()
    try:
        await driver.start(url, "bench")
        node_a = await driver.call("join", name="node-a", stack=stack)
        joined = await driver.call("join", name="node-b", stack=stack)
        node = await driver.call("bench", timeout=180, sender="node-b", to="node-a", count=BURST, size=16 * MiB)
        node["enableMs"] = joined["enableMs"]
        answering, room = await python_side(url, "bench", "node-a", node_a["participantId"], initiate=False)
        await room.close()
        python, room = await python_side(url, "bench", "node-a", node_a["participantId"], initiate=True)
        python["answerEnableMs"], python["answerDirectMs"] = answering["enableMs"], answering["directMs"]
        back = await driver.call("send", timeout=180, sender="node-a", to="python", type="bulk-back", message={}, size=16 * MiB)
        python["fromNodeMegabytesPerSecond"] = 16 * MiB / 1e6 / (back["elapsedMs"] / 1000)
        await room.close()
        print(f"\n{stack}")
        print(f"{'':32}{'Node<->Node':>14}{'Python<->Node':>16}{'ratio':>9}")
        for key, label in (("enableMs", "enable() to linked, ms"), ("rttP50Ms", "request round trip p50, ms"), ("messagesPerSecond", "small messages/s"), ("megabytesPerSecond", "16 MiB, MB/s (to Node)")):
            print(f"{label:32}{node[key]:>14.1f}{python[key]:>16.1f}{python[key] / node[key]:>8.2f}x")
        print(f"{'16 MiB Node -> Python, MB/s':32}{'':>14}{python['fromNodeMegabytesPerSecond']:>16.1f}")
    finally:
        await driver.close()
        service.stop()


async def main() -> None:
    for stack in ("@roamhq/wrtc", "node-datachannel"):
        await run(stack)


if __name__ == "__main__":
    asyncio.run(main())
