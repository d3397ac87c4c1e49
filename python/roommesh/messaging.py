"""`room.messaging`: presence, direct messages, broadcasts, requests (the TypeScript client's
MessagingClient, in Python naming). Presence comes from the service; a participant is listed
once a stream to it is bound and ready, so a message to it can be delivered.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from .errors import RoomError
from .early import EarlySignals
from .events import Emitter
from .header import MAX_TYPE_LENGTH, MessageHeader, ReplyError, decode_header, encode_header
from .participant import BroadcastOutcome, ReceivedMessage, RemoteParticipant, Reply
from .peer import LEAVER_CLOSES_S, Peer, PeerContext
from .session import Delivered
from .wire import Datagram

from .signaling import SignalingClient

log = logging.getLogger("roommesh")

EVENTS = (
    "message", "participant_added", "participant_removed", "participant_attributes_updated", "participant_link_changed",
    "messaging_enabled", "messaging_disabled", "peer_authentication_failed",
)
ENABLE_WAIT_S = 1.5
CONFIRM_S = 3.0
PROBE_S = 1.0
REQUEST_TIMEOUT_S = 30.0
HOSTILE_BAN_S = 300.0
MAX_REQUEST_ID = 0xFFFF_FFFF

RequestHandler = Callable[[ReceivedMessage], "dict[str, Any] | Reply | Awaitable[dict[str, Any] | Reply]"]


def _check_message(type_: object, message: object, attachment: object) -> tuple[str, dict[str, Any], bytes]:
    if not isinstance(type_, str) or len(type_) == 0 or len(type_) > MAX_TYPE_LENGTH:
        raise RoomError("INVALID_MESSAGE", f"`type` must be a non-empty string of at most {MAX_TYPE_LENGTH} characters")
    if not isinstance(message, dict):
        raise RoomError("INVALID_MESSAGE", "`message` must be a dict (a JSON object)")
    try:
        json.dumps(message, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise RoomError("INVALID_MESSAGE", f"`message` must hold only what JSON carries: {error}") from error
    if attachment is not None and not isinstance(attachment, (bytes, bytearray, memoryview)):
        raise RoomError("INVALID_MESSAGE", "`attachment` must be bytes")
    return type_, message, bytes(attachment) if attachment is not None else b""


class Room(Protocol):
    """What messaging needs of its room (client.py's RoomClient)."""

    @property
    def signaling(self) -> SignalingClient: ...
    @property
    def connect_timeout_s(self) -> float: ...
    def require_started(self) -> None: ...
    def peer_context(self, messaging: Messaging) -> PeerContext: ...


class Messaging:
    def __init__(self, room: Room) -> None:
        self._room = room
        self._events = Emitter(EVENTS)
        self.enabled = False
        self._peers: dict[str, Peer] = {}
        self._listed: dict[str, RemoteParticipant] = {}
        self._handlers: dict[str, RequestHandler] = {}
        self._requests: dict[tuple[str, int], asyncio.Future[ReceivedMessage]] = {}
        self._next_request = 0
        self._iterators: list[tuple[str | None, asyncio.Queue[ReceivedMessage | None]]] = []
        self._context: PeerContext | None = None
        self._early = EarlySignals()
        #: Participants cut off as hostile, until when (monotonic seconds): nothing is taken from them meanwhile.
        self._banned: dict[str, float] = {}

    # -- events -------------------------------------------------------------------------------

    def on(self, event: str, listener: Callable[..., Any]) -> Callable[[], None]:
        """Listens to `event` (message, participant_added, ...); returns the function that stops listening."""
        return self._events.on(event, listener)

    def off(self, event: str, listener: Callable[..., Any]) -> None:
        self._events.off(event, listener)

    # -- presence -----------------------------------------------------------------------------

    def get_participants(self) -> list[RemoteParticipant]:
        return list(self._listed.values())

    @property
    def remote_participants(self) -> list[RemoteParticipant]:
        return self.get_participants()

    def get_participant(self, participant_id: str) -> RemoteParticipant | None:
        return self._listed.get(participant_id)

    def get_participant_by_name(self, name: str) -> RemoteParticipant | None:
        return next((p for p in self._listed.values() if p.name == name), None)

    # -- enable, disable ----------------------------------------------------------------------

    async def enable(self) -> None:
        """Announces this participant and links to every other one with messaging enabled; returns once they list each other."""
        room = self._room
        room.require_started()
        if self.enabled:
            return
        self._context = room.peer_context(self)
        try:
            reply = await room.signaling.request("messaging:enable")
        except RoomError:
            self._context = None
            raise
        self.enabled = True
        peers = [self._add_peer(info) for info in reply.get("participants", []) if isinstance(info, dict)]
        await asyncio.gather(*(self._wait_listed(peer) for peer in peers if peer is not None))
        self._events.emit("messaging_enabled")

    async def _wait_listed(self, peer: Peer) -> None:
        """Until `peer` lists us too (a peer that does not answer at all within ENABLE_WAIT_S is not waited for)."""
        try:
            await asyncio.wait_for(peer.answered.wait(), ENABLE_WAIT_S)
        except asyncio.TimeoutError:
            return
        waits = [asyncio.ensure_future(peer.reachable.wait()), asyncio.ensure_future(peer.ended.wait())]
        await asyncio.wait(waits, timeout=self._room.connect_timeout_s, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if not peer.reachable.is_set() or peer.closed:
            return
        # Its hello is in, but it lists us only once our proof has reached it (an initiator's too:
        # its proof follows the peer's hello): a probe's pong says it has handled everything we sent.
        if peer.active is not None:
            await peer.active.confirm(CONFIRM_S)

    async def disable(self) -> None:
        """Says goodbye to everyone and stops messaging (presence empties; iterators end)."""
        if not self.enabled:
            return
        self.enabled = False
        self._context = None
        self._early.clear()
        for peer in list(self._peers.values()):
            self._drop(peer, RoomError("NOT_ENABLED", "messaging was disabled before the message was delivered"), bye=True, announce=False)
        self._listed.clear()
        if self._room.signaling.connected:
            try:
                await self._room.signaling.request("messaging:disable")
            except RoomError:
                pass
        self._end_iterators()
        self._events.emit("messaging_disabled")

    def _end_iterators(self) -> None:
        for _, queue in self._iterators:
            queue.put_nowait(None)
        self._iterators.clear()

    # -- peers --------------------------------------------------------------------------------

    def _add_peer(self, info: dict[str, Any]) -> Peer | None:
        participant_id = info.get("id")
        if not isinstance(participant_id, str) or self._context is None or participant_id == self._context.local_id:
            return None
        known = self._peers.get(participant_id)
        if known is not None:
            return known
        if self._is_banned(participant_id):
            return None
        peer = Peer(self._context, info)
        self._peers[participant_id] = peer
        peer.start()
        for replay in self._early.release(participant_id):
            replay()
        return peer

    def _name_of(self, participant_id: str) -> str | None:
        """The name the service lists for a participant."""
        peer = self._peers.get(participant_id)
        attributes = None if peer is None else peer.info.get("attributes")
        name = attributes.get("name") if isinstance(attributes, dict) else None
        return name if isinstance(name, str) else None

    def _is_banned(self, participant_id: str) -> bool:
        until = self._banned.get(participant_id)
        if until is not None and until <= time.monotonic():
            del self._banned[participant_id]
            return False
        return until is not None

    def _drop(self, peer: Peer, error: RoomError, *, bye: bool, announce: bool = True, linger_s: float = 0.0) -> None:
        peer.close(error, bye=bye, linger_s=linger_s)
        self._peers.pop(peer.id, None)
        for (peer_id, number), waiter in list(self._requests.items()):
            if peer_id == peer.id and not waiter.done():
                waiter.set_exception(error)
                del self._requests[(peer_id, number)]
        listed = self._listed.pop(peer.id, None)
        if listed is not None:
            listed.online = False
            listed.link = None
            if announce:
                self._events.emit("participant_removed", listed)

    def _peer_ready(self, peer: Peer) -> None:
        """A stream became the one messages take, or the path changed: list the peer, or tell of the change."""
        listed = self._listed.get(peer.id)
        if listed is None:
            if peer.link is None:
                return
            info = peer.info
            attributes = info.get("attributes") if isinstance(info.get("attributes"), dict) else {}
            listed = RemoteParticipant(id=peer.id, role=str(info.get("role", "user")), attributes=dict(attributes or {}), link=peer.link)
            listed.fingerprint = peer.active.peer_fingerprint if peer.active is not None else None
            listed.rtt_ms = peer.rtt_ms
            self._listed[peer.id] = listed
            self._events.emit("participant_added", listed)
            return
        if listed.link != peer.link and peer.link is not None:
            listed.link = peer.link
            self._events.emit("participant_link_changed", listed)

    def _peer_gone(self, peer: Peer, error: RoomError, hostile: bool) -> None:
        if hostile:
            self._banned[peer.id] = time.monotonic() + HOSTILE_BAN_S
            log.warning("participant %s cut off for %g s: %s", peer.id, HOSTILE_BAN_S, error.message)
        if error.code == "PEER_AUTHENTICATION_FAILED":
            self._events.emit("peer_authentication_failed", {"participant_id": peer.id, "name": self._name_of(peer.id), "reason": error.message})
        if self._peers.get(peer.id) is peer:
            self._drop(peer, error, bye=False)

    # -- what the service says ----------------------------------------------------------------

    def _service_enabled(self, info: dict[str, Any]) -> None:
        if self._context is not None:  # also while our own enable is on its way: we may hear of a peer before its reply
            self._add_peer(info)

    def _service_removed(self, payload: dict[str, Any]) -> None:
        peer = self._peers.get(str(payload.get("id")))
        if peer is None:
            return
        reason = payload.get("reason")
        if reason in ("disabled", "left"):
            self._drop(peer, RoomError("PARTICIPANT_LEFT", f"the participant left (it {reason})"), bye=False, linger_s=LEAVER_CLOSES_S)
        elif reason == "disconnected":
            asyncio.ensure_future(self._check_alive(peer))
        # unresponsive: it may be hung, not gone; its paths decide (connect_timeout_s without one)

    async def _check_alive(self, peer: Peer) -> None:
        if not await peer.probe(PROBE_S) and self._peers.get(peer.id) is peer:
            self._drop(peer, RoomError("PARTICIPANT_LEFT", "the participant disconnected from the service and its link does not answer"), bye=False)

    def _service_updated(self, info: dict[str, Any]) -> None:
        peer = self._peers.get(str(info.get("id")))
        if peer is not None:
            peer.info = info
        listed = self._listed.get(str(info.get("id")))
        attributes = info.get("attributes")
        if listed is not None and isinstance(attributes, dict):
            listed.attributes = dict(attributes)
            self._events.emit("participant_attributes_updated", listed)

    def _service_signal(self, payload: dict[str, Any]) -> None:
        sender, sid, data = payload.get("from"), payload.get("sid"), payload.get("data")
        if not (self._context is not None and isinstance(sender, str) and isinstance(sid, str) and isinstance(data, dict)) or self._is_banned(sender):
            return
        peer = self._peers.get(sender)
        if peer is None:
            return self._early.hold(sender, lambda: self._service_signal(payload))
        peer.signal(sid, data)

    def _service_relay(self, payload: dict[str, Any]) -> None:
        sender, sid, data = payload.get("from"), payload.get("sid"), payload.get("data")
        if not (self._context is not None and isinstance(sender, str) and isinstance(sid, str) and isinstance(data, (bytes, bytearray))) or self._is_banned(sender):
            return
        peer = self._peers.get(sender)
        if peer is None:
            return self._early.hold(sender, lambda: self._service_relay(payload))
        peer.relayed(sid, bytes(data))

    def _resync(self, participants: list[dict[str, Any]]) -> None:
        """After a resume: the service's list against ours, without churn."""
        listed = {str(info.get("id")) for info in participants if isinstance(info, dict)}
        for info in participants:
            if isinstance(info, dict):
                self._add_peer(info)
        for peer in list(self._peers.values()):
            if peer.id not in listed:
                asyncio.ensure_future(self._check_alive(peer))

    # -- sending ------------------------------------------------------------------------------

    def _peer_for(self, to: RemoteParticipant | str) -> Peer:
        if not self.enabled:
            raise RoomError("NOT_ENABLED", "call `await room.messaging.enable()` first")
        participant_id = to.id if isinstance(to, RemoteParticipant) else to
        if not isinstance(participant_id, str):
            raise RoomError("INVALID_ARGUMENT", "`to` must be a participant or a participant id")
        peer = self._peers.get(participant_id)
        if peer is None:
            raise RoomError("PARTICIPANT_NOT_FOUND", f"no participant {participant_id} with messaging enabled in this room")
        return peer

    def _send(self, peer: Peer, header: MessageHeader, attachment: bytes) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        peer.session.send(encode_header(header), attachment, future)
        if peer.active is not None:
            peer.active.kick()
        return future

    async def send_message(self, *, to: RemoteParticipant | str, type: str, message: dict[str, Any], attachment: bytes | None = None) -> None:
        """Sends a message to one participant; returns once its client has the whole of it (an end-to-end receipt)."""
        type_, body, data = _check_message(type, message, attachment)
        await self._send(self._peer_for(to), MessageHeader(type=type_, message=body), data)

    def send_message_nowait(self, *, to: RemoteParticipant | str, type: str, message: dict[str, Any], attachment: bytes | None = None) -> None:
        """Queues a message and returns at once; never raises (a failure is logged)."""
        try:
            future = asyncio.ensure_future(self.send_message(to=to, type=type, message=message, attachment=attachment))
        except RoomError as error:
            log.warning("send_message_nowait: %s", error)
            return
        future.add_done_callback(lambda f: None if f.cancelled() or f.exception() is None else log.warning("send_message_nowait: %s", f.exception()))

    async def broadcast_message(self, *, type: str, message: dict[str, Any], attachment: bytes | None = None) -> list[BroadcastOutcome]:
        """Sends a message to everyone listed; returns the outcome for each."""
        type_, body, data = _check_message(type, message, attachment)
        if not self.enabled:
            raise RoomError("NOT_ENABLED", "call `await room.messaging.enable()` first")
        recipients = [(listed, self._peers[listed.id]) for listed in self._listed.values() if listed.id in self._peers]
        results = await asyncio.gather(*(self._send(peer, MessageHeader(type=type_, message=body, broadcast=True), data) for _, peer in recipients), return_exceptions=True)
        return [
            BroadcastOutcome(participant_id=listed.id, participant=listed, ok=result is None, error=result if isinstance(result, BaseException) and isinstance(result, Exception) else None)
            for (listed, _), result in zip(recipients, results)
        ]

    # -- requests -----------------------------------------------------------------------------

    async def request(self, *, to: RemoteParticipant | str, type: str, message: dict[str, Any], attachment: bytes | None = None, timeout: float = REQUEST_TIMEOUT_S) -> ReceivedMessage:
        """Asks a participant's handler for `type`; returns its reply (a RoomError with its code if it failed)."""
        type_, body, data = _check_message(type, message, attachment)
        peer = self._peer_for(to)
        self._next_request = self._next_request % MAX_REQUEST_ID + 1
        key = (peer.id, self._next_request)
        waiter: asyncio.Future[ReceivedMessage] = asyncio.get_running_loop().create_future()
        self._requests[key] = waiter
        async def ask() -> ReceivedMessage:
            await self._send(peer, MessageHeader(type=type_, message=body, request=key[1]), data)
            return await waiter

        try:
            return await asyncio.wait_for(ask(), timeout)  # one deadline for the request and its reply
        except asyncio.TimeoutError as error:
            raise RoomError("TIMEOUT", f"no reply to {type_!r} within {timeout:g} s") from error
        finally:
            self._requests.pop(key, None)

    def on_request(self, type: str, handler: RequestHandler) -> Callable[[], None]:
        """Answers requests of `type` with `handler(request)` (a dict, a Reply, or a coroutine of one); returns the function that removes it."""
        self._handlers[type] = handler

        def remove() -> None:
            if self._handlers.get(type) is handler:
                del self._handlers[type]

        return remove

    async def _answer(self, peer: Peer, request: ReceivedMessage, number: int) -> None:
        handler = self._handlers.get(request.type)
        attachment = b""
        error: ReplyError | None = None
        body: dict[str, Any] = {}
        if handler is None:
            error = ReplyError("NO_HANDLER", f"no handler for requests of type {request.type!r}")
        else:
            try:
                result = handler(request)
                if inspect.isawaitable(result):
                    result = await result
                if isinstance(result, Reply):
                    body, attachment = result.message, result.attachment or b""
                elif isinstance(result, dict):
                    body = result
                _check_message(request.type, body, attachment)
            except Exception as failure:
                error, body, attachment = ReplyError("REQUEST_FAILED", str(failure) or type(failure).__name__), {}, b""
        try:
            await self._send(peer, MessageHeader(type=request.type, message=body, reply_to=number, error=error), attachment)
        except RoomError as failure:
            log.info("the reply to %s could not be delivered: %s", peer.id, failure)

    # -- receiving ----------------------------------------------------------------------------

    def _delivered(self, peer: Peer, delivered: Delivered) -> None:
        header = decode_header(delivered.header)
        listed = self._listed.get(peer.id)
        if isinstance(header, str) or listed is None:
            return
        received = ReceivedMessage(
            from_participant_id=peer.id, from_participant=listed, type=header.type, message=header.message,
            attachment=delivered.attachment if delivered.attachment else None, broadcast=header.broadcast,
            message_id=f"{delivered.lane}:{delivered.id}",
        )
        if header.reply_to is not None:
            waiter = self._requests.get((peer.id, header.reply_to))
            if waiter is not None and not waiter.done():
                if header.error is not None:
                    waiter.set_exception(RoomError(header.error.code if header.error.code == "NO_HANDLER" else "REQUEST_FAILED", header.error.message))
                else:
                    waiter.set_result(received)
            return
        if header.request is not None:
            asyncio.ensure_future(self._answer(peer, received, header.request))
            return
        self._hand_out(received)

    def _datagram(self, peer: Peer, record: Datagram) -> None:
        listed = self._listed.get(peer.id)
        header = decode_header(record.data[: record.json_length])
        if listed is None or isinstance(header, str) or header.request is not None or header.reply_to is not None:
            return
        attachment = record.data[record.json_length :]
        self._hand_out(ReceivedMessage(
            from_participant_id=peer.id, from_participant=listed, type=header.type, message=header.message,
            attachment=attachment if attachment else None, broadcast=header.broadcast,
            message_id=f"{'u' if record.mode == 'unordered' else 'd'}:{record.id}", delivery=record.mode,
        ))

    def _hand_out(self, received: ReceivedMessage) -> None:
        self._events.emit("message", received)
        for wanted, queue in self._iterators:
            if wanted is None or wanted == received.type:
                queue.put_nowait(received)

    async def messages(self, type: str | None = None) -> AsyncIterator[ReceivedMessage]:
        """Every message (of `type`, if given) from now on, until disable() or close()."""
        if not self.enabled:
            raise RoomError("NOT_ENABLED", "call `await room.messaging.enable()` first")
        queue: asyncio.Queue[ReceivedMessage | None] = asyncio.Queue()
        entry = (type, queue)
        self._iterators.append(entry)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item
        finally:
            if entry in self._iterators:
                self._iterators.remove(entry)

    async def _close(self) -> None:
        self._context = None
        saying_goodbye = any(peer.active is not None for peer in self._peers.values())
        for peer in list(self._peers.values()):
            self._drop(peer, RoomError("CLOSED", "the room was closed before the message was delivered"), bye=True, announce=False)
        self._listed.clear()
        self.enabled = False
        self._end_iterators()
        if saying_goodbye:
            await asyncio.sleep(0.25)  # the goodbyes leave before the links close
