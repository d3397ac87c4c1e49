"""Sealing of a relay stream (docs/protocol.md, "Relay"), as client/peer/relay-crypto.ts does
it: a fresh ECDH P-256 key pair per stream, its public key the stream's first frame; one
AES-256-GCM key per direction from HKDF-SHA-256 (salt: the stream id; info: "roommesh relay v1
<from> > <to>"); every packet sealed with a counter that only goes up as its nonce. The golden
values are protocol/vectors/trust.json's `relay`.

    key frame:    0x01 | public key (65 bytes, uncompressed P-256 point)
    sealed frame: 0x02 | counter u64 big-endian | AES-GCM ciphertext with its 16-byte tag
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEY_FRAME = 0x01
SEALED_FRAME = 0x02
PUBLIC_KEY_BYTES = 65
COUNTER_BYTES = 8
TAG_BYTES = 16
SEAL_OVERHEAD_BYTES = 1 + COUNTER_BYTES + TAG_BYTES


@dataclass(frozen=True)
class KeyFrame:
    public_key: bytes


@dataclass(frozen=True)
class SealedFrame:
    counter: int
    sealed: bytes


RelayFrame = Union[KeyFrame, SealedFrame]


def decode_relay_frame(frame: bytes) -> RelayFrame | str:
    """A frame's kind and fields, or why it is invalid. Never raises."""
    if len(frame) == 0:
        return "empty relay frame"
    if frame[0] == KEY_FRAME:
        if len(frame) != 1 + PUBLIC_KEY_BYTES:
            return f"key frame of {len(frame)} bytes"
        return KeyFrame(public_key=bytes(frame[1:]))
    if frame[0] == SEALED_FRAME:
        if len(frame) < 1 + COUNTER_BYTES + TAG_BYTES:
            return f"sealed frame of {len(frame)} bytes"
        return SealedFrame(counter=struct.unpack_from(">Q", frame, 1)[0], sealed=bytes(frame[1 + COUNTER_BYTES :]))
    return f"relay frame of unknown kind {frame[0]}"


def _nonce(counter: int) -> bytes:
    return b"\x00\x00\x00\x00" + struct.pack(">Q", counter)


def direction_key(shared: bytes, sid: str, sender: str, recipient: str) -> bytes:
    """The AES-256-GCM key for frames `sender` seals to `recipient` on stream `sid`."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=sid.encode(), info=f"roommesh relay v1 {sender} > {recipient}".encode()).derive(shared)


class RelaySeal:
    """One side of a sealed relay stream."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._private = private_key if private_key is not None else ec.generate_private_key(ec.SECP256R1())
        public = self._private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.key_frame = bytes([KEY_FRAME]) + public
        self.peer_public_key: bytes | None = None
        self._send: AESGCM | None = None
        self._receive: AESGCM | None = None
        self._sent = 0
        self._received = 0

    @staticmethod
    def from_scalar(private_key: bytes) -> RelaySeal:
        """A seal with a given private key (32 bytes, big-endian): for golden vectors."""
        return RelaySeal(ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256R1()))

    @property
    def ready(self) -> bool:
        return self._send is not None

    def agree(self, peer_public_key: bytes, sid: str, local_id: str, peer_id: str) -> None:
        """Derives the stream's keys from the peer's public key; raises ValueError for a key that is not a P-256 point."""
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer_public_key)
        shared = self._private.exchange(ec.ECDH(), peer)
        self.peer_public_key = bytes(peer_public_key)
        self._send = AESGCM(direction_key(shared, sid, local_id, peer_id))
        self._receive = AESGCM(direction_key(shared, sid, peer_id, local_id))

    def seal(self, packet: bytes) -> bytes:
        """The sealed frame carrying `packet`, with the next counter."""
        if self._send is None:
            raise RuntimeError("relay stream keys not agreed yet")
        self._sent += 1
        return bytes([SEALED_FRAME]) + struct.pack(">Q", self._sent) + self._send.encrypt(_nonce(self._sent), packet, None)

    def open(self, frame: SealedFrame) -> bytes | str:
        """The packet inside a sealed frame, or why it is refused (replayed, tampered with, frames lost before it)."""
        if self._receive is None:
            return "sealed frame before the keys were agreed"
        if frame.counter <= self._received:
            return f"sealed frame {frame.counter} replayed or out of order (last {self._received})"
        try:
            packet = self._receive.decrypt(_nonce(frame.counter), frame.sealed, None)
        except InvalidTag:
            return "sealed frame did not authenticate"
        expected = self._received + 1
        self._received = frame.counter
        if frame.counter != expected:
            return f"sealed frames {expected} to {frame.counter - 1} never arrived"
        return packet
