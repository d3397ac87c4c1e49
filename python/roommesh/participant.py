"""What the API hands out: remote participants, received messages, broadcast outcomes, replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RemoteParticipant:
    """Another participant of the room with messaging enabled, as the service lists it."""

    id: str
    role: str
    attributes: dict[str, Any]
    #: 'direct' (a data channel) or 'relayed' (through the service); None while it has no path.
    link: str | None = None
    #: Its identity key's fingerprint, once a stream proved it.
    fingerprint: str | None = None
    online: bool = True
    rtt_ms: float | None = None

    @property
    def name(self) -> str | None:
        name = self.attributes.get("name")
        return name if isinstance(name, str) else None

    def get_attribute(self, name: str) -> Any:
        return self.attributes.get(name)


@dataclass(frozen=True)
class LocalParticipant:
    id: str
    role: str
    attributes: dict[str, Any]

    @property
    def name(self) -> str | None:
        name = self.attributes.get("name")
        return name if isinstance(name, str) else None


@dataclass(frozen=True)
class ReceivedMessage:
    from_participant_id: str
    from_participant: RemoteParticipant
    type: str
    message: dict[str, Any]
    attachment: bytes | None
    broadcast: bool
    message_id: str
    delivery: str = "reliable"


@dataclass(frozen=True)
class BroadcastOutcome:
    participant_id: str
    participant: RemoteParticipant
    ok: bool
    error: Exception | None = None


@dataclass(frozen=True)
class Reply:
    """What a request handler may return to attach bytes to its reply (a plain dict is the reply's message)."""

    message: dict[str, Any] = field(default_factory=dict)
    attachment: bytes | None = None
