"""One stream to one peer, over a direct link's data channel or a relay stream (docs/protocol.md,
"Wire", "Liveness"), as client/peer/channel.ts does it: it opens with a hello, binds itself to
both identity keys (trust.py), then carries the session's messages in packets no larger than the
path takes, paced by the transport's buffered amount; it answers probes, receipts what arrives,
and tells its peer (peer.py) when it goes quiet, silent, hears again, or breaks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .header import decode_header
from .assembler import Assembler, AssemblyEvent, Delivered
from .session import Session
from .trust import ChannelBinding, StreamAuth
from .wire import (
    PACKET_HEADER_BYTES, RECORD_HEADER_BYTES, Auth, Bye, Cancel, Chunk, Datagram, DatagramReceipts, Head, Hello, Lane,
    Ping, Pong, Probe, Receipts, Record, Reject, decode_packet, encode_packet,
)

HEARTBEAT_S = 1.0
LIVENESS_S = 3.0
RTT_SAMPLE_S = 5.0
AUTH_TIMEOUT_S = 10.0
POLL_S = 0.002
MAX_VIOLATIONS = 256
MAX_ABANDONED = 16
_UNREADY = (Hello, Auth, Ping, Probe, Pong)


class Transport(Protocol):
    @property
    def is_open(self) -> bool: ...
    @property
    def buffered_amount(self) -> int: ...
    @property
    def max_packet_bytes(self) -> int: ...
    @property
    def water_marks(self) -> tuple[int, int]: ...
    def send(self, packet: bytes) -> None: ...


@dataclass
class StreamHandlers:
    ready: Callable[[Hello, "Stream"], None]
    message: Callable[[Delivered], None]
    #: The peer said goodbye; True: it answers ours (it stays, and leaves the link for us to close).
    bye: Callable[[bool], None]
    silent: Callable[[], None]
    revived: Callable[[], None]
    broken: Callable[[str], None]
    unauthenticated: Callable[[str], None]
    violation: Callable[[str], None]
    datagram: Callable[[Datagram], None]


class Stream:
    def __init__(self, transport: Transport, session: Session, auth: StreamAuth, binding: Callable[[], ChannelBinding | str], handlers: StreamHandlers) -> None:
        self.transport = transport
        self.session = session
        self._auth = auth
        self._binding = binding
        self._handlers = handlers
        self._assembler = Assembler(session.limits)
        self._control: list[Record] = []
        self._receipts: tuple[list[int], list[int]] = ([], [])
        self._datagram_receipts: list[int] = []
        self.attached = False
        self.ready = False
        self.closed = False
        self._hello_seen = False
        self._peer_hello: Hello | None = None
        self._violations = 0
        self._abandoned = 0
        self._last_heard = time.monotonic()
        self._silence = "none"
        self._srtt: float | None = None
        self._rttvar = 0.0
        self._probe_at: float | None = None
        self._pong_waiters: list[asyncio.Future[bool]] = []
        self._pump_scheduled = False
        self._loop = asyncio.get_running_loop()
        self._auth_timer: asyncio.TimerHandle | None = None
        nonce, key = auth.hello_fields()
        hello, partial = session.open_stream()
        self._assembler.adopt(partial)
        self._control.append(dataclasses.replace(hello, nonce=nonce, key=key))
        self._heartbeat = self._loop.create_task(self._beat())
        self.kick()

    # -- sending ------------------------------------------------------------------------------

    def kick(self) -> None:
        """There is something new to send: the pump runs on the next turn of the loop (so sends of one tick coalesce)."""
        if self.closed or self._pump_scheduled:
            return
        self._pump_scheduled = True
        self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_scheduled = False
        if self.closed:
            return
        high, low = self.transport.water_marks
        while self.transport.is_open:
            if self.transport.buffered_amount >= high:
                self._pump_scheduled = True
                self._loop.call_later(POLL_S, self._drained, low)
                return
            packet = self._next_packet()
            if packet is None:
                return
            self.transport.send(packet)

    def _drained(self, low: int) -> None:
        if self.closed:
            return
        if self.transport.buffered_amount > low:
            self._loop.call_later(POLL_S, self._drained, low)
            return
        self._pump_scheduled = False
        self._pump()

    def _next_packet(self) -> bytes | None:
        room = self.transport.max_packet_bytes - PACKET_HEADER_BYTES
        records: list[Record] = []
        while self._control:
            record = self._control[0]
            size = len(encode_packet([record])) - PACKET_HEADER_BYTES
            if size > room and records:
                break
            records.append(self._control.pop(0))
            room -= size
        lanes: tuple[Lane, Lane] = (0, 1)
        for lane in lanes:
            ids = self._receipts[lane]
            if ids and room > RECORD_HEADER_BYTES + 1 + 4:
                count = min(len(ids), (room - RECORD_HEADER_BYTES - 1) // 4)
                records.append(Receipts(lane=lane, ids=tuple(ids[:count])))
                del ids[:count]
                room -= RECORD_HEADER_BYTES + 1 + 4 * count
        if self._datagram_receipts and room > RECORD_HEADER_BYTES + 4:
            count = min(len(self._datagram_receipts), (room - RECORD_HEADER_BYTES) // 4)
            records.append(DatagramReceipts(ids=tuple(self._datagram_receipts[:count])))
            del self._datagram_receipts[:count]
            room -= RECORD_HEADER_BYTES + 4 * count
        if self.attached and self.ready:
            self.session.fill(records, room)
        return encode_packet(records) if records else None

    def _control_record(self, record: Record) -> None:
        self._control.append(record)
        self.kick()

    def bye(self) -> None:
        self._control_record(Bye())

    def answer_bye(self) -> None:
        """Answers the peer's goodbye with ours, sent now (the stream stops right after): the peer then closes the link."""
        if self.closed:
            return
        self._control.append(Bye(answer=True))
        self._pump()

    def probe(self) -> None:
        self._control_record(Probe())

    async def confirm(self, timeout_s: float) -> bool:
        """True once the peer has handled everything sent so far (its pong to a probe sent now is back)."""
        if self.closed:
            return False
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._pong_waiters.append(waiter)
        self.probe()
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._pong_waiters:
                self._pong_waiters.remove(waiter)

    def heard_within(self, seconds: float) -> bool:
        return not self.closed and time.monotonic() - self._last_heard < seconds

    # -- heartbeat ----------------------------------------------------------------------------

    @property
    def liveness_s(self) -> float:
        if self._srtt is None:
            return LIVENESS_S
        return max(LIVENESS_S, 3 * (self._srtt + 4 * self._rttvar))

    async def _beat(self) -> None:
        last_beat = last_tick = time.monotonic()
        last_probe = last_beat - RTT_SAMPLE_S
        period = HEARTBEAT_S / 2
        while not self.closed:
            await asyncio.sleep(period)
            now = time.monotonic()
            if now - last_tick > period + LIVENESS_S / 2:  # this process was starved: the peer gets a fresh window
                self._last_heard = last_tick = now
                continue
            last_tick = now
            unheard = now - self._last_heard
            if unheard > self.liveness_s / 2 and self._silence == "none":
                self._silence = "quiet"
                self._probe_at = None
            if unheard > self.liveness_s and self._silence != "silent":
                self._silence = "silent"
                self._handlers.silent()
            if self.closed:
                return
            if now - last_beat >= HEARTBEAT_S and not self._control and not (self.attached and self.session.has_output):
                last_beat = now
                if self._probe_at is None and now - last_probe >= RTT_SAMPLE_S and self._silence == "none":
                    last_probe = self._probe_at = now
                    self._control_record(Probe())
                else:
                    self._control_record(Ping())

    # -- receiving ----------------------------------------------------------------------------

    def receive(self, packet: bytes) -> None:
        if self.closed:
            return
        self._last_heard = time.monotonic()
        was, self._silence = self._silence, "none"
        if was == "silent":
            self._handlers.revived()
        decoded = decode_packet(packet)
        if isinstance(decoded, str):
            return self._violation(decoded)
        if decoded.unknown_records > 0:
            self._violation(f"{decoded.unknown_records} record(s) of unknown kind skipped")
        for record in decoded.records:
            if self.closed:
                return
            if not self.ready and not isinstance(record, _UNREADY):
                self._violation(f"a {type(record).__name__.lower()} record before the stream was ready")
                continue
            self._handle(record)

    def _handle(self, record: Record) -> None:
        if isinstance(record, Head):
            self._assembled(self._assembler.head(record, self._check_header))
        elif isinstance(record, Chunk):
            self._assembled(self._assembler.chunk(record, self._check_header))
        elif isinstance(record, Cancel):
            self._assembler.cancel(record.lane, record.id)
            self.session.incoming(record.lane, record.id)
            self._receipt(record.lane, record.id)
        elif isinstance(record, Receipts):
            if self.session.receipts(record.lane, record.ids) > 0:
                self._violation("a receipt for a message never sent")
        elif isinstance(record, Reject):
            self.session.rejected(record.lane, record.id, record.code, record.message)
        elif isinstance(record, Hello):
            if self._hello_seen:
                return self._break("a second hello on one stream")
            self._hello_seen = True
            if not self.session.knows_epoch(record.epoch):
                self._assembler.drop_resumed()  # a peer that restarted its session will not resume what its old one began
            self._answer_hello(record)
        elif isinstance(record, Auth):
            self._check_auth(record.body)
        elif isinstance(record, Probe):
            self._control_record(Pong())
        elif isinstance(record, Pong):
            if self._probe_at is not None:
                self._sample_rtt(time.monotonic() - self._probe_at)
            self._probe_at = None
            for waiter in self._pong_waiters:
                if not waiter.done():
                    waiter.set_result(True)
        elif isinstance(record, Datagram):
            if record.mode == "unordered":
                self._datagram_receipts.append(record.id)
                self.kick()
            self._handlers.datagram(record)
        elif isinstance(record, DatagramReceipts):
            self._violation("datagram receipts, but this participant sends no datagrams")
        elif isinstance(record, Bye):
            self._handlers.bye(record.answer)

    @staticmethod
    def _check_header(header: bytes) -> str | None:
        decoded = decode_header(header)
        return decoded if isinstance(decoded, str) else None

    def _assembled(self, events: list[AssemblyEvent]) -> None:
        for event in events:
            if event.message is not None:
                if self.session.incoming(event.message.lane, event.message.id):
                    self._handlers.message(event.message)
                self._receipt(event.message.lane, event.message.id)
            if event.reject is not None:
                lane, mid, code, text = event.reject
                self.session.refused(lane, mid)
                self._control_record(Reject(lane=lane, id=mid, code=code, message=text))
            if event.violation is not None:
                if event.costly:
                    self._abandoned += 1
                    if self._abandoned > MAX_ABANDONED:
                        return self._break(f"more than {MAX_ABANDONED} messages begun and abandoned or refused")
                self._violation(event.violation)

    def _receipt(self, lane: Lane, message_id: int) -> None:
        self._receipts[lane].append(message_id)
        self.kick()

    def _answer_hello(self, hello: Hello) -> None:
        answer = self._auth.answer(hello.nonce, hello.key, self._binding())
        if isinstance(answer, str):
            return self._unauthenticated(answer)
        self._peer_hello = hello
        self._control_record(Auth(body=answer))
        self._auth_timer = self._loop.call_later(AUTH_TIMEOUT_S, self._unauthenticated, f"no proof of its identity key within {AUTH_TIMEOUT_S:g} s of its hello")

    def _check_auth(self, body: bytes) -> None:
        if self.ready or self._peer_hello is None:
            return self._violation("an auth record on a stream that takes none (or a second one)")
        refused = self._auth.check(body)
        if refused is not None:
            return self._unauthenticated(refused)
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        hello, self._peer_hello = self._peer_hello, None
        self.ready = True
        self._handlers.ready(hello, self)

    @property
    def peer_fingerprint(self) -> str | None:
        return self._auth.peer_fingerprint

    def _sample_rtt(self, sample: float) -> None:
        if self._srtt is None:
            self._srtt, self._rttvar = sample, sample / 2
        else:
            self._rttvar = 0.75 * self._rttvar + 0.25 * abs(self._srtt - sample)
            self._srtt = 0.875 * self._srtt + 0.125 * sample

    @property
    def rtt_ms(self) -> float | None:
        return None if self._srtt is None else self._srtt * 1000

    def _violation(self, reason: str) -> None:
        self._violations += 1
        if self._violations > MAX_VIOLATIONS:
            return self._break(f"more than {MAX_VIOLATIONS} malformed frames")
        self._handlers.violation(reason)

    def _break(self, reason: str) -> None:
        if not self.closed:
            self.close()
            self._handlers.broken(reason)

    def _unauthenticated(self, reason: str) -> None:
        if not self.closed:
            self.close()
            self._handlers.unauthenticated(reason)

    def close(self) -> None:
        """Stops the stream (the session keeps its messages). Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.session.park(self._assembler.park())
        self._heartbeat.cancel()
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        for waiter in self._pong_waiters:
            if not waiter.done():
                waiter.set_result(False)
