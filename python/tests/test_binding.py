"""Stream bindings, fingerprints, join proofs and the passphrase's key against the golden
values the TypeScript client is checked against (protocol/vectors/trust.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from roommesh.binding import (
    BindingEnd, Identity, binding_mac, binding_message, fingerprint_of, join_proof_message, key_thumbprint, room_key, verify,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "trust.json").read_text())


def test_the_binding_vector() -> None:
    v = VECTORS["binding"]
    a, b = Identity(bytes.fromhex(v["a"]["secretKey"])), Identity(bytes.fromhex(v["b"]["secretKey"]))
    assert (a.public_key.hex(), b.public_key.hex()) == (v["a"]["publicKey"], v["b"]["publicKey"])
    assert a.fingerprint == v["a"]["fingerprint"] == fingerprint_of(a.public_key)

    def end(side: str) -> BindingEnd:
        return BindingEnd(id=v[side]["id"], nonce=bytes.fromhex(v[side]["nonce"]), key=bytes.fromhex(v[side]["publicKey"]), channel=v[side]["channel"])

    message = binding_message(v["room"], v["kind"], end("a"), end("b"), v["signer"])
    assert len(message) == v["messageBytes"]
    assert message.hex().startswith(v["messageStart"])
    assert hashlib.sha256(message).hexdigest() == v["messageSha256"]
    # Either end lays the message out alike: the lower id's fields come first.
    assert binding_message(v["room"], v["kind"], end("b"), end("a"), v["signer"]) == message
    signature = a.sign(message)
    assert signature.hex() == v["signature"]
    assert verify(a.public_key, message, signature)
    assert not verify(b.public_key, message, signature)
    assert not verify(a.public_key, message + b"x", signature)
    assert len(binding_mac(b"\x03" * 32, message)) == 32


def test_the_join_proof_vector() -> None:
    v = VECTORS["joinProof"]
    identity = Identity(bytes.fromhex(v["secretKey"]))
    message = join_proof_message(v["room"], v["token"], v["at"])
    assert message.hex() == v["message"]
    assert identity.sign(message).hex() == v["signature"]
    assert key_thumbprint(identity.public_key) == v["thumbprint"]


def test_the_passphrase_key() -> None:
    v = VECTORS["passphrase"]
    assert room_key(v["passphrase"], v["room"], v["iterations"]).hex() == v["key"]


def test_a_fresh_identity_signs_what_it_checks() -> None:
    identity = Identity.generate()
    assert verify(identity.public_key, b"m", identity.sign(b"m"))
    assert len(identity.fingerprint.split(" ")) == 6
