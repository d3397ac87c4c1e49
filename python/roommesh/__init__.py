"""roommesh for Python: a participant in a roommesh room, in the same peer-to-peer mesh as the
TypeScript client's participants (docs/protocol.md is the contract both implement).

    from roommesh import RoomClient

    room = RoomClient(url="http://127.0.0.1:8787", room="demo", name="agent")
    await room.start()
    await room.messaging.enable()
"""

from .binding import Identity
from .client import RoomClient
from .errors import RoomError
from .participant import BroadcastOutcome, LocalParticipant, ReceivedMessage, RemoteParticipant, Reply
from .peer import Tunables
from .wire import ERROR_CODES, WIRE_VERSION, decode_packet, encode_packet

__all__ = [
    "ERROR_CODES", "WIRE_VERSION", "BroadcastOutcome", "Identity", "LocalParticipant", "ReceivedMessage", "RemoteParticipant",
    "Reply", "RoomClient", "RoomError", "Tunables", "decode_packet", "encode_packet",
]
