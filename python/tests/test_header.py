"""Message headers against the golden headers the TypeScript codec is checked against
(protocol/vectors/wire.json's `headers` and `invalidHeaders`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from roommesh.header import MessageHeader, ReplyError, decode_header, encode_header

WIRE: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "wire.json").read_text())


def header_of(fields: dict[str, Any]) -> MessageHeader:
    error = fields.get("error")
    return MessageHeader(
        type=fields["type"], message=fields["message"], broadcast=fields["broadcast"], request=fields.get("request"),
        reply_to=fields.get("replyTo"), error=None if error is None else ReplyError(code=error["code"], message=error["message"]),
    )


@pytest.mark.parametrize("vector", WIRE["headers"], ids=[v["name"] for v in WIRE["headers"]])
def test_golden_headers(vector: dict[str, Any]) -> None:
    header = header_of(vector["header"])
    assert encode_header(header).decode() == vector["json"]
    for text in [vector["json"], *vector.get("alsoFrom", [])]:
        assert decode_header(text.encode()) == header


@pytest.mark.parametrize("vector", WIRE["invalidHeaders"], ids=[v["json"] for v in WIRE["invalidHeaders"]])
def test_refused_headers(vector: dict[str, Any]) -> None:
    assert decode_header(vector["json"].encode()) == vector["reason"]


def test_not_utf8_and_overlong_types() -> None:
    assert decode_header(b"\xff\xfe") == "message header is not UTF-8 JSON"
    assert decode_header(('{"t":"' + "x" * 257 + '","m":{}}').encode()) == "message type is missing or too long"
