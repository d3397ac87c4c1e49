"""Stream bindings and key-bound join tokens, as docs/protocol.md lays them out ("Stream
bindings", "Join tokens"): the length-prefixed transcripts a participant signs with its
Ed25519 identity key, its fingerprint, a key's RFC 7638 thumbprint, and the room key a
passphrase gives. The golden values both implementations are checked against are in
protocol/vectors/trust.json. Signing and checking use `cryptography`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PASSPHRASE_ITERATIONS = 600_000


def transcript(parts: list[bytes | str]) -> bytes:
    """Length-prefixed fields (u32 big-endian length, then the bytes; strings UTF-8)."""
    out = bytearray()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


@dataclass(frozen=True)
class BindingEnd:
    """One end of a stream as the binding names it: its participant id, its hello's nonce and identity key, its channel binding."""

    id: str
    nonce: bytes
    key: bytes
    channel: str


def binding_message(room: str, kind: str, local: BindingEnd, remote: BindingEnd, signer_id: str) -> bytes:
    """What `signer_id` signs for a stream between `local` and `remote`: the lower id's fields first.

    Ids compare as JavaScript strings do (UTF-16 code units); for the base64url ids the service
    issues that is the same order as Python's.
    """
    first, second = (local, remote) if local.id < remote.id else (remote, local)
    return transcript([
        "roommesh binding v1", kind, room, first.id, second.id, first.nonce, second.nonce, first.key, second.key,
        first.channel, second.channel, signer_id,
    ])


class Identity:
    """An Ed25519 identity key pair (32-byte secret key, as the TypeScript client stores it)."""

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) != 32:
            raise ValueError("an identity's secret key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(secret_key)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.fingerprint = fingerprint_of(self.public_key)

    @staticmethod
    def generate() -> Identity:
        import os

        return Identity(os.urandom(32))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public_key`'s over `message`. Never raises."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def fingerprint_of(public_key: bytes) -> str:
    """Six groups of five digits, each a 5-byte group of SHA-256("roommesh fingerprint v1" || key), big-endian, modulo 100,000."""
    digest = hashlib.sha256(b"roommesh fingerprint v1" + public_key).digest()
    return " ".join(f"{int.from_bytes(digest[i * 5 : i * 5 + 5], 'big') % 100_000:05d}" for i in range(6))


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_thumbprint(public_key: bytes) -> str:
    """The RFC 7638 thumbprint of an Ed25519 key: the `cnf.jkt` a join token binds it by."""
    members = f'{{"crv":"Ed25519","kty":"OKP","x":"{base64url(public_key)}"}}'
    return base64url(hashlib.sha256(members.encode()).digest())


def join_proof_message(room: str, token: str, at: int) -> bytes:
    """What a join (or resume) with a key-bound token signs: the room, the token, and the time in ms."""
    return transcript(["roommesh join v1", room, token, str(at)])


def room_key(passphrase: str, room: str, iterations: int = PASSPHRASE_ITERATIONS) -> bytes:
    """The key a room passphrase gives: PBKDF2-HMAC-SHA-256 of its NFC form, salted with the room."""
    secret = unicodedata.normalize("NFC", passphrase).encode()
    return hashlib.pbkdf2_hmac("sha256", secret, f"roommesh room passphrase v1\n{room}".encode(), iterations, 32)


def binding_mac(key: bytes, message: bytes) -> bytes:
    """The MAC a room passphrase's key puts beside a binding's signature."""
    return hmac.new(key, message, hashlib.sha256).digest()


def hmac_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)
