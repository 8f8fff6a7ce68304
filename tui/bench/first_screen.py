"""`trainterm bench-ui`'s first frame: the app against a bare Textual app, side by side.

Both are launched the same way (this interpreter, ``-m module``, the same environment and
working folder) in a 120×40 pseudo-terminal, and timed from the launch until 3 lines of the
screen hold something other than blanks. The launches alternate, in one run, and which goes
first alternates too: on a shared machine a busy second is spread over both. The ratio of the
medians is what the app's start-up costs beyond Textual's own.
"""

from __future__ import annotations

import codecs
import re
import statistics
import time

from tui.bench.launch import PtyApp

SIZE = (120, 40)
LINES = 3  # drawn lines that make a first screen
BARE = "tui.bench.bare_app"

# Escape sequences: a control sequence (CSI), an OSC, a DCS-like string, or a short one.
ESCAPE = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[PX^_][^\x1b]*\x1b\\"
    r"|\x1b[ -/]*[0-OQ-WYZ\\`-~]"
)
TEXT = re.compile(r"([\x00-\x1a\x1c-\x1f\x7f])|([^\x00-\x1f\x7f]+)")


class ScreenRows:
    """Which rows of a terminal hold visible text, followed from the output stream as it
    comes (a read may cut an escape sequence or a character in two). Enough of a terminal
    for what a full-screen app writes: cursor moves, line feeds, clearing the screen."""

    def __init__(self, height: int) -> None:
        self.height = height
        self.row = 1
        self.drawn: set[int] = set()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        pos = 0
        while pos < len(text):
            if text[pos] != "\x1b":
                match = TEXT.match(text, pos)
                control, printable = match.groups()
                if control == "\n":
                    self._move(self.row + 1)
                elif printable is not None and printable.strip():
                    self.drawn.add(self.row)
            elif match := ESCAPE.match(text, pos):
                self._escape(*match.groups())
            elif len(text) - pos < 256:
                self._pending = text[pos:]  # cut off by the read: the rest comes next time
                return
            else:
                pos += 1  # not a sequence this knows: skip the escape character
                continue
            pos = match.end()

    def _escape(self, params: str | None, final: str | None) -> None:
        if final is None:
            return  # not a control sequence: nothing that moves the cursor or draws
        first = int(params.split(";")[0]) if params.split(";")[0].isdigit() else 0
        if final in "Hfd":
            self._move(first or 1)
        elif final in "AF":
            self._move(self.row - (first or 1))
        elif final in "BE":
            self._move(self.row + (first or 1))
        elif final == "J" and first in (2, 3):
            self.drawn.clear()
        elif final in "hl" and params.startswith("?") and "1049" in params.split(";")[0]:
            self.drawn.clear()  # to or from the alternate screen: a blank one

    def _move(self, row: int) -> None:
        self.row = max(1, min(self.height, row))


def first_screen(module: str, argv: list[str], timeout: float = 60.0) -> float:
    """Seconds from launching ``python -m module`` until LINES rows are drawn."""
    app = PtyApp(argv, size=SIZE, module=module)
    screen = ScreenRows(SIZE[1])
    try:
        seen = 0
        deadline = app.started + timeout
        while len(screen.drawn) < LINES:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{module}: {LINES} lines were never drawn")
            app.read(0.01)
            screen.feed(bytes(app.output[seen:]))
            seen = len(app.output)
        return app.marks[-1][0] - app.started
    finally:
        app.close()


def side_by_side(argv: list[str], count: int) -> tuple[list[float], list[float]]:
    """``count`` launches of each, alternated: (the app's times, the bare app's times)."""
    ours: list[float] = []
    bare: list[float] = []
    for module in ("tui", BARE):  # untimed: both start with the files read and compiled
        first_screen(module, argv if module == "tui" else [])
    for i in range(count):
        for module in ("tui", BARE) if i % 2 == 0 else (BARE, "tui"):
            took = first_screen(module, argv if module == "tui" else [])
            (ours if module == "tui" else bare).append(took)
    return ours, bare


def report(ours: list[float], bare: list[float]) -> str:
    ms = lambda times: ", ".join(f"{1000 * t:.0f}" for t in times)  # noqa: E731
    app, yardstick = statistics.median(ours), statistics.median(bare)
    return (
        f"first screen, 120×40   trainterm {1000 * app:.0f} ms · bare Textual app "
        f"{1000 * yardstick:.0f} ms = {app / yardstick:.2f}× (target ≤ 1.5; medians of "
        f"{len(ours)} alternated launches: {ms(ours)} · {ms(bare)} ms)"
    )
