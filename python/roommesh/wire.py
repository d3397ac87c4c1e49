"""The data-channel wire (docs/protocol.md, "Wire"): packets of records, encoded and decoded
exactly as the TypeScript codec (client/wire/codec.ts) does; protocol/vectors/wire.json holds
the golden packets both check against. Pure: bytes in, records (or a reason) out; decoding
never raises.

    packet = version:u8 (=2)  record*
    record = kind:u8  length:u32  body[length]
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from typing import Literal, Union

WIRE_VERSION = 2
PACKET_HEADER_BYTES = 1
RECORD_HEADER_BYTES = 5
HEAD_FIXED_BYTES = 13
CHUNK_FIXED_BYTES = 9
DATAGRAM_FIXED_BYTES = 9
MAX_PACKET_BYTES = 262_144
MAX_ERROR_MESSAGE_CHARS = 1024
MAX_TOKEN_CHARS = 8192
MAX_AUTH_BYTES = 1024 + MAX_TOKEN_CHARS
MAX_HELLO_PARTIALS = 64
HELLO_NONCE_BYTES = 16
HELLO_KEY_BYTES = 32

Lane = Literal[0, 1]
DatagramMode = Literal["unordered", "lossy", "latest"]

KIND: dict[str, int] = {
    "head": 1, "chunk": 2, "receipts": 3, "reject": 4, "bye": 5, "hello": 6, "ping": 7,
    "probe": 8, "pong": 9, "cancel": 10, "datagram": 11, "datagram-receipts": 12, "auth": 13,
}
MODE_CODE: dict[str, int] = {"unordered": 1, "lossy": 2, "latest": 3}
MODE_OF: dict[int, DatagramMode] = {1: "unordered", 2: "lossy", 3: "latest"}

# The error codes a reject may carry: protocol/errors.ts's ERROR_CODES, in its order (a test holds them equal).
ERROR_CODES: tuple[str, ...] = (
    "NOT_STARTED", "NOT_ENABLED", "PARTICIPANT_NOT_FOUND", "PARTICIPANT_LEFT", "INVALID_MESSAGE", "INVALID_ARGUMENT",
    "MESSAGE_TOO_LARGE", "QUEUE_FULL", "UNREACHABLE", "UNAUTHORIZED", "ROOM_FULL", "SERVICE_FULL", "RATE_LIMITED",
    "TIMEOUT", "SIGNALING_FAILED", "CLOSED", "ABORTED", "REQUEST_FAILED", "NO_HANDLER", "RTC_UNAVAILABLE",
    "PEER_AUTHENTICATION_FAILED",
)


@dataclass(frozen=True)
class Hello:
    """A stream's first record: the sender's limits, session epochs and resume state, and its binding's nonce and key."""

    max_json_bytes: int
    max_attachment_bytes: int
    epoch: str
    peer_epoch: str
    delivered: tuple[int, int]
    base: tuple[int, int]
    nonce: str | None = None
    key: str | None = None
    bulk: bool = False
    restart: bool = False
    datagrams: bool = False
    unordered_base: int = 0
    partial: tuple[tuple[int, int, int], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Head:
    lane: Lane
    id: int
    json_length: int
    attachment_length: int
    data: bytes


@dataclass(frozen=True)
class Chunk:
    lane: Lane
    id: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class Receipts:
    lane: Lane
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Reject:
    lane: Lane
    id: int
    code: str
    message: str


@dataclass(frozen=True)
class Cancel:
    lane: Lane
    id: int


@dataclass(frozen=True)
class Datagram:
    mode: DatagramMode
    id: int
    json_length: int
    data: bytes


@dataclass(frozen=True)
class DatagramReceipts:
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Auth:
    body: bytes


@dataclass(frozen=True)
class Bye:
    #: Not leaving: answering the peer's goodbye, and leaving the link for the peer to close (body: one byte, 1).
    answer: bool = False


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Probe:
    pass


@dataclass(frozen=True)
class Pong:
    pass


Record = Union[Head, Chunk, Receipts, Reject, Cancel, Datagram, DatagramReceipts, Hello, Auth, Bye, Ping, Probe, Pong]


@dataclass(frozen=True)
class Decoded:
    records: list[Record]
    unknown_records: int


def _json(value: object) -> bytes:
    """JSON as JavaScript's JSON.stringify writes it: no spaces, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _hello_json(hello: Hello) -> bytes:
    fields: dict[str, object] = {
        "maxJsonBytes": hello.max_json_bytes,
        "maxAttachmentBytes": hello.max_attachment_bytes,
        "epoch": hello.epoch,
        "peerEpoch": hello.peer_epoch,
        "delivered": list(hello.delivered),
        "base": list(hello.base),
    }
    if hello.nonce is not None:
        fields["nonce"] = hello.nonce
    if hello.key is not None:
        fields["key"] = hello.key
    if hello.bulk:
        fields["bulk"] = True
    if hello.restart:
        fields["restart"] = True
    if hello.datagrams:
        fields["datagrams"] = True
    if hello.unordered_base > 0:
        fields["unorderedBase"] = hello.unordered_base
    if hello.partial:
        fields["partial"] = [list(p) for p in hello.partial]
    return _json(fields)


def _body(record: Record) -> tuple[int, bytes]:
    """A record's kind code and body."""
    if isinstance(record, Head):
        return KIND["head"], struct.pack(">BIII", record.lane, record.id, record.json_length, record.attachment_length) + record.data
    if isinstance(record, Chunk):
        return KIND["chunk"], struct.pack(">BII", record.lane, record.id, record.offset) + record.data
    if isinstance(record, Receipts):
        return KIND["receipts"], struct.pack(f">B{len(record.ids)}I", record.lane, *record.ids)
    if isinstance(record, Reject):
        error = _json({"code": record.code, "message": record.message[:MAX_ERROR_MESSAGE_CHARS]})
        return KIND["reject"], struct.pack(">BI", record.lane, record.id) + error
    if isinstance(record, Cancel):
        return KIND["cancel"], struct.pack(">BI", record.lane, record.id)
    if isinstance(record, Datagram):
        return KIND["datagram"], struct.pack(">BII", MODE_CODE[record.mode], record.id, record.json_length) + record.data
    if isinstance(record, DatagramReceipts):
        return KIND["datagram-receipts"], struct.pack(f">{len(record.ids)}I", *record.ids)
    if isinstance(record, Hello):
        return KIND["hello"], _hello_json(record)
    if isinstance(record, Auth):
        return KIND["auth"], record.body
    if isinstance(record, Bye):
        return KIND["bye"], b"\x01" if record.answer else b""
    if isinstance(record, Ping):
        return KIND["ping"], b""
    if isinstance(record, Probe):
        return KIND["probe"], b""
    return KIND["pong"], b""


def encode_packet(records: list[Record]) -> bytes:
    """The packet carrying `records`, in order."""
    out = bytearray([WIRE_VERSION])
    for record in records:
        kind, body = _body(record)
        out += struct.pack(">BI", kind, len(body)) + body
    return bytes(out)


_HEX = re.compile(r"^[0-9a-f]*$")


def _as_lane(value: int) -> Lane | None:
    if value == 0:
        return 0
    if value == 1:
        return 1
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF_FFFF


def is_hex_of(value: object, size: int) -> bool:
    """Whether `value` is lower-case hex of exactly `size` bytes (as the TypeScript codec's isHexOf)."""
    return isinstance(value, str) and len(value) == size * 2 and _HEX.match(value) is not None


def _is_pair(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_count(v) for v in value)


def _is_epoch(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 64


def _decode_hello(body: bytes) -> Hello | str:
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "hello record is not JSON"
    if not isinstance(fields, dict):
        fields = {}
    max_json, max_attachment = fields.get("maxJsonBytes"), fields.get("maxAttachmentBytes")
    if not _is_count(max_json) or not _is_count(max_attachment):
        return "hello record has no valid limits"
    epoch, peer_epoch = fields.get("epoch"), fields.get("peerEpoch")
    if not _is_epoch(epoch) or epoch == "" or not _is_epoch(peer_epoch):
        return "hello record has no valid epochs"
    delivered, base = fields.get("delivered"), fields.get("base")
    if not _is_pair(delivered) or not _is_pair(base):
        return "hello record has no valid delivered/base ids"
    nonce, key = fields.get("nonce"), fields.get("key")
    if nonce is not None and not is_hex_of(nonce, HELLO_NONCE_BYTES):
        return "hello record has an invalid nonce"
    if key is not None and not is_hex_of(key, HELLO_KEY_BYTES):
        return "hello record has an invalid identity key"
    unordered_base = fields.get("unorderedBase", 0)
    if not _is_count(unordered_base):
        return "hello record has an invalid unorderedBase"
    partial = fields.get("partial", [])
    if not (
        isinstance(partial, list)
        and len(partial) <= MAX_HELLO_PARTIALS
        and all(
            isinstance(p, list) and len(p) == 3 and p[0] in (0, 1) and not isinstance(p[0], bool)
            and _is_count(p[1]) and _is_count(p[2]) and p[1] > 0 and p[2] > 0
            for p in partial
        )
    ):
        return "hello record has malformed partial messages"
    return Hello(
        max_json_bytes=max_json, max_attachment_bytes=max_attachment, epoch=epoch, peer_epoch=peer_epoch,
        delivered=(delivered[0], delivered[1]), base=(base[0], base[1]), nonce=nonce, key=key,
        bulk=fields.get("bulk") is True, restart=fields.get("restart") is True, datagrams=fields.get("datagrams") is True,
        unordered_base=unordered_base, partial=tuple((p[0], p[1], p[2]) for p in partial),
    )


def _decode_reject(body: bytes) -> Reject | str:
    if len(body) < 5:
        return "reject record too short"
    lane, rid = struct.unpack_from(">BI", body)
    if lane not in (0, 1):
        return f"reject record names lane {lane}"
    try:
        parsed = json.loads(body[5:].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "reject record is not JSON"
    if not isinstance(parsed, dict):
        return "reject record is not an object"
    code, message = parsed.get("code"), parsed.get("message")
    if code not in ERROR_CODES or not isinstance(message, str):
        return "reject record has no valid code/message"
    return Reject(lane=lane, id=rid, code=code, message=message[:MAX_ERROR_MESSAGE_CHARS])


def decode_packet(packet: bytes) -> Decoded | str:
    """The packet's records (kinds this version does not know are skipped and counted), or why it is malformed."""
    if len(packet) < PACKET_HEADER_BYTES:
        return "empty packet"
    if packet[0] != WIRE_VERSION:
        return f"unsupported wire version {packet[0]}"
    if len(packet) > MAX_PACKET_BYTES:
        return f"packet of {len(packet)} bytes exceeds {MAX_PACKET_BYTES}"
    records: list[Record] = []
    unknown = 0
    at = PACKET_HEADER_BYTES
    while at < len(packet):
        if len(packet) - at < RECORD_HEADER_BYTES:
            return "truncated record header"
        kind, length = struct.unpack_from(">BI", packet, at)
        at += RECORD_HEADER_BYTES
        if length > len(packet) - at:
            return f"record length {length} exceeds the packet"
        body = packet[at : at + length]
        lane = body[0] if length > 0 else 0
        typed_lane = _as_lane(lane)
        if kind == KIND["head"]:
            if length < HEAD_FIXED_BYTES:
                return "head record too short"
            if typed_lane is None:
                return f"head record names lane {lane}"
            _, hid, json_length, attachment_length = struct.unpack_from(">BIII", body)
            records.append(Head(lane=typed_lane, id=hid, json_length=json_length, attachment_length=attachment_length, data=body[HEAD_FIXED_BYTES:]))
        elif kind == KIND["chunk"]:
            if length < CHUNK_FIXED_BYTES + 1:
                return "chunk record too short"
            if typed_lane is None:
                return f"chunk record names lane {lane}"
            _, cid, offset = struct.unpack_from(">BII", body)
            records.append(Chunk(lane=typed_lane, id=cid, offset=offset, data=body[CHUNK_FIXED_BYTES:]))
        elif kind == KIND["receipts"]:
            if length < 1 or (length - 1) % 4 != 0:
                return "receipts record length is not 1 + a multiple of 4"
            if typed_lane is None:
                return f"receipts record names lane {lane}"
            records.append(Receipts(lane=typed_lane, ids=struct.unpack_from(f">{(length - 1) // 4}I", body, 1)))
        elif kind == KIND["reject"]:
            reject = _decode_reject(body)
            if isinstance(reject, str):
                return reject
            records.append(reject)
        elif kind == KIND["cancel"]:
            if length != 5:
                return "cancel record is not 5 bytes"
            if typed_lane is None:
                return f"cancel record names lane {lane}"
            records.append(Cancel(lane=typed_lane, id=struct.unpack_from(">I", body, 1)[0]))
        elif kind == KIND["datagram"]:
            if length < DATAGRAM_FIXED_BYTES + 1:
                return "datagram record too short"
            mode = MODE_OF.get(lane)
            if mode is None:
                return f"datagram record names mode {lane}"
            _, did, json_length = struct.unpack_from(">BII", body)
            if json_length < 1 or json_length > length - DATAGRAM_FIXED_BYTES:
                return f"datagram record declares {json_length} JSON bytes in {length - DATAGRAM_FIXED_BYTES}"
            if did < 1:
                return "datagram record has id 0"
            records.append(Datagram(mode=mode, id=did, json_length=json_length, data=body[DATAGRAM_FIXED_BYTES:]))
        elif kind == KIND["datagram-receipts"]:
            if length % 4 != 0:
                return "datagram-receipts record length is not a multiple of 4"
            records.append(DatagramReceipts(ids=struct.unpack_from(f">{length // 4}I", body)))
        elif kind == KIND["bye"]:
            records.append(Bye(answer=length >= 1 and body[0] == 1))
        elif kind == KIND["ping"]:
            records.append(Ping())
        elif kind == KIND["probe"]:
            records.append(Probe())
        elif kind == KIND["pong"]:
            records.append(Pong())
        elif kind == KIND["hello"]:
            hello = _decode_hello(body)
            if isinstance(hello, str):
                return hello
            records.append(hello)
        elif kind == KIND["auth"]:
            if length > MAX_AUTH_BYTES:
                return f"auth record of {length} bytes exceeds {MAX_AUTH_BYTES}"
            records.append(Auth(body=bytes(body)))
        else:
            unknown += 1  # a newer peer's record kind: skipped, counted
        at += length
    return Decoded(records=records, unknown_records=unknown)
