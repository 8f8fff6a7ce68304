"""The recent training loss as one line of bars, low green, high red.

Drawn like Textual's Sparkline (mean of each column's points, stretched to the width), but
a bar's colour follows its height in eight steps instead of a blend per bar: neighbours of
one height share a style and go to the terminal as one run, a third of the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip

from tui.widgets.common.formatting import loss_rgb
from tui.widgets.common.lines import LinesWidget

BARS = "▁▂▃▄▅▆▇█"


def columns(data: Sequence[float], width: int) -> list[float]:
    """``width`` values: the means of ``data`` cut into that many runs (repeated when there
    are fewer points than columns)."""
    if not data or width <= 0:
        return []
    n = len(data)
    means = []
    for c in range(min(width, n)):
        lo, hi = c * n // min(width, n), (c + 1) * n // min(width, n)
        chunk = data[lo : max(hi, lo + 1)]
        means.append(sum(chunk) / len(chunk))
    return [means[c * len(means) // width] for c in range(width)]


def levels(data: Sequence[float], width: int) -> list[int]:
    values = columns(data, width)
    if not values:
        return []
    lo, hi = min(data), max(data)
    if hi <= lo:
        return [len(BARS) - 1] * width
    top = len(BARS) - 1
    return [max(0, min(top, int((v - lo) / (hi - lo) * top + 0.5))) for v in values]


@lru_cache(maxsize=len(BARS))
def _style(level: int) -> Style:
    return Style(color=Color.from_rgb(*loss_rgb(level, len(BARS) - 1)))


class LossSpark(LinesWidget):
    data: reactive[tuple[float, ...]] = reactive((), repaint=False)

    def watch_data(self) -> None:
        self.redraw()

    def build(self) -> list[Strip | Text]:
        width = self.size.width
        found = levels(self.data, width)
        if not found:
            return [Text(BARS[0] * width, "dim")]
        base = self.rich_style
        segments = [Segment(BARS[level], base + _style(level)) for level in found]
        return [Strip(segments).simplify()]
