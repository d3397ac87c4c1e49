"""One remote participant (docs/protocol.md, "Who offers", "Paths: repair and relay"): its
session, its direct link and its relay stream, and which of them messages take.

Of a pair, the lower id initiates: it offers every direct link, starts the relay stream
(beside a direct attempt that has not opened within `relay_after_s`, or when every path is
lost) and repairs. The peer's hello on a stream makes that stream the one messages take; a
direct link's hello closes the relay stream beside it. A pair without any path for
`connect_timeout_s` is given up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import RoomError
from .link import ChannelTransport, DirectLink
from .relay_path import RelayPath
from .session import Delivered, Limits, Session
from .signaling import SignalingClient
from .stream import Stream, StreamHandlers, Transport
from .trust import ChannelBinding, Trust
from .wire import Datagram, Hello

log = logging.getLogger("roommesh.peer")

#: Past these in a minute a peer is hostile (docs/protocol.md, "Hostile peers"): an honest initiator starts about 12 at worst.
MAX_SESSIONS_PER_MINUTE = 24
MAX_BROKEN_PER_MINUTE = 3
STRIKE_WINDOW_S = 60.0
#: How long a link to a participant that said goodbye stays open for the leaver to close it first.
LEAVER_CLOSES_S = 2.0
#: aioice waits up to 5 s for a STUN answer, then allocates on the TURN server, before aiortc's offer can leave.
MAX_GATHERING_S = 10.0


@dataclass(frozen=True)
class Tunables:
    direct_timeout_s: float = 5.0
    relay_after_s: float = 1.0
    connect_timeout_s: float = 15.0
    max_backoff_s: float = 30.0
    #: Let the service carry a pair's messages when no direct link opens.
    relay: bool = True
    #: Make and take direct links (False: every pair is relayed, as for a host that cannot send UDP; aiortc has no
    #: iceTransportPolicy to say so).
    direct: bool = True


@dataclass
class PeerContext:
    """What every Peer of one messaging client shares."""

    local_id: str
    signaling: SignalingClient
    trust: Trust
    limits: Limits
    tunables: Tunables
    ice_servers: Callable[[], list[dict[str, Any]]]
    max_payload_bytes: Callable[[], int]
    #: A stream became the one messages take (first one: the peer is reachable, list it).
    ready: Callable[["Peer"], None]
    message: Callable[["Peer", Delivered], None]
    datagram: Callable[["Peer", Datagram], None]
    #: The peer is given up: it left (bye), refused us, or had no path for too long.
    gone: Callable[["Peer", RoomError, bool], None]


class Peer:
    def __init__(self, context: PeerContext, info: dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.info = info
        self._ctx = context
        self.initiator = context.local_id < self.id
        self.session = Session(context.limits)
        self.direct: DirectLink | None = None
        self.relay: RelayPath | None = None
        self._streams: dict[object, Stream] = {}
        self.active: Stream | None = None
        self.answered = asyncio.Event()
        self.reachable = asyncio.Event()
        #: Set when the pair ends (given up, refused, left).
        self.ended = asyncio.Event()
        self.closed = False
        self._failures = 0
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._strikes: dict[str, list[float]] = {}
        self._loop = asyncio.get_running_loop()

    # -- what the client asks -----------------------------------------------------------------

    @property
    def link(self) -> str | None:
        """'direct' or 'relayed': the path messages take now (None while there is none)."""
        if self.active is None or self.active.closed:
            return None
        return "relayed" if self.relay is not None and self._streams.get(self.relay) is self.active else "direct"

    @property
    def rtt_ms(self) -> float | None:
        return None if self.active is None else self.active.rtt_ms

    def start(self) -> None:
        if self.initiator and self._ctx.tunables.direct:
            self._attempt_direct()
        elif self.initiator:
            self._start_relay()
        self._arm("no-path", self._ctx.tunables.connect_timeout_s, self._no_path)

    def signal(self, sid: str, data: dict[str, Any]) -> None:
        """A signal the service relayed from this peer."""
        self.answered.set()
        kind = data.get("type")
        if kind == "refuse":
            reason = data.get("reason")
            return self._give_up(RoomError("PEER_AUTHENTICATION_FAILED", f"it refused our stream: {reason if isinstance(reason, str) else 'no reason given'}"))
        if not self._ctx.tunables.direct:
            return  # no direct links: the initiator's attempt times out, and the pair is relayed
        if self.initiator:
            if self.direct is not None and sid == self.direct.sid:
                self.direct.handle(data)
            return
        if kind == "offer" and (self.direct is None or sid != self.direct.sid):
            if self._strike("sessions started", MAX_SESSIONS_PER_MINUTE):
                return
            if self.direct is not None:
                self.direct.close("the initiator replaced it")
            self.direct = self._new_link(sid, initiator=False)
        if self.direct is not None and sid == self.direct.sid:
            self.direct.handle(data)

    def relayed(self, sid: str, frame: bytes) -> None:
        """A relay frame the service carried from this peer."""
        self.answered.set()
        if self.relay is not None and sid == self.relay.sid:
            return self.relay.receive(frame)
        if not self.initiator and self._ctx.tunables.relay and frame[:1] == b"\x01":
            if self._strike("sessions started", MAX_SESSIONS_PER_MINUTE):
                return
            if self.relay is not None:
                self._close_relay()
            self._open_relay(sid)
            assert self.relay is not None
            self.relay.receive(frame)

    def probe(self, timeout_s: float) -> asyncio.Future[bool]:
        """Whether the peer answers on its current path within `timeout_s` (False without one)."""
        stream = self.active
        if stream is None or stream.closed:
            done: asyncio.Future[bool] = self._loop.create_future()
            done.set_result(False)
            return done
        return asyncio.ensure_future(stream.confirm(timeout_s))

    def close(self, error: RoomError, *, bye: bool, linger_s: float = 0.0) -> None:
        """Ends the pair: a goodbye first when we are the one leaving; unsettled sends fail with `error`.

        `linger_s`: the peer is the one leaving, and closes the link itself: ours closes only after that
        long (its streams stop at once). @roamhq/wrtc crashed (SIGSEGV) often when aiortc's side of a link
        closed while its own was closing; leaving the leaver's close to arrive first avoids it.
        """
        if self.closed:
            return
        self.closed = True
        self.ended.set()
        for timer in self._timers.values():
            timer.cancel()
        self.session.fail(error)
        if bye and self.active is not None and not self.active.closed:
            self.active.bye()
            self._loop.call_later(0.2, self._close_paths)
        elif linger_s > 0:
            for stream in self._streams.values():
                stream.close()
            self._loop.call_later(linger_s, self._close_paths)
        else:
            self._close_paths()

    def _close_paths(self) -> None:
        for stream in self._streams.values():
            stream.close()
        if self.direct is not None:
            self.direct.close("the pair ended")
        self._close_relay()

    # -- paths --------------------------------------------------------------------------------

    def _arm(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._disarm(name)
        if not self.closed:
            self._timers[name] = self._loop.call_later(delay, callback)

    def _disarm(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _new_link(self, sid: str, *, initiator: bool) -> DirectLink:
        async def send(data: dict[str, Any]) -> None:
            await self._ctx.signaling.emit("signal", {"to": self.id, "sid": sid, "data": data})

        return DirectLink(
            sid=sid, initiator=initiator, servers=self._ctx.ice_servers(), signal=send, opened=self._link_opened, packet=self._packet,
            closed=self._link_closed, offered=self._offered,
        )

    def _attempt_direct(self) -> None:
        if self.closed:
            return
        if self.direct is not None:
            self.direct.close("replaced by a new attempt")
        self.direct = self._new_link(secrets.token_hex(8), initiator=True)
        # aiortc gathers every candidate before its offer leaves (a STUN server that does not answer holds it 5 s):
        # the link's time to open counts from the offer (_offered), with a bound on the gathering too.
        self._arm("direct", self._ctx.tunables.direct_timeout_s + MAX_GATHERING_S, self._direct_timed_out)
        if self._ctx.tunables.relay and (self.relay is None or self.relay.done):
            self._arm("relay", self._ctx.tunables.relay_after_s, self._start_relay)

    def _offered(self, link: DirectLink) -> None:
        if link is self.direct and "direct" in self._timers:
            self._arm("direct", self._ctx.tunables.direct_timeout_s, self._direct_timed_out)

    def _direct_timed_out(self) -> None:
        link = self.direct
        stream = None if link is None else self._streams.get(link)
        if link is not None and (stream is None or not stream.ready):
            link.close(f"it did not open within {self._ctx.tunables.direct_timeout_s:g} s")

    def _retry_direct(self) -> None:
        """The initiator tries again: at once after a first failure, then with backoff."""
        if not self.initiator or self.closed:
            return
        if not self._ctx.tunables.direct:
            return self._start_relay()
        self._failures += 1
        delay = 0.0 if self._failures <= 1 else min(self._ctx.tunables.max_backoff_s, 2.0 ** (self._failures - 2))
        self._arm("retry", delay * random.uniform(0.8, 1.2), self._attempt_direct)
        if self._ctx.tunables.relay and (self.relay is None or self.relay.done) and not self._has_ready_path():
            self._start_relay()

    def _start_relay(self) -> None:
        if self.closed or not self._ctx.tunables.relay or (self.relay is not None and not self.relay.done):
            return
        self._open_relay(secrets.token_hex(8))

    def _open_relay(self, sid: str) -> None:
        self.relay = RelayPath(
            signaling=self._ctx.signaling, to=self.id, sid=sid, local_id=self._ctx.local_id, max_payload_bytes=self._ctx.max_payload_bytes(),
            opened=self._relay_opened, packet=self._packet, failed=self._relay_failed, violation=self._violation,
        )

    def _close_relay(self) -> None:
        relay, self.relay = self.relay, None
        if relay is not None:
            relay.close()
            stream = self._streams.pop(relay, None)
            if stream is not None:
                stream.close()

    def _has_ready_path(self) -> bool:
        return any(s.ready and not s.closed for s in self._streams.values())

    # -- events from links and streams --------------------------------------------------------

    def _open_stream(self, key: object, transport: Transport, binding: Callable[[], ChannelBinding | str]) -> None:
        handlers = StreamHandlers(
            ready=lambda hello, stream: self._stream_ready(key, hello, stream),
            message=lambda delivered: self._ctx.message(self, delivered),
            bye=self._heard_bye,
            silent=lambda: self._stream_lost(key, "it went silent"),
            revived=lambda: None,
            broken=lambda reason: self._broken(key, reason),
            unauthenticated=self._refuse,
            violation=self._violation,
            datagram=lambda record: self._ctx.datagram(self, record),
        )
        self._streams[key] = Stream(transport, self.session, self._ctx.trust.for_stream(self._ctx.local_id, self.id), binding, handlers)

    def _link_opened(self, link: DirectLink, transport: ChannelTransport) -> None:
        if link is self.direct and not self.closed:
            self._open_stream(link, transport, link.binding)

    def _packet(self, path: object, packet: bytes) -> None:
        """A packet on a direct link or a relay stream, for the stream on it."""
        stream = self._streams.get(path)
        if stream is not None:
            stream.receive(packet)

    def _link_closed(self, link: DirectLink, reason: str) -> None:
        stream = self._streams.pop(link, None)
        if stream is not None:
            stream.close()
        if link is self.direct:
            self.direct = None
            log.debug("direct link to %s ended: %s", self.id, reason)
            self._path_lost()

    def _relay_opened(self, relay: RelayPath) -> None:
        if relay is self.relay and not self.closed:
            self._open_stream(relay, relay, relay.binding)

    def _relay_failed(self, relay: RelayPath, reason: str) -> None:
        if relay is self.relay:
            log.debug("relay stream to %s ended: %s", self.id, reason)
            self._close_relay()
            self._path_lost()

    def _stream_ready(self, key: object, hello: Hello, stream: Stream) -> None:
        if self.closed:
            return
        self.session.activate(hello)
        if self.active is not None and self.active is not stream:
            self.active.attached = False
        self.active = stream
        stream.attached = True
        stream.kick()
        self._disarm("no-path")
        if key is self.direct:
            self._disarm("direct")
            self._disarm("relay")
            self._failures = 0
            if self.initiator and self.relay is not None:
                self._close_relay()  # the direct link carries the pair: the relay stream beside it ends
        self.reachable.set()
        self._ctx.ready(self)

    def _stream_lost(self, key: object, reason: str) -> None:
        if self.closed:
            return
        log.debug("stream to %s lost: %s", self.id, reason)
        if key is self.relay:
            self._close_relay()
        elif key is self.direct and self.direct is not None:
            if not self.initiator and self._has_other_ready_path(key):
                return
            self.direct.close(reason)
            return  # _link_closed repairs
        self._path_lost()

    def _has_other_ready_path(self, key: object) -> bool:
        return any(k is not key and s.ready and not s.closed for k, s in self._streams.items())

    def _path_lost(self) -> None:
        if self.closed:
            return
        if self.active is not None and self.active.closed:
            self.active = None
        if not self._has_ready_path():
            self.active = None
            self._ctx.ready(self)  # the link kind changed (to none)
            if "no-path" not in self._timers:
                self._arm("no-path", self._ctx.tunables.connect_timeout_s, self._no_path)
        if self.initiator and (self.direct is None or self.direct.done):
            self._retry_direct()

    def _no_path(self) -> None:
        self._timers.pop("no-path", None)
        if not self._has_ready_path():
            self._give_up(RoomError("UNREACHABLE", f"no path to the participant for {self._ctx.tunables.connect_timeout_s:g} s"))

    def _refuse(self, reason: str) -> None:
        self._ctx.signaling.emit_nowait("signal", {"to": self.id, "sid": self.direct.sid if self.direct else "refuse", "data": {"type": "refuse", "reason": reason[:512]}})
        self._give_up(RoomError("PEER_AUTHENTICATION_FAILED", f"the participant could not prove its identity: {reason}"), hostile=True)

    def _broken(self, key: object, reason: str) -> None:
        if not self._strike("broken streams", MAX_BROKEN_PER_MINUTE):
            self._stream_lost(key, f"it broke the protocol: {reason}")

    def _strike(self, kind: str, limit: int) -> bool:
        """Counts a session the peer started, or a stream it broke, over the last minute; past `limit` it is hostile (True)."""
        now = self._loop.time()
        times = [t for t in self._strikes.get(kind, []) if now - t < STRIKE_WINDOW_S] + [now]
        self._strikes[kind] = times
        if len(times) <= limit:
            return False
        self._give_up(RoomError("UNREACHABLE", f"the participant was cut off as hostile: more than {limit} {kind} in a minute"), hostile=True)
        return True

    def _heard_bye(self, answer: bool) -> None:
        """The peer said goodbye (or, `answer`, answered ours: we are closing anyway). We answer, stop,
        and leave the link for the leaver to close first (docs/protocol.md, "Liveness, goodbye")."""
        if self.closed:
            return
        if not answer and self.active is not None:
            self.active.answer_bye()
        self._give_up(RoomError("PARTICIPANT_LEFT", "the participant left (it said goodbye)"), linger_s=LEAVER_CLOSES_S)

    def _give_up(self, error: RoomError, hostile: bool = False, linger_s: float = 0.0) -> None:
        if not self.closed:
            self.close(error, bye=False, linger_s=linger_s)
            self._ctx.gone(self, error, hostile)

    def _violation(self, reason: str) -> None:
        log.info("dropped from %s: %s", self.id, reason)
