"""roommesh for Python: a participant in a roommesh room (docs/protocol.md).

Begun: the data-channel wire (`roommesh.wire`), checked against the golden packets the
TypeScript client is checked against. The signaling client, links (aiortc), sessions, stream
bindings, the relay and the RoomClient API of issue #30 are not written yet.
"""

from .wire import ERROR_CODES, WIRE_VERSION, decode_packet, encode_packet

__all__ = ["ERROR_CODES", "WIRE_VERSION", "decode_packet", "encode_packet"]
