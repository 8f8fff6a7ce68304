"""L — the scaling experiment on screen: the last `trainterm scaling` report (its table, the
fitted law, the log–log charts, the compute-optimal size and the caveats), read from the
scaling.txt that command writes, and `r` runs the experiment again in a process of its own.

A projector-sized view of the same numbers the command prints: the screen never fits or
trains anything itself, so what it shows is exactly what the command measured."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

# `trainterm scaling`'s default --out, from where the app was started, as the command's.
DEFAULT_FOLDER = Path("runs/scaling")
REPORT = "scaling.txt"
# One thread: the app's own trainer keeps the other core.
COMMAND = ("scaling", "--threads", "1")


def ago(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def source_of(options) -> tuple[str, ...]:
    """The app engine's --corpus or --scenario (EngineOptions; None for a stand-in engine)."""
    if getattr(options, "corpus", None):
        return ("--corpus", options.corpus)
    if getattr(options, "scenario", None):
        return ("--scenario", options.scenario)
    return ()


class ScalingScreen(ModalScreen[None]):
    AUTO_FOCUS = "ScrollableContainer"  # ↑ ↓ ← → scroll a report wider or taller than this
    BINDINGS = [
        Binding("escape,L", "close", "close"),
        Binding("r", "run", "run it again"),
        Binding("i", "app.save_screen", "screenshot"),
    ]

    def __init__(self, source: tuple[str, ...] = (), folder: Path = DEFAULT_FOLDER) -> None:
        """``source``: the app's own --scenario or --corpus, for the command to train on."""
        super().__init__()
        self.source = source
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.failure = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -scaling"):
            yield Static("Scaling: loss against model size", classes="dialog-title")
            yield Static(id="scaling-state")
            with ScrollableContainer():
                yield Static(id="scaling-report")
            yield Static(id="scaling-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        state = self.query_one("#scaling-state", Static)
        body = self.query_one("#scaling-report", Static)
        keys = self.query_one("#scaling-keys", Static)
        path = self.folder / REPORT
        text = self._read(path)
        if self.process is not None:
            state.update(
                f"Running `trainterm {' '.join(COMMAND)} --out {self.folder}`: five sizes, about "
                "1½ minutes on two quiet cores, longer while this app trains. The report "
                "appears here when it is done."
            )
        elif self.failure:
            state.update(f"The experiment failed: {self.failure}")
        elif text is None:
            state.update(
                f"No experiment yet in {self.folder}/. Press r to run one: five model sizes "
                "from 23 k to 1.3 M parameters, each trained on the same tokens of this "
                "scenario's corpus, then L(N) = a·N^−α + c fitted through their losses. "
                f"(Or run `trainterm scaling` in a shell; it writes {path}.)"
            )
        else:
            age = ago(time.time() - path.stat().st_mtime)
            state.update(
                f"The last `trainterm scaling` run ({path}, {age}, scenario "
                f"{self._scenario()}): each size trained on "
                "the same tokens; the smaller the loss, the better the model predicts the "
                "next token. r runs it again."
            )
        body.update(text or "")
        keys.update("↑ ↓ ← → scroll · r run again · i screenshot · esc close")

    def _scenario(self) -> str:
        try:
            return str(json.loads((self.folder / "scaling.json").read_text("utf-8"))["scenario"])
        except (OSError, ValueError, KeyError, TypeError):
            return "unknown"

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def action_close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            self.app.notify("Scaling experiment stopped: it runs only while its screen is open.")
        self.dismiss()

    def action_run(self) -> None:
        if self.process is None:
            self.failure = ""
            self._experiment()

    @work(exclusive=True, group="scaling")
    async def _experiment(self) -> None:
        command = [sys.executable, "-m", "tui", *COMMAND, *self.source, "--out", str(self.folder)]
        env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        self.show()
        _, err = await self.process.communicate()
        code, self.process = self.process.returncode, None
        if code != 0 and code is not None and code > 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            self.failure = lines[-1] if lines else f"exit code {code}"
        if self.is_attached:
            self.show()
