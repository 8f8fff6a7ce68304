"""The UI end of the engine's pipe, read on the event loop without a thread.

``loop.add_reader`` wakes us when the pipe has data; we take everything waiting (within a
small time budget, so a flood cannot stall the screen) and hand it over as one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol

from textual.message import Message

# Unpickling one report takes well under a millisecond; stop after this long and let the
# loop draw, the reader fires again for the rest.
DRAIN_BUDGET = 0.005


class EngineMessages(Message):
    """Everything the engine sent since the last wake-up, oldest first."""

    def __init__(self, batch: list[Any]) -> None:
        super().__init__()
        self.batch = batch


class EngineClosed(Message):
    """The pipe closed: the engine process is gone."""


class Connection(Protocol):
    def fileno(self) -> int: ...
    def poll(self, timeout: float | None = 0.0) -> bool: ...
    def recv(self) -> Any: ...


class Engine(Protocol):
    """What the app needs of an engine: model.engine.process.EngineHandle, or a test's
    stand-in."""

    conn: Connection

    def send(self, command: Any) -> None: ...
    def stop(self) -> None: ...


class EngineLink:
    def __init__(
        self,
        engine: Engine,
        on_messages: Callable[[list[Any]], None],
        on_closed: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.on_messages = on_messages
        self.on_closed = on_closed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd: int | None = None

    def attach(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._fd = self.engine.conn.fileno()
        self._loop.add_reader(self._fd, self._readable)

    def detach(self) -> None:
        if self._loop is not None and self._fd is not None:
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                self._loop.remove_reader(self._fd)
        self._fd = None

    def _readable(self) -> None:
        conn = self.engine.conn
        batch: list[Any] = []
        closed = False
        deadline = time.perf_counter() + DRAIN_BUDGET
        try:
            while conn.poll(0):
                batch.append(conn.recv())
                if time.perf_counter() > deadline:
                    break
        except (EOFError, OSError):
            closed = True
        if batch:
            self.on_messages(batch)
        if closed:
            self.detach()
            self.on_closed()
