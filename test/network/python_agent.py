"""A Python participant of the network lab, in its own process inside a host's namespace:
    ip netns exec <ns> /usr/bin/python3 test/network/python_agent.py '<json config>'
It speaks agent.ts's lines (events out, commands in; every event carries `t`, ms since the
epoch), so that pair.ts's `measure` takes it as either side of a pair.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from roommesh import ReceivedMessage, RemoteParticipant, RoomClient  # noqa: E402

config: dict[str, Any] = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
started = time.perf_counter()


def say(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, "t": int(time.time() * 1000), **fields}) + "\n")
    sys.stdout.flush()


async def main() -> None:
    # With `peerId` and `initiate`, join again until the ids make this side the pair's initiator (or answerer), as asked.
    while True:
        room = RoomClient(url=config["url"], room=config.get("room", "lab"), name=config["name"], ice_servers=config.get("iceServers"))
        await room.start()
        assert room.local_participant is not None
        if "peerId" not in config or (room.local_participant.id < config["peerId"]) == bool(config.get("initiate")):
            break
        await room.close()
    peer: RemoteParticipant | None = None
    received: list[int] = []
    latencies: list[int] = []

    def on_message(m: ReceivedMessage) -> None:
        body = m.message
        if body.get("kind") == "stream":
            received.append(int(body["n"]))
            latencies.append(int(time.time() * 1000) - int(body["at"]))
        elif body.get("kind") == "first":
            say("got-first", ms=int(time.time() * 1000) - int(body["at"]))

    def on_added(p: RemoteParticipant) -> None:
        nonlocal peer
        peer = p
        say("present", id=p.id, sinceStartMs=(time.perf_counter() - started) * 1000, link=p.link)

    room.messaging.on("message", on_message)
    room.messaging.on("participant_added", on_added)
    room.messaging.on("participant_link_changed", lambda p: say("path", link=p.link))
    room.messaging.on("participant_removed", lambda p: say("removed", id=p.id))
    say("started", id=room.local_participant.id)
    say("enabling")
    enabling = time.perf_counter()
    await room.messaging.enable()
    say("enabled", ms=(time.perf_counter() - enabling) * 1000, peers=len(room.messaging.get_participants()))

    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "stop":
            break
        if cmd["cmd"] == "path":
            say("path-now", link=peer.link if peer else None)
            continue
        if peer is None:
            say("error", message=f"no link yet for {cmd['cmd']}")
            continue
        if cmd["cmd"] == "first":
            at = int(time.time() * 1000)
            await room.messaging.send_message(to=peer, type="lab", message={"kind": "first", "at": at})
            say("first-sent", sinceStartMs=(time.perf_counter() - started) * 1000, roundTripMs=int(time.time() * 1000) - at)
        elif cmd["cmd"] == "stream":
            sends = []
            for n in range(int(cmd["count"])):
                sends.append(asyncio.ensure_future(room.messaging.send_message(to=peer, type="lab", message={"kind": "stream", "n": n, "at": int(time.time() * 1000)})))
                await asyncio.sleep(1 / float(cmd["rate"]))
            await asyncio.gather(*sends, return_exceptions=True)
            say("stream-sent", count=int(cmd["count"]))
        elif cmd["cmd"] == "report":
            ordered = all(b > a for a, b in zip(received, received[1:]))
            quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
            say("report", received=len(received), duplicates=len(received) - len(set(received)), inOrder=ordered, p50=quantiles[49], p99=quantiles[98])
        elif cmd["cmd"] == "bulk":
            data = bytes(int(cmd["bytes"]))
            began = time.perf_counter()
            await room.messaging.send_message(to=peer, type="bulk", message={}, attachment=data)
            say("bulk-done", mbPerSecond=len(data) / 1e6 / (time.perf_counter() - began))
    await room.close()


asyncio.run(main())
