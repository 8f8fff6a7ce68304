"""The app launched for the benchmarks as a user launches it: the source flags passed on, and
``python -m module`` in a pseudo-terminal whose output is read as it comes. bench-ui, its
first-screen race and the soak launch through here, and bench-serve passes the same flags.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

STEP = re.compile(rb"step (\d+)/\d+")


def source_args(args) -> list[str]:
    out = []
    if args.scenario:
        out += ["--scenario", args.scenario]
    if args.corpus:
        out += ["--corpus", args.corpus]
    if args.threads:
        out += ["--threads", str(args.threads)]
    if args.seed is not None:
        out += ["--seed", str(args.seed)]
    return out


class PtyApp:
    """`trainterm` (or another ``python -m module``) in a pseudo-terminal of a given size,
    its output read as it comes."""

    def __init__(
        self, argv: list[str], size=(120, 40), env: dict | None = None, module: str = "tui"
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        environment = {**os.environ, "TERM": "xterm-256color", **(env or {})}
        # The app as a user runs it, its modules' bytecode cached: where the shell says not
        # to write it, every launch compiled the app's ~40 modules again (the bare app's 1).
        for name in ("COLORTERM", "NO_COLOR", "TEXTUAL", "PYTHONDONTWRITEBYTECODE"):
            environment.pop(name, None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self.marks: list[tuple[float, int]] = []  # (time, bytes so far)

    def read(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk
            self.marks.append((time.perf_counter(), len(self.output)))

    def wait_for(self, pattern: bytes, timeout: float = 60.0) -> float:
        deadline = time.perf_counter() + timeout
        while pattern not in self.output:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{pattern!r} never appeared")
            self.read(0.01)
        return self.marks[-1][0]

    def last_step(self) -> int | None:
        found = STEP.findall(self.output[-20000:])
        return int(found[-1]) if found else None

    def press(self, key: bytes) -> None:
        os.write(self.master, key)

    def close(self) -> int | None:
        self.press(b"q")
        try:
            deadline = time.perf_counter() + 10
            while self.process.poll() is None and time.perf_counter() < deadline:
                self.read(0.05)
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(5)
        finally:
            os.close(self.master)
        return self.process.returncode
