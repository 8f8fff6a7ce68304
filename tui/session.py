"""The engine as the app holds it: the process, its pipe, a restart after a crash, and the
signals that end the app. A plain object the App owns; the tabs send through it."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.engine_pipe import EngineClosed, EngineLink, EngineMessages

if TYPE_CHECKING:
    from textual.app import App

    from tui.engine_pipe import Engine

# After SIGTERM or SIGHUP the app gets this long to close as q does. Past it, the trainer is
# stopped and the process ends: a terminal that hung up can leave Textual's closing wait
# for ever on the thread that writes to it (tests/test_e2e_tmux.py's SIGHUP case: 3 runs in 7).
SIGNAL_GRACE = 3.0


class EngineSession:
    """``engine``: a running engine, or None to start one with ``make_engine`` (after the
    app's first frame: tui.start). ``make_engine`` also makes a new one after a crash."""

    def __init__(self, app: App, engine: Engine | None, make_engine: Callable[[], Engine] | None):
        self.app = app
        self.engine = engine
        self.make_engine = make_engine
        self.stopped = False
        self.error: str | None = None  # why the trainer stopped, for the exit message
        self._link: EngineLink | None = None
        self._signals: list[int] = []

    @property
    def can_restart(self) -> bool:
        return self.make_engine is not None

    def start(self) -> None:
        """Connect the engine given, or start one; messages arrive as EngineMessages."""
        if self.engine is None and self.make_engine is not None:
            self.engine = self.make_engine()
        if self.engine is not None:
            self._connect()

    def _connect(self) -> None:
        assert self.engine is not None
        self._link = EngineLink(
            self.engine,
            lambda batch: self.app.post_message(EngineMessages(batch)),
            lambda: self.app.post_message(EngineClosed()),
        )
        self._link.attach()

    def send(self, command: Any) -> None:
        if self.engine is not None and not self.stopped:
            self.engine.send(command)

    def closed_reason(self) -> str:
        """Why the pipe closed, in words: the process is reaped to say how it ended."""
        process = getattr(self.engine, "process", None)
        if process is not None:
            process.join(0.3)
        code = getattr(process, "exitcode", None)
        detail = f" (exit code {code})" if code not in (None, 0) else ""
        return f"the trainer process ended unexpectedly{detail}"

    def stop(self, reason: str) -> bool:
        """Mark the trainer stopped; False if it already was."""
        if self.stopped:
            return False
        self.stopped = True
        self.error = reason
        self.detach()
        return True

    def failed(self, reason: str, *, at_start: bool, restarted: Callable[[], None]) -> bool:
        """The trainer stopped: say why, and offer a restart (or end the app, 2 if it never
        started, 1 after). False if it had stopped already."""
        if not self.stop(reason):
            return False

        def chosen(choice: str | None) -> None:
            if choice == "restart":
                self.restart()
                restarted()
            else:
                self.app.exit(return_code=2 if at_start else 1)

        from tui.screens.crash import TrainerStopped

        screen = TrainerStopped(reason, at_start=at_start, can_restart=self.can_restart)
        self.app.push_screen(screen, chosen)
        return True

    def restart(self) -> None:
        assert self.make_engine is not None
        if self.engine is not None:
            self.engine.stop()
        self.error = None
        self.stopped = False
        self.engine = self.make_engine()
        self._connect()

    def detach(self) -> None:
        if self._link is not None:
            self._link.detach()

    @property
    def save_dir(self) -> str | None:
        """The engine's save folder (where `s` saves), if it says."""
        return getattr(getattr(self.engine, "options", None), "save_dir", None)

    # --- signals ------------------------------------------------------------------------

    def install_signals(self) -> None:
        # SIGTERM, SIGHUP (the terminal went away) and SIGINT end the app like q does.
        self._signals = handle_signals(self._signalled)

    def uninstall_signals(self) -> None:
        self.detach()
        unhandle_signals(self._signals)

    def _signalled(self, sig: int) -> None:
        watchdog = threading.Timer(SIGNAL_GRACE, self._end_now, args=(128 + sig,))
        watchdog.daemon = True
        watchdog.start()
        self.app.exit(None, 128 + sig)

    def _end_now(self, code: int) -> None:
        if self.engine is not None:
            self.engine.stop()
        os._exit(code)


def handle_signals(callback: Callable[[int], None]) -> list[int]:
    """Call ``callback(signum)`` on the event loop for SIGTERM, SIGHUP and SIGINT; returns
    the signals it could take (none outside the main thread)."""
    loop = asyncio.get_running_loop()
    taken = []
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, callback, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        taken.append(sig)
    return taken


def unhandle_signals(signals: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.remove_signal_handler(sig)
