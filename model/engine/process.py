"""The trainer's process: the screen's handle on it (start, send, stop) and its entry point.

Light at import time (torch loads inside the child), so the UI process can import it to
start the engine without pulling in torch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from dataclasses import replace
from multiprocessing.connection import Connection

from model import protocol as p
from model.engine.engine import Engine
from model.engine.options import EngineOptions


class EngineHandle:
    """The UI side of the engine: a process and the two ends of one pipe."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options  # the screen saves its own files (exports) where the engine does
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=engine_main, args=(child_conn, options), name="trainterm-engine", daemon=True
        )
        self.process.start()
        child_conn.close()

    def send(self, command) -> None:
        # A dead engine is noticed by the reader (EOF), not here.
        with contextlib.suppress(OSError):
            self.conn.send(command)

    def stop(self, timeout: float = 0.5) -> None:
        # A trainer that is still starting (importing torch, training its tokenizer) does
        # not read the pipe yet: after a short wait it is terminated; it holds nothing unsaved.
        self.send(p.Shutdown())
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()


def engine_main(conn: Connection, options: EngineOptions) -> None:
    # The terminal's ctrl+c and hangup belong to the UI; it ends us through the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Our standard output is the UI's: its screen (or, served to a browser, the framed
    # stream textual-serve reads). Anything a library prints goes to stderr instead.
    with contextlib.suppress(OSError):
        os.dup2(2, 1)
    try:
        from model.settings import DEFAULT_THREADS

        options = replace(options, threads=options.threads or DEFAULT_THREADS)
        Engine(conn, options).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    except Exception as e:  # noqa: BLE001 — the screen must hear why the trainer died
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        with contextlib.suppress(OSError):
            conn.send(p.EngineError(f"the trainer crashed: {reason}", fatal=True))
        os._exit(1)
