"""Run a callback at most once per interval, on the trailing edge: the latest state always
gets drawn, but a burst of updates is drawn once."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Throttle:
    def __init__(self, owner: MessagePump, interval: float, callback: Callable[[], None]) -> None:
        self.owner = owner
        self.interval = interval
        self.callback = callback
        self._last = -float("inf")
        self._timer: Timer | None = None

    def request(self) -> None:
        if self._timer is not None:
            return
        wait = self._last + self.interval - time.monotonic()
        if wait <= 0:
            self._run()
        else:
            self._timer = self.owner.set_timer(wait, self._run, name="throttle")

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _run(self) -> None:
        self._timer = None
        if not self.owner.is_running:
            # The app is shutting down: its panes are being removed and a draw would
            # fail to find them (the timer can still fire until the app's own end).
            return
        self._last = time.monotonic()
        self.callback()
