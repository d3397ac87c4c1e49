"""Relay sealing against the golden values the TypeScript client is checked against
(protocol/vectors/trust.json's `relay`, made with node:crypto), and the refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from roommesh.relay import KeyFrame, RelaySeal, SealedFrame, decode_relay_frame

V: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "trust.json").read_text())["relay"]


def agreed() -> tuple[RelaySeal, RelaySeal]:
    alice, bob = RelaySeal.from_scalar(bytes.fromhex(V["alice"]["privateKey"])), RelaySeal.from_scalar(bytes.fromhex(V["bob"]["privateKey"]))
    alice.agree(bob.key_frame[1:], V["sid"], V["alice"]["id"], V["bob"]["id"])
    bob.agree(alice.key_frame[1:], V["sid"], V["bob"]["id"], V["alice"]["id"])
    return alice, bob


def test_the_relay_vector() -> None:
    alice, bob = agreed()
    assert alice.key_frame.hex() == V["alice"]["keyFrame"]
    assert alice.seal(bytes.fromhex(V["packet"])).hex() == V["frame"]
    frame = decode_relay_frame(bytes.fromhex(V["frame"]))
    assert isinstance(frame, SealedFrame) and frame.counter == V["counter"]
    assert bob.open(frame) == bytes.fromhex(V["packet"])


def test_refuses_replays_tampering_and_gaps() -> None:
    alice, bob = agreed()
    first = decode_relay_frame(alice.seal(b"one"))
    assert isinstance(first, SealedFrame)
    assert bob.open(first) == b"one"
    assert bob.open(first) == "sealed frame 1 replayed or out of order (last 1)"
    second = decode_relay_frame(alice.seal(b"two"))
    assert isinstance(second, SealedFrame)
    assert bob.open(SealedFrame(counter=second.counter, sealed=second.sealed[:-1] + bytes([second.sealed[-1] ^ 1]))) == "sealed frame did not authenticate"
    alice.seal(b"three")
    fourth = decode_relay_frame(alice.seal(b"four"))
    assert isinstance(fourth, SealedFrame)
    assert bob.open(fourth) == "sealed frames 2 to 3 never arrived"


def test_reads_any_bytes_as_a_frame_and_refuses_a_key_off_the_curve() -> None:
    assert decode_relay_frame(b"") == "empty relay frame"
    assert decode_relay_frame(bytes([9])) == "relay frame of unknown kind 9"
    assert isinstance(decode_relay_frame(bytes([1]) + bytes(65)), KeyFrame)
    with pytest.raises(ValueError):
        RelaySeal().agree(bytes([4]) * 65, "s", "a", "b")
