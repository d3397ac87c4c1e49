"""The signaling client (docs/protocol.md, "Signaling"): one Socket.IO connection to the
service, over WebSocket (python-socketio's asyncio client, with aiohttp). Requests are
acknowledged events whose reply is `{ ok: true, ... }` or `{ ok: false, error }`; an error
becomes a RoomError with the service's code. Pushes (participant:enabled, participant:removed,
signal, relay, ...) go to the handlers registered with `on`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from .errors import RoomError

PROTOCOL_VERSION = 1
REQUEST_TIMEOUT_S = 10.0

Handler = Callable[[Any], Awaitable[None] | None]


class SignalingClient:
    def __init__(self, url: str, request_timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.url = url
        self._timeout = request_timeout_s
        self._sio = socketio.AsyncClient(reconnection=False)

    @property
    def connected(self) -> bool:
        return bool(self._sio.connected)

    async def connect(self) -> None:
        try:
            await self._sio.connect(self.url, transports=["websocket"], wait_timeout=self._timeout)
        except socketio.exceptions.ConnectionError as error:
            await self.close()
            raise RoomError("SIGNALING_FAILED", f"could not reach the signaling service at {self.url}: {error}") from error

    def on(self, event: str, handler: Handler) -> None:
        """Calls `handler(payload)` for every `event` the service pushes."""
        self._sio.on(event, handler)

    async def request(self, event: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """The reply's fields (without `ok`), or a RoomError with the service's code and message."""
        try:
            args = () if payload is None else (payload,)
            reply = await self._sio.call(event, *args, timeout=self._timeout)
        except socketio.exceptions.TimeoutError as error:
            raise RoomError("TIMEOUT", f"the signaling service did not answer {event} within {self._timeout} s") from error
        except socketio.exceptions.BadNamespaceError as error:
            raise RoomError("SIGNALING_FAILED", "not connected to the signaling service") from error
        if not isinstance(reply, dict):
            raise RoomError("SIGNALING_FAILED", f"the service answered {event} with something that is not a reply")
        if reply.get("ok") is True:
            return {key: value for key, value in reply.items() if key != "ok"}
        refusal = reply.get("error")
        if not isinstance(refusal, dict):
            refusal = {}
        raise RoomError(str(refusal.get("code", "SIGNALING_FAILED")), str(refusal.get("message", f"{event} was refused")))

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Sends a payload the service does not acknowledge (a signal)."""
        await self._sio.emit(event, payload)

    async def close(self) -> None:
        if self._sio.connected:
            await self._sio.disconnect()
        # The HTTP session engine.io keeps (also after a connection that failed).
        http = getattr(self._sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()
