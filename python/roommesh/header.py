"""The JSON header every message starts with (docs/protocol.md, "Messages and lanes",
"Requests and replies"), as client/wire/codec.ts writes and reads it: its type, its JSON body,
whether it was broadcast; a request's number, or the request a reply answers and, when the
handler failed, the error. The golden headers are protocol/vectors/wire.json's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .wire import ERROR_CODES, MAX_ERROR_MESSAGE_CHARS

MAX_TYPE_LENGTH = 256
_MISSING: Any = object()


@dataclass(frozen=True)
class ReplyError:
    code: str
    message: str


@dataclass(frozen=True)
class MessageHeader:
    type: str
    message: dict[str, Any]
    broadcast: bool = False
    request: int | None = None
    reply_to: int | None = None
    error: ReplyError | None = None


def encode_header(header: MessageHeader) -> bytes:
    wire: dict[str, Any] = {"t": header.type, "m": header.message}
    if header.broadcast:
        wire["b"] = 1
    if header.request is not None:
        wire["q"] = header.request
    if header.reply_to is not None:
        wire["r"] = header.reply_to
    if header.error is not None:
        wire["e"] = {"c": header.error.code, "m": header.error.message[:MAX_ERROR_MESSAGE_CHARS]}
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()


def _is_request_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 0xFFFF_FFFF


def decode_header(data: bytes) -> MessageHeader | str:
    """The header, or why it is refused (the TypeScript codec's words). Never raises."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "message header is not UTF-8 JSON"
    if not isinstance(parsed, dict):
        return "message header is not an object"
    # As JavaScript reads them: a member present with null is not a missing one.
    t, m, b, q, r, e = (parsed.get(k, _MISSING) for k in ("t", "m", "b", "q", "r", "e"))
    if not isinstance(t, str) or len(t) == 0 or len(t.encode("utf-16-le")) // 2 > MAX_TYPE_LENGTH:
        return "message type is missing or too long"
    if not isinstance(m, dict):
        return "message body is not a JSON object"
    if q is not _MISSING and (not _is_request_number(q) or r is not _MISSING or b is not _MISSING):
        return "request number is invalid, or on a reply or broadcast"
    if r is not _MISSING and (not _is_request_number(r) or b is not _MISSING):
        return "reply number is invalid, or on a broadcast"
    error: ReplyError | None = None
    if e is not _MISSING:
        c, text = (e.get("c"), e.get("m")) if isinstance(e, dict) else (None, None)
        if r is _MISSING or c not in ERROR_CODES or not isinstance(text, str):
            return "reply error is invalid, or not on a reply"
        error = ReplyError(code=c, message=text[:MAX_ERROR_MESSAGE_CHARS])
    broadcast = isinstance(b, int) and not isinstance(b, bool) and b == 1
    request = q if isinstance(q, int) else None
    reply_to = r if isinstance(r, int) else None
    return MessageHeader(type=t, message=m, broadcast=broadcast, request=request, reply_to=reply_to, error=error)
