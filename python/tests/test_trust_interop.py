"""Zero trust across implementations: join tokens from an issuer, bound to identity keys, shown
to peers in the stream bindings and checked by each side with the issuer's public key; and
pinned fingerprints. Python with Node participants (@roamhq/wrtc, node-datachannel)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from roommesh import Identity, RoomClient, RoomError
from roommesh.binding import base64url, key_thumbprint

from .driver import Driver, served


class Issuer:
    """An Ed25519 token issuer, as `roommesh keys` / createToken({ signingKey, publicKey }) make them."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64url(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))}

    def token(self, room: str, name: str, identity: Identity) -> str:
        header = base64url(json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode())
        now = int(time.time())
        claims = {"iss": "roommesh", "iat": now, "exp": now + 600, "room": room, "name": name, "jti": base64url(os.urandom(16)), "cnf": {"jkt": key_thumbprint(identity.public_key)}}
        payload = base64url(json.dumps(claims).encode())
        return f"{header}.{payload}.{base64url(self._key.sign(f'{header}.{payload}'.encode()))}"


async def node_join(driver: Driver, name: str, stack: str, issuer: Issuer, checks: Issuer, room: str = "trust") -> None:
    secret = os.urandom(32)
    await driver.call("join", name=name, stack=stack, token=issuer.token(room, name, Identity(secret)), identitySecret=secret.hex(), issuerKey=checks.jwk)


def test_tokens_from_the_issuer_bound_to_keys_link_python_and_node_and_show_fingerprints() -> None:
    async def run() -> None:
        issuer = Issuer()
        async with served("trust", "--issuer-key", json.dumps(issuer.jwk)) as (service, driver):
            await node_join(driver, "wrtc", "@roamhq/wrtc", issuer, issuer)
            await node_join(driver, "ndc", "node-datachannel", issuer, issuer)
            identity = Identity.generate()
            room = RoomClient(url=service.url, room="trust", token=issuer.token("trust", "python", identity), identity=identity, issuer_key=issuer.jwk)
            await room.start()
            await room.messaging.enable()
            listed = {p.name or p.id: p for p in room.messaging.get_participants()}
            assert sorted(listed) == ["ndc", "wrtc"]
            assert all(p.fingerprint is not None and len(p.fingerprint) == 35 for p in listed.values())
            for name in ("wrtc", "ndc"):
                assert (await driver.call("names", at=name))["names"] == sorted(["python", *(n for n in ("wrtc", "ndc") if n != name)])
                await room.messaging.send_message(to=listed[name], type="bound", message={})
                await driver.message(name, "bound", f"{name} gets a message from the token-checked Python")
            await room.close()

    asyncio.run(run())


def test_a_service_that_mints_its_own_tokens_is_refused_by_python_and_node_alike_and_so_is_a_pinned_name_with_another_key() -> None:
    async def run() -> None:
        real, the_services_own = Issuer(), Issuer()
        # The service admits whatever its own issuer signed; the participants hold the real issuer's key.
        async with served("trust", "--issuer-key", json.dumps(the_services_own.jwk)) as (service, driver):
            await node_join(driver, "impostor", "@roamhq/wrtc", the_services_own, real)
            identity = Identity.generate()
            room = RoomClient(url=service.url, room="trust", token=the_services_own.token("trust", "python", identity), identity=identity, issuer_key=real.jwk)
            refused: list[dict[str, Any]] = []
            room.messaging.on("peer_authentication_failed", refused.append)
            await room.start()
            await room.messaging.enable()
            assert room.messaging.get_participants() == []
            assert [r["name"] for r in refused] == ["impostor"] and "not signed by the room's issuer" in refused[0]["reason"]
            event = await driver.event(lambda e: e["event"] == "refused" and e["at"] == "impostor", "the Node side refuses Python too")
            assert event["name"] == "python"
            await room.close()

        # Pinned fingerprints: a participant under a pinned name with another key is refused.
        async with served("pins") as (service, driver):
            await driver.call("join", name="wrtc", stack="@roamhq/wrtc")
            pinned = RoomClient(url=service.url, room="pins", name="python", pinned_fingerprints={"wrtc": "00000 11111 22222 33333 44444 55555"})
            reasons: list[dict[str, Any]] = []
            pinned.messaging.on("peer_authentication_failed", reasons.append)
            await pinned.start()
            await pinned.messaging.enable()
            assert pinned.messaging.get_participants() == []
            assert len(reasons) == 1 and "is not the one pinned for \"wrtc\"" in reasons[0]["reason"]
            await pinned.close()

    asyncio.run(run())


def test_bad_trust_options_are_refused_at_once() -> None:
    identity = Identity.generate()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"issuer_key": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}}, "never the private signing key"),
        ({"issuer_key": Issuer().jwk}, "must bind your identity key"),
        ({"pinned_fingerprints": {"x": "123"}}, "fingerprint of 30 digits"),
        ({"token": Issuer().token("r", "n", Identity.generate()), "identity": identity}, "binds another identity key"),
    ]
    for options, words in cases:
        try:
            RoomClient(url="http://127.0.0.1:1", room="r", name="n", **options)
            raise AssertionError(f"{options} was taken")
        except RoomError as error:
            assert error.code == "INVALID_ARGUMENT" and words in error.message, error.message
