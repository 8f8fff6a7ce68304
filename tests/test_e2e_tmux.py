"""`trainterm` in a real terminal (tmux): keys in, screen text out, and nothing left behind.

Slow (each test starts the app and a trainer process), but run in CI.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from scenarios.schema import PRETRAIN_DEFAULTS

STEPS = PRETRAIN_DEFAULTS.steps

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent


class Tmux:
    """One detached tmux session on a private server socket."""

    def __init__(self, command: str, size=(80, 24)) -> None:
        self.socket = f"trainterm-test-{uuid.uuid4().hex[:8]}"
        self.name = "app"
        self.tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            f"cd {shlex.quote(str(ROOT))} && {command}",
        )
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )

    def screen(self, history: bool = False) -> str:
        start = ("-S", "-") if history else ()
        return self.tmux("capture-pane", "-p", "-J", *start, "-t", self.name).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def pane_pid(self) -> int:
        return int(self.tmux("display", "-p", "-t", self.name, "#{pane_pid}").stdout.strip())

    def dead(self) -> bool:
        return self.tmux("display", "-p", "-t", self.name, "#{pane_dead}").stdout.strip() == "1"

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared; the screen:\n{self.screen()}")

    def wait_dead(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.dead():
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not exit; the screen:\n{self.screen()}")
            time.sleep(0.1)

    def close(self) -> None:
        self.tmux("kill-server")


def children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def trainers(app: int) -> list[int]:
    """The app's children that are trainer processes (not multiprocessing's helpers)."""
    found = []
    for kid in children(app):
        try:
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                found.append(kid)
        except FileNotFoundError:
            continue
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(gone(p) for p in pids):
        if time.monotonic() > deadline:
            alive = [p for p in pids if not gone(p)]
            for p in alive:
                os.kill(p, signal.SIGKILL)
            raise AssertionError(f"processes left behind: {alive}")
        time.sleep(0.1)


@pytest.fixture
def app_command(corpus_file, tmp_path):
    env = f"TRAINTERM_CACHE={shlex.quote(str(tmp_path / 'cache'))}"
    args = f"--corpus {shlex.quote(str(corpus_file))} --seed 3 --save-dir {tmp_path / 'saves'}"
    return f"{env} exec {shlex.quote(sys.executable)} -m tui {args}"


@pytest.fixture
def session(app_command):
    tmux = Tmux(app_command)
    yield tmux
    tmux.close()


def step_of(screen: str) -> int:
    found = re.search(r"step (\d+)/\d+", screen)
    return int(found.group(1)) if found else -1


def engine_step(session: Tmux) -> int:
    """Ask the paused trainer for a sample (g); the step it says it sampled at."""
    seen = set(re.findall(r"Sample @ step (\d+)", session.screen()))
    session.keys("g")

    def fresh():
        new = set(re.findall(r"Sample @ step (\d+)", session.screen())) - seen
        return new.pop() if len(new) == 1 else None

    deadline = time.monotonic() + 30
    while (step := fresh()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no sample at a step other than {sorted(seen)}; the screen:\n{session.screen()}"
            )
        time.sleep(0.1)
    return int(step)


def test_keys_in_a_real_terminal_then_q_leaves_nothing_behind(session):
    session.wait_for(rf"paused .* step 0/{STEPS}", timeout=60)
    app = session.pane_pid()
    engine = trainers(app)
    assert len(engine) == 1, "the trainer runs in a child process"
    session.keys("space")
    session.wait_for(r"playing")
    deadline = time.monotonic() + 30
    while step_of(session.screen()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert step_of(session.screen()) >= 3
    session.keys("space")
    session.wait_for(r"paused")
    # The engine answers g after it has paused and sent every step it trained: the sample's
    # step is where it stopped, and the status line, drawn from those steps, settles there.
    before = engine_step(session)
    session.wait_for(rf"step {before}/{STEPS}")
    session.keys("n")
    session.wait_for(rf"step {before + 1}/{STEPS}")
    # n is one step, not one more drawn late: the engine says so too, and the screen agrees.
    assert engine_step(session) == before + 1
    assert step_of(session.screen()) == before + 1
    assert re.search(r"Batch · \d+ tokens", session.screen())
    assert "Next token @ pos" in session.screen()
    session.keys("?")
    session.wait_for("what you are looking at")
    session.keys("Escape")
    deadline = time.monotonic() + 5
    while "what you are looking at" in session.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "what you are looking at" not in session.screen()
    session.keys("q")
    session.wait_dead()
    wait_gone([app, *engine])
    assert "step" not in session.screen(), "the terminal is back to the shell's screen"


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_signals_end_the_app_and_its_trainer(session, how):
    session.wait_for(rf"paused .* step 0/{STEPS}", timeout=60)
    app = session.pane_pid()
    engine = trainers(app)
    assert len(engine) == 1, "the trainer runs in a child process"
    session.keys("space")
    session.wait_for(r"playing")
    if how == "SIGTERM":
        os.kill(app, signal.SIGTERM)
        session.wait_dead()
    else:
        session.tmux("kill-session", "-t", session.name)  # the terminal hangs up
    wait_gone([app, *engine])


def test_a_bad_corpus_is_refused_in_one_line_before_the_screen_opens(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    status = tmp_path / "status"
    command = (
        f"{shlex.quote(sys.executable)} -m tui --corpus {shlex.quote(str(empty))}; "
        f"echo EXIT=$? > {shlex.quote(str(status))}; sleep 30"
    )
    tmux = Tmux(command)
    try:
        deadline = time.monotonic() + 60
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status.read_text().strip() == "EXIT=2"
        shown = tmux.screen(history=True)
        errors = [line for line in shown.splitlines() if line.startswith("trainterm: error:")]
        assert len(errors) == 1 and "empty.txt" in errors[0] and "empty" in errors[0], shown
        assert "Traceback" not in shown
    finally:
        tmux.close()
