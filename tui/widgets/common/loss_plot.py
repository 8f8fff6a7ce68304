"""The chart of training and validation loss against step (textual-plotext)."""

from __future__ import annotations

import contextlib
import threading
from functools import partial

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual_plotext import PlotextPlot

from tui.bounded_series import LossSeries
from tui.term.throttle import Throttle
from tui.widgets.common.lines import text_strip

CHART_INTERVAL = 0.5  # the chart redraws at most twice a second
OTHER_COLOURS = ("magenta", "green")
PLACEHOLDER = "train and validation loss\nappear here as training runs"


class LossPlot(PlotextPlot):
    """Train (line) and validation (dots) loss against step. Plotext builds the chart in a
    thread: the event loop keeps drawing the other panes meanwhile.

    The chart is drawn line by line from its own strips, not through ``render``: Textual
    gives every run of text it renders from a widget's ``render`` a style of its own that
    carries the run's position (for text selection), and the renderer's style caches
    (``Strip.render_ansi``, ``Style._add``, …) keep one entry per such style. The curve
    moves over the chart's few thousand positions as training goes, so those caches grew
    by ~1 KB an entry for tens of thousands of steps (the soak's UI growth). Drawn from
    plain strips, the chart has one style per colour."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._series: LossSeries | None = None
        self._throttle = Throttle(self, CHART_INTERVAL, self._replot)
        self._chart: Text | None = None
        # The chart's lines as strips, and what they were made for: (chart, width, style).
        self._strips: list[Strip] = []
        self._strips_for: tuple[Text, int, Style] | None = None
        self._lock = threading.Lock()
        self.building = 0  # charts being built right now
        # Builds run in worker threads and may finish out of order (a resize's and a
        # throttled one's): a chart older than the one shown is dropped, not drawn over it.
        self._requested = 0
        self._shown = 0

    def show(self, series: LossSeries) -> None:
        self._series = series
        self._throttle.request()

    def on_resize(self) -> None:
        self._replot()

    def _replot(self) -> None:
        series = self._series
        width, height = self.size
        if series is None or not series.train or width < 12 or height < 4:
            self._requested += 1
            self._shown = self._requested  # no chart: nor any still being built
            self._chart = None
            self.refresh()
            return
        columns = max(2, 2 * width)  # braille: two dots a cell
        train, val = series.chart_train(columns), series.chart_val(columns)
        other = series.chart_other(columns)
        theme = self._get_plotext_theme_name(self.app.theme)
        self.building += 1
        self._requested += 1
        self.run_worker(
            partial(self._build, self._requested, train, val, other, width, height, theme),
            thread=True,
            group="plot",
            exit_on_error=False,
        )

    def _build(self, number: int, train, val, other, width: int, height: int, theme: str) -> None:
        try:
            with self._lock:
                plt = self.plt
                plt.clear_data()
                xs, ys = train
                plt.plot(xs, ys, marker="braille", color="cyan")
                if val[0]:
                    plt.scatter(*val, marker="●", color="orange")
                for (_, oxs, oys), color in zip(other, OTHER_COLOURS, strict=False):
                    if oxs:
                        plt.scatter(oxs, oys, marker="◆", color=color)
                # Alone, or all alike, the points would get plotext's ±50 % axis (9.4 … 3.1
                # round one loss of 6.25): a narrow band round them says what they are.
                values = [*ys, *val[1], *(y for _, _, oys in other for y in oys)]
                lo, hi = min(values), max(values)
                if hi - lo < 0.05 * max(abs(hi), 1.0):
                    pad = 0.05 * max(abs(hi), 1.0)
                    plt.ylim(lo - pad, hi + pad)
                else:
                    plt.ylim(None, None)  # plotext keeps limits across clear_data
                last = max(int(xs[-1]), 1)
                plt.xlim(0, last)
                ticks = sorted({round(last * i / 4) for i in range(5)})
                plt.xticks(ticks, [str(t) for t in ticks])
                plt.xlabel("step" if height >= 10 else "")
                plt.grid(False, False)
                plt.plotsize(width, height)
                plt._set_size(width, height)
                plt.theme(theme)
                chart = Text.from_ansi(plt.build(), no_wrap=True, end="")
        except Exception:  # noqa: BLE001 - a chart that fails to draw must not end the app
            chart = None
        with contextlib.suppress(Exception):  # the app may be closing
            self.app.call_from_thread(self._built, number, chart)

    def _built(self, number: int, chart: Text | None) -> None:
        self.building -= 1
        if number < self._shown:
            return
        self._shown = number
        self._chart = chart
        self.refresh()

    def render(self):
        if self._chart is None:
            return Text(getattr(self.parent, "placeholder", PLACEHOLDER), "dim")
        return self._chart

    def render_line(self, y: int) -> Strip:
        chart = self._chart
        if chart is None:  # the hint: Textual's own way, it never changes
            return super().render_line(y)
        strips = self.chart_strips(chart)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.rich_style)

    def chart_strips(self, chart: Text) -> list[Strip]:
        """``chart``'s lines as strips of the pane's width (made once per chart)."""
        width, base = self.size.width, self.rich_style
        made = self._strips_for
        if made is None or made[0] is not chart or made[1:] != (width, base):
            console = self.app.console
            self._strips = [text_strip(line, width, base, console) for line in chart.split()]
            self._strips_for = (chart, width, base)
        return self._strips
