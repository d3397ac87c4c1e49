"""A direct link to one peer: an aiortc RTCPeerConnection with one ordered, reliable data
channel, negotiated through the service's `signal` events as simple-peer's signals
(docs/protocol.md, "Who offers"). aiortc does not trickle: its offer or answer carries every
candidate it gathered (host candidates, and those of the service's STUN/TURN servers). It takes
the peer's trickled candidates as they come.

aiortc 1.4.0 (Debian's) accepts data-channel messages of at most 64 KiB, so this side sends
packets of at most 64 KiB, and says so in its session description (`a=max-message-size:65536`,
which the TypeScript client reads).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from .trust import ChannelBinding, sdp_fingerprints

log = logging.getLogger("roommesh.link")

MAX_PACKET_BYTES = 65_536
WATER_MARKS = (1024 * 1024, 256 * 1024)
MAX_CANDIDATES = 64


def ice_servers(servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    """The service's ICE servers (`{ urls, username?, credential? }`) as aiortc takes them; malformed entries skipped."""
    out: list[RTCIceServer] = []
    for server in servers:
        urls = server.get("urls") if isinstance(server, dict) else None
        if isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls)):
            username, credential = server.get("username"), server.get("credential")
            out.append(RTCIceServer(urls=urls, username=username if isinstance(username, str) else None, credential=credential if isinstance(credential, str) else None))
    return out


class ChannelTransport:
    """The data channel as a stream's transport."""

    def __init__(self, channel: RTCDataChannel) -> None:
        self.channel = channel

    @property
    def is_open(self) -> bool:
        return bool(self.channel.readyState == "open")

    @property
    def buffered_amount(self) -> int:
        return int(self.channel.bufferedAmount)

    @property
    def max_packet_bytes(self) -> int:
        return MAX_PACKET_BYTES

    @property
    def water_marks(self) -> tuple[int, int]:
        return WATER_MARKS

    def send(self, packet: bytes) -> None:
        if self.is_open:
            self.channel.send(packet)


class DirectLink:
    def __init__(
        self, *, sid: str, initiator: bool, servers: list[dict[str, Any]],
        signal: Callable[[dict[str, Any]], Awaitable[None]],
        opened: Callable[[DirectLink, ChannelTransport], None],
        packet: Callable[[DirectLink, bytes], None],
        closed: Callable[[DirectLink, str], None],
        offered: Callable[[DirectLink], None] = lambda _link: None,
    ) -> None:
        self.sid = sid
        self.initiator = initiator
        self._signal = signal
        self._opened = opened
        self._packet = packet
        self._closed = closed
        self._offered = offered
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(servers)))
        self._channel: RTCDataChannel | None = None
        self._local_sdp: str | None = None
        self._remote_sdp: str | None = None
        self._signals: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._candidates = 0
        self._described = False
        self.done = False
        self._worker = asyncio.get_running_loop().create_task(self._work())
        self._pc.on("connectionstatechange", self._state_changed)
        self._pc.on("datachannel", self._datachannel)

    def handle(self, data: dict[str, Any]) -> None:
        """A signal of this link's session from the peer (taken in order)."""
        if not self.done:
            self._signals.put_nowait(data)

    async def _work(self) -> None:
        try:
            if self.initiator:
                # Our channel opens on SCTP stream 0. Node answerers take every offer as `a=setup:active` and answer
                # passive, which makes us the DTLS client, whose streams RFC 8832 makes even; aiortc 1.4.0 would pick
                # odd (it goes by ICE role), and node-datachannel refuses that ("open message violating the odd/even
                # rule"). Browsers and aiortc answer active and take stream 0 all the same. The offer itself must say
                # actpass: aiortc refuses any other.
                self._adopt(self._pc.createDataChannel(secrets.token_hex(20), id=0))
                await self._pc.setLocalDescription(await self._pc.createOffer())
                self._local_sdp = self._pc.localDescription.sdp
                await self._signal({"type": "offer", "sdp": self._local_sdp})
                self._offered(self)
            while not self.done:
                await self._take(await self._signals.get())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # aiortc raises plain exceptions for SDP it cannot take
            self.close(f"negotiation failed: {error}")

    async def _take(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "offer" and not self.initiator and not self._described:
            self._described = True
            self._remote_sdp = str(data.get("sdp", ""))
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=self._remote_sdp, type="offer"))
            await self._pc.setLocalDescription(await self._pc.createAnswer())
            self._local_sdp = self._pc.localDescription.sdp
            await self._signal({"type": "answer", "sdp": self._local_sdp})
        elif kind == "answer" and self.initiator and not self._described:
            self._described = True
            self._remote_sdp = str(data.get("sdp", ""))
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=self._remote_sdp, type="answer"))
        elif kind == "candidate" and self._described:
            self._candidates += 1
            fields = data.get("candidate")
            line = fields.get("candidate") if isinstance(fields, dict) else None
            if isinstance(line, str) and line.startswith("a="):
                line = line[2:]  # node-datachannel writes the SDP attribute line
            if self._candidates > MAX_CANDIDATES or not isinstance(line, str) or not line.startswith("candidate:"):
                return  # an end-of-candidates marker, or past the bound: nothing to add
            assert isinstance(fields, dict)
            candidate = candidate_from_sdp(line.split(":", 1)[1])
            mid, index = fields.get("sdpMid"), fields.get("sdpMLineIndex")
            candidate.sdpMid = mid if isinstance(mid, str) else None
            candidate.sdpMLineIndex = index if isinstance(index, int) else (0 if mid is None else None)
            await self._pc.addIceCandidate(candidate)
        # renegotiate (an ICE restart this side does not make), a second offer or answer: ignored

    def _datachannel(self, channel: RTCDataChannel) -> None:
        if self._channel is not None:
            self.close(f"the peer opened a second data channel ({channel.label!r}), which this participant does not take")
            return
        self._adopt(channel)

    def _adopt(self, channel: RTCDataChannel) -> None:
        self._channel = channel
        transport = ChannelTransport(channel)

        def opened() -> None:
            if not self.done:
                self._opened(self, transport)

        def message(data: bytes | str) -> None:
            if not self.done and isinstance(data, bytes):
                self._packet(self, data)

        channel.on("open", opened)
        channel.on("message", message)
        channel.on("close", lambda: self.close("its data channel closed"))
        if channel.readyState == "open":
            opened()

    async def _state_changed(self) -> None:
        if self._pc.connectionState in ("failed", "closed"):
            self.close(f"the connection {self._pc.connectionState}")

    def binding(self) -> ChannelBinding | str:
        local, remote = sdp_fingerprints(self._local_sdp), sdp_fingerprints(self._remote_sdp)
        if local is None or remote is None:
            return f"no DTLS fingerprint in the {'local' if local is None else 'remote'} session description"
        return ChannelBinding(kind="dtls", local=local, remote=remote)

    def close(self, reason: str = "closed") -> None:
        if self.done:
            return
        self.done = True
        self._worker.cancel()
        asyncio.get_running_loop().create_task(self._pc.close())
        self._closed(self, reason)
