"""Who this participant trusts and how each stream proves it (docs/protocol.md, "Stream
bindings"), as client/trust/trust.ts does it: each stream's hello carries a fresh nonce and our
identity key; once the peer's hello is in, our auth record signs the binding message (and MACs
it under the room key when there is a passphrase); the peer's must check against the message as
we see the stream. A participant keeps the key it first proved, for this client's life.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .binding import BindingEnd, Identity, binding_mac, binding_message, fingerprint_of, hmac_equal, verify
from .token import check_peer_token
from .wire import is_hex_of

NONCE_BYTES = 16
_FINGERPRINT = re.compile(r"^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$", re.MULTILINE)


def sdp_fingerprints(sdp: str | None) -> str | None:
    """The DTLS fingerprints a session description names, normalised, deduplicated and sorted (None if none)."""
    found = {f"{m.group(1).lower()} {m.group(2).upper()}" for m in _FINGERPRINT.finditer((sdp or "").replace("\r\n", "\n"))}
    return ",".join(sorted(found)) if found else None


@dataclass(frozen=True)
class ChannelBinding:
    kind: str  # "dtls" | "relay"
    local: str
    remote: str


def normalize_fingerprint(text: str) -> str | None:
    """A fingerprint as participants show it (six groups of five digits), from any spacing; None if it is not one."""
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{30}", digits):
        return None
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


def _hex_of(value: object, size: int) -> bytes | None:
    """The bytes of `value` if it is hex of `size` bytes (the codec's check), else None."""
    return bytes.fromhex(value) if isinstance(value, str) and is_hex_of(value, size) else None


@dataclass
class Trust:
    identity: Identity
    room: str
    room_key: bytes | None = None
    #: Our join token, sent to peers when it binds our identity key (never a bearer token).
    bound_token: str | None = None
    #: The key each participant first proved, by participant id (hex).
    keys: dict[str, str] = field(default_factory=dict)
    #: The token issuer's Ed25519 public key: every peer must show a token it signed, binding the peer's key.
    issuer_key: bytes | None = None
    #: Fingerprints by participant name (normalised: six groups of five digits).
    pinned: dict[str, str] = field(default_factory=dict)
    #: The name the service lists for a participant id.
    name_of: Callable[[str], str | None] = lambda _id: None

    def for_stream(self, local_id: str, peer_id: str) -> StreamAuth:
        return StreamAuth(self, local_id, peer_id)


class StreamAuth:
    def __init__(self, trust: Trust, local_id: str, peer_id: str) -> None:
        self._trust = trust
        self._local_id = local_id
        self._peer_id = peer_id
        self._nonce = os.urandom(NONCE_BYTES)
        self._expected: tuple[bytes, bytes] | None = None

    def hello_fields(self) -> tuple[str, str]:
        """The hello's nonce and key (hex)."""
        return self._nonce.hex(), self._trust.identity.public_key.hex()

    def answer(self, nonce_hex: str | None, key_hex: str | None, binding: ChannelBinding | str) -> bytes | str:
        """Our auth record's body for the peer's hello, or why the peer cannot be authenticated."""
        if isinstance(binding, str):
            return f"this stream's own keys could not be read ({binding})"
        nonce, key = _hex_of(nonce_hex, NONCE_BYTES), _hex_of(key_hex, 32)
        if nonce is None or key is None:
            return "its hello carries no identity key (a roommesh older than stream bindings)"
        trust = self._trust
        if key == trust.identity.public_key:
            return "it presents our own identity key"
        before = trust.keys.get(self._peer_id)
        if before is not None and before != key.hex():
            return f"its identity key changed (fingerprint was {fingerprint_of(bytes.fromhex(before))}, now {fingerprint_of(key)})"
        name = trust.name_of(self._peer_id)
        pinned = None if name is None else trust.pinned.get(name)
        if pinned is not None and pinned != fingerprint_of(key):
            return f"its fingerprint {fingerprint_of(key)} is not the one pinned for {json.dumps(name)} ({pinned})"
        local = BindingEnd(id=self._local_id, nonce=self._nonce, key=trust.identity.public_key, channel=binding.local)
        remote = BindingEnd(id=self._peer_id, nonce=nonce, key=key, channel=binding.remote)
        self._expected = (binding_message(trust.room, binding.kind, local, remote, self._peer_id), key)
        ours = binding_message(trust.room, binding.kind, local, remote, self._local_id)
        proof: dict[str, str] = {"sig": trust.identity.sign(ours).hex()}
        if trust.room_key is not None:
            proof["mac"] = binding_mac(trust.room_key, ours).hex()
        if trust.bound_token is not None:
            proof["token"] = trust.bound_token
        return json.dumps(proof, separators=(",", ":")).encode()

    def check(self, body: bytes) -> str | None:
        """None if the peer's auth record proves the stream, else why not."""
        if self._expected is None:
            return "an auth record before its hello"
        try:
            proof = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "auth record is not JSON"
        if not isinstance(proof, dict):
            proof = {}
        sig, mac = _hex_of(proof.get("sig"), 64), proof.get("mac")
        if sig is None:
            return "auth record has no valid signature"
        message, key = self._expected
        if not verify(key, message, sig):
            return "its binding signature does not match this stream (another party between us, or an old binding replayed)"
        room_key = self._trust.room_key
        if room_key is not None:
            mac_bytes = _hex_of(mac, 32)
            if mac_bytes is None:
                return "it proved no knowledge of the room passphrase"
            if not hmac_equal(binding_mac(room_key, message), mac_bytes):
                return "its binding is not MACed with this room passphrase"
        issuer_key = self._trust.issuer_key
        if issuer_key is not None:
            token = proof.get("token")
            refused = check_peer_token(token, issuer_key, room=self._trust.room, name=self._trust.name_of(self._peer_id), key=key)
            if refused is not None:
                return refused
        self._trust.keys.setdefault(self._peer_id, key.hex())
        return None

    @property
    def peer_fingerprint(self) -> str | None:
        return None if self._expected is None else fingerprint_of(self._expected[1])
