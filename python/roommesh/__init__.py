"""roommesh for Python: a participant in a roommesh room (docs/protocol.md).

Begun: the data-channel wire (`roommesh.wire`), message headers (`roommesh.header`), stream bindings and join proofs
(`roommesh.binding`) and relay sealing (`roommesh.relay`), each checked against the golden
vectors the TypeScript client is checked against. And the signaling client (`roommesh.signaling`).
Links (aiortc), sessions and the RoomClient API of issue #30 are not written yet.
"""

from .wire import ERROR_CODES, WIRE_VERSION, decode_packet, encode_packet

__all__ = ["ERROR_CODES", "WIRE_VERSION", "decode_packet", "encode_packet"]
