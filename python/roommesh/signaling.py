"""The signaling client (docs/protocol.md, "Signaling"): one Socket.IO connection to the
service, over WebSocket (python-socketio's asyncio client, with aiohttp). Requests are
acknowledged events whose reply is `{ ok: true, ... }` or `{ ok: false, error }`; an error
becomes a RoomError with the service's code. Pushes (participant:enabled, participant:removed,
signal, relay, ...) go to the handlers registered with `on`, on this connection and on every
later one (`connect` may be called again after a drop: the room resumes on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from .errors import RoomError

_ENGINEIO_LOG = logging.getLogger("roommesh.engineio")
if _ENGINEIO_LOG.level == logging.NOTSET:
    _ENGINEIO_LOG.setLevel(logging.CRITICAL)

PROTOCOL_VERSION = 1
REQUEST_TIMEOUT_S = 10.0

Handler = Callable[[Any], Awaitable[None] | None]
Ack = Callable[[Any], None]


class SignalingClient:
    def __init__(self, url: str, request_timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.url = url
        self._timeout = request_timeout_s
        self._handlers: dict[str, Handler] = {}
        self._sio = self._client()
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any], Ack | None]] | None = None
        self._sender: asyncio.Task[None] | None = None
        #: Called when a connection drops that was not closed by `close()`.
        self.dropped: Callable[[], None] = lambda: None
        self._closing = False

    def _client(self) -> socketio.AsyncClient:
        # Engine.IO logs a dropped connection at error level ("packet queue is empty, aborting"); the room
        # reconnects and says so itself (its `disconnected` and `reconnected` events), so Engine.IO's own
        # lines go to a logger of ours that is quiet unless asked (logging.getLogger("roommesh.engineio")).
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=_ENGINEIO_LOG)
        for event, handler in self._handlers.items():
            sio.on(event, handler)
        sio.on("disconnect", self._disconnected)
        return sio

    async def _disconnected(self) -> None:
        if not self._closing:
            self.dropped()

    @property
    def connected(self) -> bool:
        return bool(self._sio.connected)

    async def connect(self) -> None:
        """Connects (again, after a drop: a fresh connection)."""
        if self._sio.connected:
            return
        await self._release()
        self._sio = self._client()
        self._closing = False
        try:
            await self._sio.connect(self.url, transports=["websocket"], wait_timeout=self._timeout)
        except (socketio.exceptions.ConnectionError, OSError, asyncio.TimeoutError) as error:
            await self._release()
            raise RoomError("SIGNALING_FAILED", f"could not reach the signaling service at {self.url}: {error}") from error

    def on(self, event: str, handler: Handler) -> None:
        """Calls `handler(payload)` for every `event` the service pushes."""
        self._handlers[event] = handler
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
        """Sends a payload the service does not acknowledge (a signal), after those queued before it."""
        self.emit_nowait(event, payload)

    def emit_nowait(self, event: str, payload: dict[str, Any], ack: Ack | None = None) -> None:
        """Queues a payload; payloads leave in the order queued. `ack(reply)` gets the service's acknowledgement."""
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._sender = asyncio.get_running_loop().create_task(self._send_all(self._outbox))
        self._outbox.put_nowait((event, payload, ack))

    async def _send_all(self, outbox: asyncio.Queue[tuple[str, dict[str, Any], Ack | None]]) -> None:
        while True:
            event, payload, ack = await outbox.get()
            try:
                await self._sio.emit(event, payload, callback=ack)
            except (socketio.exceptions.BadNamespaceError, OSError):
                pass  # the connection dropped: what needed it is repaired after the resume

    async def _release(self) -> None:
        """The HTTP session engine.io keeps (also after a connection that failed)."""
        http = getattr(self._sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()

    async def drop(self) -> None:
        """Drops the connection without closing the client (it may connect again)."""
        if self._sio.connected:
            await self._sio.disconnect()

    async def close(self) -> None:
        self._closing = True
        if self._sender is not None:
            self._sender.cancel()
        if self._sio.connected:
            await self._sio.disconnect()
        await self._release()
