"""RoomError: a failure with one of the codes both implementations share (protocol/errors.ts)."""

from __future__ import annotations

from .wire import ERROR_CODES


class RoomError(Exception):
    """A failure named by `code` (one of ERROR_CODES), with a message that says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code if code in ERROR_CODES else "SIGNALING_FAILED"
        self.message = message
