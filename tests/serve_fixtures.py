"""A real `trainterm serve` on a free loopback port, and how to see what it left running."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tui.serve import process_groups as procs
from tui.serve.server import QUIT_GRACE, TERM_GRACE

URL = re.compile(r"open (http://127\.0\.0\.1:\d+)")
# The longest a leaving session holds its seat by the server's own clock (Session.stop: the
# quit grace, then up to TERM_GRACE each for the group to empty, after SIGTERM, after
# SIGKILL, the process reaped, its output read), and a minute for a loaded machine.
LEAVING_DEADLINE = QUIT_GRACE + 5 * TERM_GRACE + 60.0


def wait_until(condition, what: str, timeout: float = 90.0, every: float = 0.05):
    """Poll ``condition`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"never happened within {timeout:.0f} s: {what}")


class Served:
    """`python -m tui serve --port 0 …` in its own process group; its output kept."""

    def __init__(self, *args: str, cwd: Path, warm: bool = False, env: dict | None = None):
        argv = [sys.executable, "-m", "tui", "serve", "--port", "0", *args]
        if not warm:
            argv.append("--no-warm")
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )  # fmt: skip
        self.output = ""
        self.url = self.wait_for(URL, "the server to listen").group(1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.process.stdout.fileno(), 65536)
        self.output += chunk.decode("utf-8", "replace")
        return bool(chunk)

    def wait_for(self, pattern: re.Pattern | str, what: str, timeout: float = 180.0):
        deadline = time.monotonic() + timeout
        pattern = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        while not (found := pattern.search(self.output)):
            if time.monotonic() > deadline or (
                not self.read(min(1.0, deadline - time.monotonic()))
                and self.process.poll() is not None
            ):
                raise AssertionError(f"{what}: not seen; the server said:\n{self.output}")
        return found

    def sessions(self) -> list[procs.Proc]:
        """The visitors' app processes (each leads its session's process group)."""
        return [p for p in procs.children(self.pid) if p.pid == p.pgid]

    def everything(self) -> list[procs.Proc]:
        """Every process the server started, however far down, or in a session's group."""
        mine = {p.pid: p for p in procs.descendants(self.pid)}
        for leader in list(mine.values()):
            mine.update({p.pid: p for p in procs.group(leader.pgid)})
        return list(mine.values())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(10)
        while self.read(0):
            pass
        return self.process.returncode


def session_processes(leader: int) -> list[procs.Proc]:
    return procs.group(leader)


def engine_of(leader: int) -> procs.Proc | None:
    """The trainer of the session led by ``leader`` (multiprocessing's spawned child)."""
    for p in procs.group(leader):
        if p.pid != leader and b"spawn_main" in cmdline(p.pid):
            return p
    return None


def cmdline(pid: int) -> bytes:
    return procs.cmdline(pid)


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode("utf-8", "replace") for k, v in pairs}
