"""Signals and relayed frames from a participant not known yet (docs/protocol.md, "Who offers"):
an offer can overtake the announcement of its sender, so they are held briefly and replayed
when it becomes known: at most 32 per participant, 64 participants, 10 s."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_AGE_S = 10.0
PER_PEER = 32
MAX_PEERS = 64

Replay = Callable[[], None]


@dataclass
class _Held:
    since: float
    replays: list[Replay] = field(default_factory=list)


class EarlySignals:
    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}

    def hold(self, peer_id: str, replay: Replay) -> None:
        now = time.monotonic()
        for stale in [k for k, held in self._held.items() if now - held.since > MAX_AGE_S]:
            del self._held[stale]
        held = self._held.get(peer_id)
        if held is None:
            if len(self._held) >= MAX_PEERS:
                return
            held = self._held[peer_id] = _Held(since=now)
        if len(held.replays) < PER_PEER:
            held.replays.append(replay)

    def release(self, peer_id: str) -> list[Replay]:
        """What was held for `peer_id` (now known), in order, if it is recent enough."""
        held = self._held.pop(peer_id, None)
        if held is None or time.monotonic() - held.since > MAX_AGE_S:
            return []
        return held.replays

    def clear(self) -> None:
        self._held.clear()
