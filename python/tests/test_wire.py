"""The wire codec against the golden packets the TypeScript codec is checked against
(protocol/vectors/wire.json), the error codes against protocol/errors.ts, and decoding of
arbitrary bytes, which must never raise."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from roommesh.wire import (
    ERROR_CODES, Auth, Bye, Cancel, Chunk, Datagram, DatagramReceipts, Decoded, Head, Hello, Ping, Pong, Probe,
    Receipts, Record, Reject, decode_packet, encode_packet,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS: list[dict[str, Any]] = json.loads((ROOT / "protocol" / "vectors" / "wire.json").read_text())["vectors"]


def record_of(fields: dict[str, Any]) -> Record:
    """A vector's record (the TypeScript codec's shape, bytes in hex) as this codec's."""
    kind = fields["kind"]
    data = bytes.fromhex(fields.get("bytes", ""))
    if kind == "head":
        return Head(lane=fields["lane"], id=fields["id"], json_length=fields["jsonLength"], attachment_length=fields["attachmentLength"], data=data)
    if kind == "chunk":
        return Chunk(lane=fields["lane"], id=fields["id"], offset=fields["offset"], data=data)
    if kind == "receipts":
        return Receipts(lane=fields["lane"], ids=tuple(fields["ids"]))
    if kind == "reject":
        return Reject(lane=fields["lane"], id=fields["id"], code=fields["error"]["code"], message=fields["error"]["message"])
    if kind == "cancel":
        return Cancel(lane=fields["lane"], id=fields["id"])
    if kind == "datagram":
        return Datagram(mode=fields["mode"], id=fields["id"], json_length=fields["jsonLength"], data=data)
    if kind == "datagram-receipts":
        return DatagramReceipts(ids=tuple(fields["ids"]))
    if kind == "auth":
        return Auth(body=bytes.fromhex(fields["body"]))
    if kind == "hello":
        h = fields["hello"]
        return Hello(
            max_json_bytes=h["limits"]["maxJsonBytes"], max_attachment_bytes=h["limits"]["maxAttachmentBytes"],
            epoch=h["epoch"], peer_epoch=h["peerEpoch"], delivered=(h["delivered"][0], h["delivered"][1]), base=(h["base"][0], h["base"][1]),
            nonce=h.get("nonce"), key=h.get("key"), bulk=h.get("bulk", False), restart=h.get("restart", False),
            datagrams=h.get("datagrams", False), unordered_base=h.get("unorderedBase", 0),
            partial=tuple((p[0], p[1], p[2]) for p in h.get("partial", [])),
        )
    if kind == "bye":
        return Bye(answer=fields.get("answer", False))
    empty: dict[str, Record] = {"ping": Ping(), "probe": Probe(), "pong": Pong()}
    return empty[kind]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_packets_encode_and_decode(vector: dict[str, Any]) -> None:
    records = [record_of(r) for r in vector["records"]]
    golden = bytes.fromhex(vector["hex"].replace(" ", ""))
    assert encode_packet(records) == golden
    decoded = decode_packet(golden)
    assert isinstance(decoded, Decoded), decoded
    assert decoded.unknown_records == 0
    assert decoded.records == records


def test_error_codes_are_the_typescript_ones() -> None:
    source = (ROOT / "protocol" / "errors.ts").read_text()
    block = re.search(r"export const ERROR_CODES = \[(.*?)\]", source, re.S)
    assert block is not None
    assert tuple(re.findall(r"'([A-Z_]+)'", block.group(1))) == ERROR_CODES


def test_malformed_packets_are_refused_with_a_reason() -> None:
    assert decode_packet(b"") == "empty packet"
    assert decode_packet(b"\x01") == "unsupported wire version 1"
    assert decode_packet(bytes.fromhex("02 01 00000010 02".replace(" ", ""))) == "record length 16 exceeds the packet"
    assert decode_packet(bytes.fromhex("02 0a 00000005 02 00000003".replace(" ", ""))) == "cancel record names lane 2"
    assert decode_packet(bytes.fromhex("02 06 00000002 7b7d".replace(" ", ""))) == "hello record has no valid limits"
    unknown = decode_packet(bytes.fromhex("02 63 00000001 ff 05 00000000".replace(" ", "")))
    assert isinstance(unknown, Decoded) and unknown.unknown_records == 1 and unknown.records == [Bye()]


def test_any_bytes_decode_without_raising() -> None:
    rng = random.Random(7)
    kinds = list(range(0, 16))
    for _ in range(5000):
        size = rng.randrange(0, 120)
        body = bytes(rng.randrange(256) if rng.random() < 0.7 else rng.choice(kinds) for _ in range(size))
        packet = bytes([2]) + body if rng.random() < 0.9 else body
        result = decode_packet(packet)
        assert isinstance(result, (Decoded, str))
