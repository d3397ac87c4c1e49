"""One pair's session (docs/protocol.md, "Delivery across paths"): what survives a change of path.

Outgoing: each lane numbers its messages from 1 for the pair's whole life; a message is kept
until its receipt (or reject) comes, and written again, from its first byte, on every new stream
whose peer hello does not say it was delivered. Incoming: the last id delivered per lane, so a
resend is dropped (and receipted again). Reassembly of one stream's messages is `Assembler`.

Pure: no sockets, no event loop beyond the futures sends resolve with; the stream (stream.py)
drives it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from dataclasses import dataclass, replace

from .assembler import Delivered, Limits, Partial
from .errors import RoomError
from .wire import CHUNK_FIXED_BYTES, HEAD_FIXED_BYTES, MAX_HELLO_PARTIALS, RECORD_HEADER_BYTES, Chunk, Head, Hello, Lane, Record

LANES: tuple[Lane, Lane] = (0, 1)
BULK_THRESHOLD_BYTES = 1024 * 1024
RECEIPT_TIMEOUT_S = 30.0
#: Lane 1 goes first after this many packets in a row that left it no room.
STARVED_PACKETS = 3


@dataclass
class Outgoing:
    lane: Lane
    id: int
    json_length: int
    data: bytes
    future: asyncio.Future[None] | None
    written: int = 0
    written_at: float | None = None
    timer: asyncio.TimerHandle | None = None


class Session:
    def __init__(self, limits: Limits, *, receipt_timeout_s: float = RECEIPT_TIMEOUT_S) -> None:
        self.limits = limits
        self.epoch = secrets.token_hex(8)
        self.peer_epoch: str | None = None
        self.peer_limits: tuple[int, int] | None = None
        self._receipt_timeout_s = receipt_timeout_s
        self._next_id = [1, 1]
        self._pending: tuple[dict[int, Outgoing], dict[int, Outgoing]] = ({}, {})
        self._queue: tuple[deque[Outgoing], deque[Outgoing]] = (deque(), deque())
        self._delivered = [0, 0]
        #: Messages of the peer's we refused, per lane, until its hello's base shows it settled them.
        self._refused: tuple[set[int], set[int]] = (set(), set())
        self._starved = 0
        #: The peer's messages held in part from streams that ended, until a new stream takes them over.
        self._parked: list[Partial] = []
        self.failure: RoomError | None = None

    # -- sending ------------------------------------------------------------------------------

    def send(self, header: bytes, attachment: bytes, future: asyncio.Future[None] | None) -> Outgoing:
        """Queues a message (header bytes, then attachment); `future` settles on its receipt."""
        if self.failure is not None:
            raise self.failure
        total = len(header) + len(attachment)
        if self.peer_limits is not None:
            max_json, max_attachment = self.peer_limits
            if len(header) > max_json or len(attachment) > max_attachment:
                raise RoomError("MESSAGE_TOO_LARGE", f"the message ({len(header)} JSON bytes, {len(attachment)} attachment bytes) exceeds the recipient's limits ({max_json}, {max_attachment})")
        lane: Lane = 1 if total > BULK_THRESHOLD_BYTES else 0
        message = Outgoing(lane=lane, id=self._next_id[lane], json_length=len(header), data=header + attachment, future=future)
        self._next_id[lane] += 1
        self._pending[lane][message.id] = message
        self._queue[lane].append(message)
        return message

    @property
    def has_output(self) -> bool:
        return bool(self._queue[0] or self._queue[1])

    @property
    def queued_bytes(self) -> int:
        return sum(len(m.data) for lane in self._pending for m in lane.values())

    def fill(self, records: list[Record], room: int) -> int:
        """Adds as much of the queued messages as fits in `room` bytes of records; returns the room left."""
        order: tuple[Lane, ...] = (1, 0) if self._starved >= STARVED_PACKETS else LANES
        lane1_written = False
        for lane in order:
            queue = self._queue[lane]
            while queue:
                message = queue[0]
                fixed = HEAD_FIXED_BYTES if message.written == 0 else CHUNK_FIXED_BYTES
                if room < RECORD_HEADER_BYTES + fixed + 1:
                    break
                take = min(len(message.data) - message.written, room - RECORD_HEADER_BYTES - fixed)
                piece = message.data[message.written : message.written + take]
                if message.written == 0:
                    records.append(Head(lane=lane, id=message.id, json_length=message.json_length, attachment_length=len(message.data) - message.json_length, data=piece))
                else:
                    records.append(Chunk(lane=lane, id=message.id, offset=message.written, data=piece))
                message.written += take
                room -= RECORD_HEADER_BYTES + fixed + take
                lane1_written = lane1_written or lane == 1
                if message.written < len(message.data):
                    break
                queue.popleft()
                self._last_byte_written(message)
        self._starved = 0 if lane1_written or not self._queue[1] else self._starved + 1
        return room

    def _last_byte_written(self, message: Outgoing) -> None:
        message.written_at = time.monotonic()
        if message.future is None or message.timer is not None:
            return
        loop = message.future.get_loop()

        def expire() -> None:
            if message.future is not None and not message.future.done():
                message.future.set_exception(RoomError("TIMEOUT", f"no receipt within {self._receipt_timeout_s:g} s of the last byte; the message stays queued and may still arrive, once"))

        message.timer = loop.call_later(self._receipt_timeout_s, expire)

    def _settle(self, lane: Lane, message_id: int, error: RoomError | None = None) -> None:
        message = self._pending[lane].pop(message_id, None)
        if message is None:
            return
        if message in self._queue[lane]:
            self._queue[lane].remove(message)
        if message.timer is not None:
            message.timer.cancel()
        if message.future is not None and not message.future.done():
            if error is None:
                message.future.set_result(None)
            else:
                message.future.set_exception(error)

    def receipts(self, lane: Lane, ids: tuple[int, ...]) -> int:
        """Settles receipted messages; returns how many of the ids were never sent (violations)."""
        unknown = 0
        for message_id in ids:
            if message_id >= self._next_id[lane]:
                unknown += 1
            self._settle(lane, message_id)
        return unknown

    def rejected(self, lane: Lane, message_id: int, code: str, message: str) -> None:
        self._settle(lane, message_id, RoomError(code, f"the recipient refused the message: {message}"))

    def fail(self, error: RoomError) -> None:
        """The pair is over: every unsettled message fails with `error`, and so does every later send."""
        self.failure = error
        for lane in LANES:
            for message_id in list(self._pending[lane]):
                self._settle(lane, message_id, error)

    # -- streams ------------------------------------------------------------------------------

    def _base(self, lane: Lane) -> int:
        pending = self._pending[lane]
        return (min(pending) - 1) if pending else self._next_id[lane] - 1

    def hello(self) -> Hello:
        """The hello a new stream of ours opens with."""
        return Hello(
            max_json_bytes=self.limits.max_json_bytes, max_attachment_bytes=self.limits.max_attachment_bytes,
            epoch=self.epoch, peer_epoch=self.peer_epoch or "",
            delivered=(self._claimed(0), self._claimed(1)), base=(self._base(0), self._base(1)),
        )

    def _claimed(self, lane: Lane) -> int:
        """What a hello says was delivered: never past the first refusal the peer may not have heard of
        (it resends that message, and hears the refusal again, rather than settling it as delivered)."""
        refused = self._refused[lane]
        return min(self._delivered[lane], min(refused) - 1) if refused else self._delivered[lane]

    def open_stream(self) -> tuple[Hello, list[Partial]]:
        """A new stream of ours opens: its hello, naming the peer's messages we hold in part (the stream takes them over)."""
        parked, self._parked = self._parked, []
        resumable = [p for p in parked if p.id > self._delivered[p.lane]][:MAX_HELLO_PARTIALS]
        hello = self.hello()
        if resumable:
            hello = replace(hello, partial=tuple((p.lane, p.id, len(p.assembly.data)) for p in resumable))
        return hello, resumable

    def park(self, parked: list[Partial]) -> None:
        """A stream ended holding these in part: kept for the next stream, within max_pending_bytes."""
        for partial in parked:
            self._parked = [p for p in self._parked if (p.lane, p.id) != (partial.lane, partial.id)] + [partial]
        while self._parked and sum(p.assembly.total for p in self._parked) > self.limits.max_pending_bytes:
            self._parked.pop(0)

    def knows_epoch(self, epoch: str) -> bool:
        return self.peer_epoch is None or self.peer_epoch == epoch

    def activate(self, hello: Hello) -> None:
        """The peer's hello arrived on a stream, which messages now take: settle what it delivered, rewind the rest."""
        self.peer_limits = (hello.max_json_bytes, hello.max_attachment_bytes)
        if self.peer_epoch != hello.epoch:
            if self.peer_epoch is not None:
                # It gave us up and forgot what it delivered: a message whose last byte reached its
                # old session may have been delivered there, so it fails rather than risk arriving twice.
                for lane in LANES:
                    for message in list(self._pending[lane].values()):
                        if message.written_at is not None:
                            self._settle(lane, message.id, RoomError("PARTICIPANT_LEFT", "the recipient restarted its side of the link before confirming this message, which may or may not have been delivered"))
            self.peer_epoch = hello.epoch
            self._parked = []
            self._delivered = [hello.base[0], hello.base[1]]
            for lane in LANES:
                self._refused[lane].clear()
        else:
            self._delivered = [max(self._delivered[0], hello.base[0]), max(self._delivered[1], hello.base[1])]
        for lane in LANES:
            self._refused[lane].difference_update([i for i in self._refused[lane] if i <= hello.base[lane]])
        if hello.peer_epoch == self.epoch:
            for lane in LANES:
                for message_id in [i for i in self._pending[lane] if i <= hello.delivered[lane]]:
                    self._settle(lane, message_id)
        # What the peer holds in part from a stream that ended (its hello says), it gets from there on.
        resume_at = {(lane, mid): held for lane, mid, held in hello.partial} if hello.peer_epoch == self.epoch else {}
        for lane in LANES:
            self._queue[lane].clear()
            for message in sorted(self._pending[lane].values(), key=lambda m: m.id):
                held = resume_at.get((lane, message.id), 0)
                message.written = held if 0 < held < len(message.data) else 0
                message.written_at = None
                self._queue[lane].append(message)

    # -- receiving ----------------------------------------------------------------------------

    def refused(self, lane: Lane, message_id: int) -> None:
        """We refused a message of the peer's: it counts as handled, and is remembered until the peer settles it."""
        if message_id > self._delivered[lane]:
            self._delivered[lane] = message_id
            self._refused[lane].add(message_id)

    def incoming(self, lane: Lane, message_id: int) -> bool:
        """A message of the peer's arrived whole: True to deliver it, False for a resend of one delivered (receipted again)."""
        if message_id <= self._delivered[lane]:
            return False
        self._delivered[lane] = message_id
        return True


__all__ = ["Delivered", "Limits", "Outgoing", "Session"]
