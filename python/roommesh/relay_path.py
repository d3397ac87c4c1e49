"""The relay path to one peer (docs/protocol.md, "Relay"): the same packets as a data channel,
sealed end to end (relay.py) and carried by the service as `relay` events. The service
acknowledges each frame once forwarded; the bytes not yet acknowledged stand in for a data
channel's buffered amount.
"""

from __future__ import annotations

from collections.abc import Callable

from .relay import SEAL_OVERHEAD_BYTES, KeyFrame, RelaySeal, decode_relay_frame
from .signaling import SignalingClient
from .trust import ChannelBinding

MAX_RELAY_PACKET_BYTES = 32 * 1024
WATER_MARKS = (512 * 1024, 128 * 1024)


class RelayPath:
    def __init__(
        self, *, signaling: SignalingClient, to: str, sid: str, local_id: str, max_payload_bytes: int,
        opened: Callable[[RelayPath], None], packet: Callable[[RelayPath, bytes], None],
        failed: Callable[[RelayPath, str], None], violation: Callable[[str], None],
    ) -> None:
        self.sid = sid
        self._signaling = signaling
        self._to = to
        self._local_id = local_id
        self._opened, self._packet, self._failed, self._violation = opened, packet, failed, violation
        self._max = min(MAX_RELAY_PACKET_BYTES, max_payload_bytes - 256) - SEAL_OVERHEAD_BYTES
        self._seal = RelaySeal()
        self._unacknowledged = 0
        self._peer_key_seen = False
        self.done = False
        self._emit(self._seal.key_frame, 0)

    @property
    def is_open(self) -> bool:
        return self._seal.ready and not self.done and self._signaling.connected

    @property
    def buffered_amount(self) -> int:
        return self._unacknowledged

    @property
    def max_packet_bytes(self) -> int:
        return self._max

    @property
    def water_marks(self) -> tuple[int, int]:
        return WATER_MARKS

    def send(self, packet: bytes) -> None:
        if self.is_open:
            self._unacknowledged += len(packet)
            self._emit(self._seal.seal(packet), len(packet))

    def receive(self, frame: bytes) -> None:
        """A frame the service relayed from the peer on this stream."""
        if self.done:
            return
        decoded = decode_relay_frame(frame)
        if isinstance(decoded, str):
            return self._violation(decoded)
        if isinstance(decoded, KeyFrame):
            if self._peer_key_seen:
                return self._violation("a second key frame on one relay stream")
            self._peer_key_seen = True
            try:
                self._seal.agree(decoded.public_key, self.sid, self._local_id, self._to)
            except ValueError:
                return self.fail("the peer sent a key that is not a P-256 public key")
            return self._opened(self)
        opened = self._seal.open(decoded)
        if isinstance(opened, str):
            if "never arrived" in opened:
                return self.fail(opened)  # frames lost in between: the session resends over a new stream
            return self._violation(opened)
        self._packet(self, opened)

    def binding(self) -> ChannelBinding | str:
        if self._seal.peer_public_key is None:
            return "the relay stream has no agreed keys"
        return ChannelBinding(kind="relay", local=self._seal.key_frame[1:].hex(), remote=self._seal.peer_public_key.hex())

    def _emit(self, frame: bytes, counted: int) -> None:
        def done(reply: object) -> None:
            self._unacknowledged -= counted
            if not (isinstance(reply, dict) and reply.get("ok") is True):
                refusal = reply.get("error") if isinstance(reply, dict) else None
                self.fail(f"the service refused to relay: {refusal.get('message') if isinstance(refusal, dict) else reply}")

        self._signaling.emit_nowait("relay", {"to": self._to, "sid": self.sid, "data": frame}, done)

    def fail(self, reason: str) -> None:
        if not self.done:
            self.done = True
            self._failed(self, reason)

    def close(self) -> None:
        self.done = True
