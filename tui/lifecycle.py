"""The engine's life as the app sees it: connecting, a trainer that dies, a restart, and
the signals that end the app. A mixin of TrainTermApp."""

from __future__ import annotations

import os
import threading
from typing import Any

from model import protocol as p
from tui.link import EngineClosed, EngineLink, EngineMessages, handle_signals, unhandle_signals
from tui.screens.crash import TrainerStopped

# After SIGTERM or SIGHUP the app gets this long to close as q does. Past it, the trainer is
# stopped and the process ends: a terminal that hung up can leave Textual's closing wait
# for ever on the thread that writes to it (tests/test_e2e_tmux.py's SIGHUP case: 3 runs in 7).
SIGNAL_GRACE = 3.0


class EngineLifecycle:
    """Expects the host app to provide `engine`, `state`, `ready`, `error` and `_status`."""

    def _connect(self) -> None:
        assert self.engine is not None
        self._link = EngineLink(
            self.engine,
            lambda batch: self.post_message(EngineMessages(batch)),
            lambda: self.post_message(EngineClosed()),
        )
        self._link.attach()

    def send(self, command: Any) -> None:
        if self.engine is not None and self.state != "stopped":
            self.engine.send(command)

    def on_engine_closed(self, _: EngineClosed) -> None:
        if self.state == "stopped":
            return
        process = getattr(self.engine, "process", None)
        if process is not None:
            process.join(0.3)  # reap it, to say how it ended
        code = getattr(process, "exitcode", None)
        detail = f" (exit code {code})" if code not in (None, 0) else ""
        self._stopped(f"the trainer process ended unexpectedly{detail}")

    def _stopped(self, reason: str) -> None:
        if self.state == "stopped":
            return
        at_start = self.ready is None
        self.state = "stopped"
        self.error = reason
        if self._link is not None:
            self._link.detach()
        self._status()

        def chosen(choice: str | None) -> None:
            if choice == "restart":
                self._restart()
            else:
                self.exit(return_code=2 if at_start else 1)

        screen = TrainerStopped(reason, at_start=at_start, can_restart=self.make_engine is not None)
        self.push_screen(screen, chosen)

    def _restart(self) -> None:
        assert self.make_engine is not None
        if self.engine is not None:
            self.engine.stop()
        self.error = None
        self.ready = None
        self.state = "starting"
        self.engine = self.make_engine()
        self._connect()
        if self.speed is not None:
            self.send(p.SetSpeed(self.speed))
        self._draw()

    # --- signals ------------------------------------------------------------------------

    def _install_signals(self) -> None:
        # SIGTERM, SIGHUP (the terminal went away) and SIGINT end the app like q does.
        self._signals = handle_signals(self._signalled)

    def _signalled(self, sig: int) -> None:
        watchdog = threading.Timer(SIGNAL_GRACE, self._end_now, args=(128 + sig,))
        watchdog.daemon = True
        watchdog.start()
        self.exit(None, 128 + sig)

    def _end_now(self, code: int) -> None:
        if self.engine is not None:
            self.engine.stop()
        os._exit(code)

    def on_unmount(self) -> None:
        if self._link is not None:
            self._link.detach()
        unhandle_signals(self._signals)
