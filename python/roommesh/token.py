"""Join tokens as peers check them (docs/protocol.md, "Stream bindings", "Join tokens"), as
client/trust/token.ts does: with the issuer's Ed25519 public key, a peer's token must be an EdDSA
JWT signed by it, issued by roommesh, for this room, naming the participant the service lists,
and binding the identity key that signed the stream (`cnf.jkt`). Expiry is the service's to check."""

from __future__ import annotations

import base64
import json
from typing import Any

from .binding import key_thumbprint, verify


def _unbase64url(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def _read_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, claims, signature = (_unbase64url(part) for part in parts)
    if header is None or claims is None or signature is None:
        return None
    try:
        header_json, claims_json = json.loads(header), json.loads(claims)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(header_json, dict) or not isinstance(claims_json, dict):
        return None
    return header_json, claims_json, f"{parts[0]}.{parts[1]}".encode(), signature


def token_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (to see whether it binds a key); {} if it is not one."""
    jws = _read_jws(token)
    return {} if jws is None else jws[1]


def issuer_key_bytes(jwk: object) -> bytes | None:
    """The 32 bytes of an Ed25519 public JWK ({kty: OKP, crv: Ed25519, x}), or None (a private key is refused too)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk or not isinstance(jwk.get("x"), str):
        return None
    key = _unbase64url(jwk["x"])
    return key if key is not None and len(key) == 32 else None


def check_peer_token(token: object, issuer_key: bytes, *, room: str, name: str | None, key: bytes) -> str | None:
    """None if `token` is the issuer's, for this room and name, binding `key`; else why not."""
    if token is None:
        return "it presented no join token, and this room requires one from its issuer"
    jws = _read_jws(token) if isinstance(token, str) else None
    if jws is None:
        return "its join token is malformed"
    header, claims, signed, signature = jws
    if header.get("alg") != "EdDSA":
        return f"its join token is signed with {json.dumps(header.get('alg'))}, not the issuer's EdDSA key"
    if not verify(issuer_key, signed, signature):
        return "its join token is not signed by the room's issuer"
    if claims.get("iss") != "roommesh":
        return f"its join token is not a roommesh join token (its issuer is {json.dumps(claims.get('iss'))})"
    if claims.get("room") != room:
        return f"its join token is for room {json.dumps(claims.get('room'))}, not this one"
    if claims.get("name") != name:
        return f"its join token names it {json.dumps(claims.get('name'))}, but the service lists it as {json.dumps(name)}"
    bound = claims.get("cnf")
    if not isinstance(bound, dict) or bound.get("jkt") != key_thumbprint(key):
        return "its join token binds another identity key than the one that signed this stream"
    return None
