"""agent.py: a Python participant that answers requests and direct messages, beside agent.mjs.
It answers `sum` requests, echoes text, and returns the SHA-256 of any attachment.
    ROOMMESH_URL=http://127.0.0.1:8787 ROOMMESH_ROOM=demo /usr/bin/python3 examples/agent.py
(with `roommesh` installed, or from a checkout: PYTHONPATH=python)
"""

import asyncio
import hashlib
import os
import signal

from roommesh import ReceivedMessage, RoomClient


async def main() -> None:
    room = RoomClient(
        url=os.environ.get("ROOMMESH_URL", "http://127.0.0.1:8787"),
        room=os.environ.get("ROOMMESH_ROOM", "demo"),
        name=os.environ.get("AGENT_NAME", "py-agent"),
        attributes={"kind": "agent"},
        token=os.environ.get("ROOMMESH_TOKEN"),
    )
    room.messaging.on_request("sum", lambda request: {"sum": request.message.get("x", 0) + request.message.get("y", 0)})

    async def answer(m: ReceivedMessage) -> None:
        if m.broadcast:
            return  # answer only what is addressed to us
        if m.attachment is not None:
            text = f"sha256 {hashlib.sha256(m.attachment).hexdigest()} ({len(m.attachment)} bytes)"
        else:
            text = f"echo: {m.message.get('text', m.message)}"
        await room.messaging.send_message(to=m.from_participant, type="chat", message={"text": text})

    room.messaging.on("message", answer)
    room.messaging.on("participant_added", lambda p: print(f"{p.name} joined ({p.link})"))
    room.messaging.on("participant_removed", lambda p: print(f"{p.name} left"))

    await room.start()
    await room.messaging.enable()
    assert room.local_participant is not None
    print(f"{room.local_participant.name} is in room {room.room!r} as {room.local_participant.id}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await room.close()


if __name__ == "__main__":
    asyncio.run(main())
