"""Listeners by event name: `on` returns the function that removes the listener. A listener may
be a plain function or a coroutine function (its coroutine runs as a task); one that raises is
logged, never breaks the emitter."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("roommesh")

Listener = Callable[..., Any]


class Emitter:
    def __init__(self, events: tuple[str, ...]) -> None:
        self._events = events
        self._listeners: dict[str, list[Listener]] = {event: [] for event in events}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, event: str, listener: Listener) -> Callable[[], None]:
        """Calls `listener(*args)` on every `event`; returns a function that removes it."""
        if event not in self._listeners:
            from .errors import RoomError

            raise RoomError("INVALID_ARGUMENT", f"unknown event {event!r}; one of {', '.join(self._events)}")
        self._listeners[event].append(listener)
        return lambda: self.off(event, listener)

    def off(self, event: str, listener: Listener) -> None:
        listeners = self._listeners.get(event, [])
        if listener in listeners:
            listeners.remove(listener)

    def emit(self, event: str, *args: Any) -> None:
        for listener in list(self._listeners.get(event, [])):
            try:
                result = listener(*args)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._finished)
            except Exception:
                log.exception("a %s listener raised", event)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a listener raised", exc_info=task.exception())
