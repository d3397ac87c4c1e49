"""One stream on a fake transport (no sockets): two ends bind and exchange messages; hostile
bytes never raise, are counted, and past the bound close the stream."""

from __future__ import annotations

import asyncio
import os
import random

from roommesh.binding import Identity
from roommesh.session import Delivered, Limits, Session
from roommesh.stream import Stream, StreamHandlers
from roommesh.trust import ChannelBinding, Trust
from roommesh.wire import WIRE_VERSION


class Pipe:
    """A transport whose packets go to `peer.receive` on the next turn of the loop."""

    def __init__(self) -> None:
        self.peer: Stream | None = None
        self.sent = 0

    is_open = True
    buffered_amount = 0
    max_packet_bytes = 16_384
    water_marks = (1 << 20, 1 << 18)

    def send(self, packet: bytes) -> None:
        self.sent += 1
        asyncio.get_running_loop().call_soon(lambda: self.peer.receive(packet) if self.peer else None)


class Log:
    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.messages: list[Delivered] = []
        self.violations: list[str] = []
        self.broken: list[str] = []
        self.refused: list[str] = []
        self.refusal = asyncio.Event()

    def _refused(self, reason: str) -> None:
        self.refused.append(reason)
        self.refusal.set()

    def handlers(self) -> StreamHandlers:
        def ready(hello: object, stream: Stream) -> None:
            stream.attached = True
            stream.session.activate(hello)  # type: ignore[arg-type]
            stream.kick()
            self.ready.set()

        return StreamHandlers(
            ready=ready, message=self.messages.append, bye=lambda _answer: None, silent=lambda: None, revived=lambda: None,
            broken=self.broken.append, unauthenticated=self._refused, violation=self.violations.append, datagram=lambda _: None,
        )


def pair(room_key_b: bytes | None = None) -> tuple[Stream, Stream, Log, Log, Pipe]:
    a_id, b_id = "a" * 22, "b" * 22
    binding_a = ChannelBinding(kind="dtls", local="sha-256 AA", remote="sha-256 BB")
    binding_b = ChannelBinding(kind="dtls", local="sha-256 BB", remote="sha-256 AA")
    trust_a = Trust(identity=Identity.generate(), room="r")
    trust_b = Trust(identity=Identity.generate(), room="r", room_key=room_key_b)
    log_a, log_b = Log(), Log()
    to_b, to_a = Pipe(), Pipe()
    a = Stream(to_b, Session(Limits()), trust_a.for_stream(a_id, b_id), lambda: binding_a, log_a.handlers())
    b = Stream(to_a, Session(Limits()), trust_b.for_stream(b_id, a_id), lambda: binding_b, log_b.handlers())
    to_b.peer, to_a.peer = b, a
    return a, b, log_a, log_b, to_b


def test_two_ends_bind_their_stream_then_deliver_a_message_with_its_receipt() -> None:
    async def run() -> None:
        a, b, log_a, log_b, _ = pair()
        await asyncio.wait_for(asyncio.gather(log_a.ready.wait(), log_b.ready.wait()), 5)
        sent = asyncio.get_running_loop().create_future()
        a.session.send(b'{"t":"x","m":{}}', os.urandom(100_000), sent)
        a.kick()
        await asyncio.wait_for(sent, 5)
        assert [len(m.attachment) for m in log_b.messages] == [100_000]
        assert (log_a.violations, log_b.violations) == ([], [])
        a.close()
        b.close()

    asyncio.run(run())


def test_a_binding_without_the_room_passphrase_is_refused() -> None:
    async def run() -> None:
        a, b, log_a, log_b, _ = pair(room_key_b=os.urandom(32))
        await asyncio.wait_for(log_b.refusal.wait(), 5)
        assert "passphrase" in log_b.refused[0] and not log_b.ready.is_set()
        a.close()
        b.close()

    asyncio.run(run())


def test_hostile_bytes_never_raise_and_past_the_bound_close_the_stream() -> None:
    async def run() -> None:
        a, b, _, log_b, _ = pair()
        rng = random.Random(7)
        samples = [b"", bytes([9]), bytes([WIRE_VERSION, 1, 0xFF, 0xFF, 0xFF, 0xFF])]
        samples += [bytes([WIRE_VERSION]) + rng.randbytes(rng.randrange(1, 200)) for _ in range(400)]
        for packet in samples:
            b.receive(packet)  # must not raise
        assert b.closed and log_b.broken == ["more than 256 malformed frames"]
        assert len(log_b.violations) == 256
        a.close()
        b.close()

    asyncio.run(run())
