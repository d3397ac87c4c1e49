"""RoomClient: one participant in one room (docs/protocol.md, "Signaling", "Reconnection").

    room = RoomClient(url="http://127.0.0.1:8787", room="demo", name="agent")
    await room.start()
    await room.messaging.enable()
    ...
    await room.close()

It joins through the service, keeps its connection (reconnecting with backoff and resuming the
same participant after a drop, a service restart among them), and hands the service's presence
and signals to `room.messaging`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .binding import Identity, join_proof_message, key_thumbprint, room_key
from .errors import RoomError
from .events import Emitter
from .messaging import Messaging
from .participant import LocalParticipant
from .peer import PeerContext, Tunables
from .session import Limits
from .signaling import PROTOCOL_VERSION, SignalingClient
from .token import issuer_key_bytes, token_claims
from .trust import Trust, normalize_fingerprint

log = logging.getLogger("roommesh")

ROOM_EVENTS = ("disconnected", "reconnected", "closed")
RECONNECT_DELAY_S = 0.25
RECONNECT_MAX_DELAY_S = 5.0


def _objects(handler: Callable[[dict[str, Any]], None]) -> Callable[[Any], Awaitable[None]]:
    """A push handler that takes only objects (the service's payloads; anything else is dropped)."""

    async def take(payload: Any) -> None:
        if isinstance(payload, dict):
            handler(payload)

    return take


class RoomClient:
    def __init__(
        self, *, url: str, room: str, name: str | None = None, token: str | None = None, attributes: dict[str, Any] | None = None,
        identity: Identity | None = None, passphrase: str | None = None, ice_servers: list[dict[str, Any]] | None = None,
        relay: bool = True, direct: bool = True, tunables: Tunables | None = None,
        issuer_key: dict[str, Any] | None = None, pinned_fingerprints: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RoomError("INVALID_ARGUMENT", "`url` must be the service's http(s) URL")
        if not isinstance(room, str) or not room:
            raise RoomError("INVALID_ARGUMENT", "`room` must be a non-empty string")
        if name is None and token is None:
            raise RoomError("INVALID_ARGUMENT", "give a `name` (or a `token` that names you)")
        if attributes is not None and not isinstance(attributes, dict):
            raise RoomError("INVALID_ARGUMENT", "`attributes` must be a dict")
        self._issuer_key = None if issuer_key is None else issuer_key_bytes(issuer_key)
        if issuer_key is not None and self._issuer_key is None:
            raise RoomError("INVALID_ARGUMENT", "`issuer_key` must be an Ed25519 public key as a JWK ({'kty': 'OKP', 'crv': 'Ed25519', 'x': ...}), never the private signing key")
        self._pinned: dict[str, str] = {}
        for pinned_name, fingerprint in (pinned_fingerprints or {}).items():
            normalized = normalize_fingerprint(fingerprint) if isinstance(fingerprint, str) else None
            if normalized is None:
                raise RoomError("INVALID_ARGUMENT", f"`pinned_fingerprints`: {pinned_name!r} must map to a fingerprint of 30 digits (participant.fingerprint)")
            self._pinned[pinned_name] = normalized
        if self._issuer_key is not None and not isinstance(token_claims(token or "").get("cnf"), dict):
            raise RoomError("INVALID_ARGUMENT", "with `issuer_key`, peers check your join token too: it must bind your identity key (createToken({ publicKey }), and pass that `identity`)")
        self.url, self.room, self.name, self.token = url, room, name, token
        self.attributes = dict(attributes or {})
        self.identity = identity if identity is not None else Identity.generate()
        bound = token_claims(token).get("cnf") if token is not None else None
        if isinstance(bound, dict) and bound.get("jkt") != key_thumbprint(self.identity.public_key):
            raise RoomError("INVALID_ARGUMENT", "the join token binds another identity key than this client's: pass the `identity` it was minted for")
        self._passphrase = passphrase
        self._ice_override = ice_servers
        self.tunables = tunables if tunables is not None else Tunables(relay=relay, direct=direct)
        self._signaling = SignalingClient(url)
        self._events = Emitter(ROOM_EVENTS)
        self.messaging = Messaging(self)
        self.local_participant: LocalParticipant | None = None
        self._credential: str | None = None
        self._ticket: str | None = None
        self._ice_servers: list[dict[str, Any]] = []
        self._max_payload_bytes = 64 * 1024
        self._trust: Trust | None = None
        self._started = False
        self._closed = False
        self._reconnecting: asyncio.Task[None] | None = None

    def on(self, event: str, listener: Any) -> Any:
        """Room events: disconnected, reconnected, closed. Returns the function that removes the listener."""
        return self._events.on(event, listener)

    @property
    def signaling(self) -> SignalingClient:
        return self._signaling

    @property
    def connect_timeout_s(self) -> float:
        return self.tunables.connect_timeout_s

    def require_started(self) -> None:
        if self._closed:
            raise RoomError("CLOSED", "this room was closed; make a new RoomClient")
        if not self._started or self.local_participant is None:
            raise RoomError("NOT_STARTED", "call `await room.start()` first")

    def _join_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"v": PROTOCOL_VERSION, "room": self.room, "attributes": self.attributes}
        if self.name is not None:
            fields["name"] = self.name
        if self.token is not None:
            fields["token"] = self.token
            bound = token_claims(self.token).get("cnf")
            if isinstance(bound, dict) and bound.get("jkt") is not None:
                at = int(time.time() * 1000)
                signature = self.identity.sign(join_proof_message(self.room, self.token, at))
                fields["proof"] = {"key": self.identity.public_key.hex(), "at": at, "sig": signature.hex()}
        return fields

    async def start(self) -> None:
        """Joins the room (SIGNALING_FAILED if the service cannot be reached; UNAUTHORIZED, ROOM_FULL... if it refuses)."""
        if self._closed:
            raise RoomError("CLOSED", "this room was closed; make a new RoomClient")
        if self._started:
            return
        for event, handler in (
            ("participant:enabled", _objects(self.messaging._service_enabled)), ("participant:removed", _objects(self.messaging._service_removed)),
            ("participant:updated", _objects(self.messaging._service_updated)), ("signal", _objects(self.messaging._service_signal)),
            ("relay", _objects(self.messaging._service_relay)), ("ice:servers", self._on_ice_servers),
            ("service:closing", self._on_closing), ("session:replaced", self._on_replaced), ("failure", self._on_failure),
        ):
            self._signaling.on(event, handler)
        self._signaling.dropped = self._dropped
        await self._signaling.connect()
        try:
            reply = await self._signaling.request("join", self._join_fields())
        except RoomError:
            await self._signaling.close()
            raise
        participant = reply.get("participant", {})
        self.local_participant = LocalParticipant(id=str(participant.get("id")), role=str(participant.get("role", "user")), attributes=dict(participant.get("attributes") or {}))
        self._credential = reply.get("credential")
        self._ticket = reply.get("ticket")
        self._take_limits(reply)
        self._take_ice_servers(reply.get("iceServers"))
        key = None if self._passphrase is None else await asyncio.to_thread(room_key, self._passphrase, self.room)
        bound = self.token if self.token is not None and isinstance(token_claims(self.token).get("cnf"), dict) else None
        self._trust = Trust(
            identity=self.identity, room=self.room, room_key=key, bound_token=bound, issuer_key=self._issuer_key, pinned=self._pinned,
            name_of=self.messaging._name_of,
        )
        self._started = True

    def _take_limits(self, reply: dict[str, Any]) -> None:
        limits = reply.get("limits")
        if isinstance(limits, dict) and isinstance(limits.get("maxPayloadBytes"), int):
            self._max_payload_bytes = limits["maxPayloadBytes"]

    def _take_ice_servers(self, servers: object) -> None:
        if isinstance(servers, list):
            self._ice_servers = [s for s in servers if isinstance(s, dict)]

    def peer_context(self, messaging: Messaging) -> PeerContext:
        assert self.local_participant is not None and self._trust is not None
        return PeerContext(
            local_id=self.local_participant.id, signaling=self._signaling, trust=self._trust, limits=Limits(), tunables=self.tunables,
            ice_servers=lambda: self._ice_override if self._ice_override is not None else self._ice_servers,
            max_payload_bytes=lambda: self._max_payload_bytes,
            ready=messaging._peer_ready, message=messaging._delivered, datagram=messaging._datagram, gone=messaging._peer_gone,
        )

    # -- the service's pushes ---------------------------------------------------------------------

    async def _on_ice_servers(self, payload: Any) -> None:
        if isinstance(payload, dict):
            self._take_ice_servers(payload.get("iceServers"))

    async def _on_failure(self, payload: Any) -> None:
        log.debug("the service refused a payload: %s", payload)

    async def _on_closing(self, payload: Any) -> None:
        drain = payload.get("drainMs", 1000) if isinstance(payload, dict) else 1000
        await asyncio.sleep(random.uniform(0, min(0.5, max(0.0, drain / 2000))))
        await self._signaling.drop()

    async def _on_replaced(self, payload: Any) -> None:
        log.warning("a newer join took this participant's token: closing the room")
        asyncio.ensure_future(self.close())

    # -- reconnection -------------------------------------------------------------------------

    def _dropped(self) -> None:
        if self._closed or self._reconnecting is not None:
            return
        self._events.emit("disconnected")
        self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        delay = RECONNECT_DELAY_S
        try:
            while not self._closed:
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(RECONNECT_MAX_DELAY_S, delay * 2)
                try:
                    await self._signaling.connect()
                    fields = {**self._join_fields(), "credential": self._credential, "messaging": self.messaging.enabled}
                    if self._ticket is not None:
                        fields["ticket"] = self._ticket
                    reply = await self._signaling.request("resume", fields)
                except RoomError as error:
                    if error.code in ("UNAUTHORIZED", "ROOM_FULL", "SERVICE_FULL"):
                        log.error("the service refused to resume this participant: %s", error)
                        asyncio.ensure_future(self.close())
                        return
                    await self._signaling.drop()
                    continue
                self._take_limits(reply)
                self._take_ice_servers(reply.get("iceServers"))
                if self.messaging.enabled:
                    self.messaging._resync([p for p in reply.get("participants", []) if isinstance(p, dict)])
                self._events.emit("reconnected")
                return
        finally:
            self._reconnecting = None

    async def close(self) -> None:
        """Leaves the room: goodbyes to every peer, then the service. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        await self.messaging._close()
        if self._signaling.connected:
            try:
                await self._signaling.request("leave")
            except RoomError:
                pass
        await self._signaling.close()
        self._events.emit("closed")

    async def __aenter__(self) -> RoomClient:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
