"""The chart of training and validation loss against step (textual-plotext)."""

from __future__ import annotations

import contextlib
import threading
from functools import partial

from rich.text import Text
from textual_plotext import PlotextPlot

from tui.history import LossSeries
from tui.throttle import Throttle

CHART_INTERVAL = 0.5  # the chart redraws at most twice a second
OTHER_COLOURS = ("magenta", "green")
PLACEHOLDER = "train and validation loss\nappear here as training runs"


class LossPlot(PlotextPlot):
    """Train (line) and validation (dots) loss against step. Plotext builds the chart in a
    thread: the event loop keeps drawing the other panes meanwhile."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._series: LossSeries | None = None
        self._throttle = Throttle(self, CHART_INTERVAL, self._replot)
        self._chart: Text | None = None
        self._lock = threading.Lock()
        self.building = 0  # charts being built right now

    def show(self, series: LossSeries) -> None:
        self._series = series
        self._throttle.request()

    def on_resize(self) -> None:
        self._replot()

    def _replot(self) -> None:
        series = self._series
        width, height = self.size
        if series is None or not series.train or width < 12 or height < 4:
            self._chart = None
            self.refresh()
            return
        columns = max(2, 2 * width)  # braille: two dots a cell
        train, val = series.chart_train(columns), series.chart_val(columns)
        other = series.chart_other(columns)
        theme = self._get_plotext_theme_name(self.app.theme)
        self.building += 1
        self.run_worker(
            partial(self._build, train, val, other, width, height, theme),
            thread=True,
            group="plot",
            exit_on_error=False,
        )

    def _build(self, train, val, other, width: int, height: int, theme: str) -> None:
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
            self.app.call_from_thread(self._built, chart)

    def _built(self, chart: Text | None) -> None:
        self.building -= 1
        self._chart = chart
        self.refresh()

    def render(self):
        if self._chart is None:
            return Text(getattr(self.parent, "placeholder", PLACEHOLDER), "dim")
        return self._chart
