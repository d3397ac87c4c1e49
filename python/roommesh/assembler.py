"""One stream's messages in progress (docs/protocol.md, "Messages and lanes"): heads and chunks
put together, the declared lengths checked against the limits before anything is allocated,
and messages held in part when a stream ends handed to the session (`park`), for the next
stream to take over (`adopt`) and the peer to resume from where they stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .wire import Chunk, Head, Lane


@dataclass(frozen=True)
class Limits:
    """What this participant accepts (its hello says so); the TypeScript client's defaults."""

    max_json_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 64 * 1024 * 1024
    max_incomplete_messages: int = 8
    max_pending_bytes: int = 96 * 1024 * 1024


@dataclass
class Delivered:
    """A message that arrived whole: its header bytes and attachment."""

    lane: Lane
    id: int
    header: bytes
    attachment: bytes


#: Why a message header is refused, or None.
HeaderCheck = Callable[[bytes], "str | None"]


@dataclass
class _Assembly:
    json_length: int
    total: int
    data: bytearray
    header_checked: bool = False
    #: Carried over from a stream that ended: its sender may resume it, or start it again.
    resumed: bool = False


@dataclass(frozen=True)
class Partial:
    """A message of the peer's held in part when its stream ended."""

    lane: Lane
    id: int
    assembly: _Assembly


@dataclass
class AssemblyEvent:
    """What a head or chunk led to: a message whole, a refusal to send back, or a violation to count."""

    message: Delivered | None = None
    reject: tuple[Lane, int, str, str] | None = None
    violation: str | None = None
    costly: bool = False


@dataclass
class Assembler:
    """One stream's messages in progress, bounded by the limits before anything is allocated."""

    limits: Limits
    _assemblies: dict[tuple[int, int], _Assembly] = field(default_factory=dict)
    _refused: set[tuple[int, int]] = field(default_factory=set)
    _last_head: list[int] = field(default_factory=lambda: [0, 0])
    _pending_bytes: int = 0

    def head(self, record: Head, header_ok: HeaderCheck) -> list[AssemblyEvent]:
        lane, mid = record.lane, record.id
        carried = self._assemblies.get((lane, mid))
        if carried is not None and carried.resumed:
            self._drop((lane, mid))  # its sender starts it again from its first byte
        if mid <= self._last_head[lane]:
            return [AssemblyEvent(violation=f"head {lane}:{mid} out of sequence (last was {self._last_head[lane]})")]
        self._last_head[lane] = mid
        events: list[AssemblyEvent] = []
        for key in [k for k in self._assemblies if k[0] == lane and k[1] < mid]:
            abandoned = self._assemblies[key]
            self._drop(key)
            if not abandoned.resumed:  # one carried over may simply not be resumed: no blame
                events.append(AssemblyEvent(violation=f"message {lane}:{key[1]} abandoned unfinished by head {mid}", costly=True))
        total = record.json_length + record.attachment_length
        limits = self.limits

        def refuse(code: str, text: str, violation: str | None = None) -> list[AssemblyEvent]:
            self._refused.add((lane, mid))
            return [*events, AssemblyEvent(reject=(lane, mid, code, text), violation=violation, costly=violation is not None)]

        if record.json_length == 0 or len(record.data) > total:
            return refuse("INVALID_MESSAGE", "malformed message head", f"head {lane}:{mid} lengths do not add up")
        if record.json_length > limits.max_json_bytes:
            return refuse("MESSAGE_TOO_LARGE", f"message JSON of {record.json_length} bytes exceeds the recipient's limit of {limits.max_json_bytes}")
        if record.attachment_length > limits.max_attachment_bytes:
            return refuse("MESSAGE_TOO_LARGE", f"attachment of {record.attachment_length} bytes exceeds the recipient's limit of {limits.max_attachment_bytes}")
        if len(self._assemblies) >= limits.max_incomplete_messages or self._pending_bytes + total > limits.max_pending_bytes:
            return refuse("MESSAGE_TOO_LARGE", "the recipient has too many incomplete messages from you", f"reassembly limit hit by {lane}:{mid}")
        assembly = _Assembly(json_length=record.json_length, total=total, data=bytearray())
        self._assemblies[(lane, mid)] = assembly
        self._pending_bytes += total
        return [*events, *self._append(lane, mid, assembly, record.data, header_ok)]

    def chunk(self, record: Chunk, header_ok: HeaderCheck) -> list[AssemblyEvent]:
        key = (record.lane, record.id)
        assembly = self._assemblies.get(key)
        if assembly is None:
            return [] if key in self._refused else [AssemblyEvent(violation=f"chunk for unknown message {record.lane}:{record.id}")]
        if record.offset != len(assembly.data) or len(record.data) > assembly.total - len(assembly.data):
            self._drop(key)
            return [AssemblyEvent(violation=f"chunk of {record.lane}:{record.id} at offset {record.offset} (expected {len(assembly.data)})", costly=True)]
        return self._append(record.lane, record.id, assembly, record.data, header_ok)

    def cancel(self, lane: Lane, message_id: int) -> None:
        self._last_head[lane] = max(self._last_head[lane], message_id)
        if (lane, message_id) in self._assemblies:
            self._drop((lane, message_id))

    def _append(self, lane: Lane, mid: int, assembly: _Assembly, data: bytes, header_ok: HeaderCheck) -> list[AssemblyEvent]:
        assembly.data += data
        if not assembly.header_checked and len(assembly.data) >= assembly.json_length:
            assembly.header_checked = True
            refused = header_ok(bytes(assembly.data[: assembly.json_length]))
            if refused is not None:
                self._drop((lane, mid))
                self._refused.add((lane, mid))
                return [AssemblyEvent(reject=(lane, mid, "INVALID_MESSAGE", refused), violation=f"message {lane}:{mid}: {refused}")]
        if len(assembly.data) < assembly.total:
            return []
        self._drop((lane, mid))
        data_bytes = bytes(assembly.data)
        return [AssemblyEvent(message=Delivered(lane=lane, id=mid, header=data_bytes[: assembly.json_length], attachment=data_bytes[assembly.json_length :]))]

    def park(self) -> list[Partial]:
        """The stream ended: its unfinished messages, handed out rather than dropped."""
        parked = [Partial(lane=1 if k[0] else 0, id=k[1], assembly=a) for k, a in self._assemblies.items() if a.data]
        self._assemblies.clear()
        self._pending_bytes = 0
        return parked

    def adopt(self, parked: list[Partial]) -> None:
        """Takes over messages a stream that ended held in part: their chunks continue here."""
        for partial in parked:
            key = (partial.lane, partial.id)
            if key not in self._assemblies:
                partial.assembly.resumed = True
                self._assemblies[key] = partial.assembly
                self._pending_bytes += partial.assembly.total

    def drop_resumed(self) -> None:
        """The peer restarted its session: what was carried over is of its old numbering."""
        for key in [k for k, a in self._assemblies.items() if a.resumed]:
            self._drop(key)

    def _drop(self, key: tuple[int, int]) -> None:
        assembly = self._assemblies.pop(key, None)
        if assembly is not None:
            self._pending_bytes -= assembly.total
