"""The loss pane: a sparkline of recent training loss with its current value, and a chart of
training and validation loss against step (redrawn at most twice a second)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import MountError
from textual.widgets import Static

from tui.bounded_series import LossSeries
from tui.widgets.common.spark import LossSpark

SPARK_POINTS = 120


class LossPane(Vertical):
    """Sparkline + current value on top, the chart below."""

    # What the line is of, beside its last value ("loss"; RLHF charts the reward model's score).
    value_label = "loss"
    # What the empty chart says it will show.
    placeholder = "train and validation loss\nappear here as training runs"

    DEFAULT_CSS = """
    LossPane #loss-line { height: 1; }
    LossPane LossSpark { width: 1fr; height: 1; }
    LossPane #loss-now { width: 25; padding: 0 0 0 1; }
    LossPane #plot, LossPane #plot-placeholder { height: 1fr; padding: 0 1 0 0; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="loss-line"):
            yield LossSpark(id="spark")
            yield Static("loss —", id="loss-now")
        yield Static("", id="plot-placeholder")

    def on_mount(self) -> None:
        self.border_title = "Loss"
        self.border_subtitle = "── train · ● validation"
        self._series: LossSeries | None = None
        # plotext is imported after the first frame: the screen appears sooner.
        self.call_after_refresh(self._mount_plot)

    async def _mount_plot(self) -> None:
        from tui.widgets.common.loss_plot import LossPlot

        plot = LossPlot(id="plot")
        try:
            await self.query_one("#plot-placeholder").remove()
            await self.mount(plot)
        except (MountError, NoMatches):  # the app is already closing
            return
        if self._series is not None:
            plot.show(self._series)

    def show(self, series: LossSeries) -> None:
        self.query_one(LossSpark).data = tuple(series.recent(SPARK_POINTS))
        last, val = series.last, series.last_val
        now = Text()
        now.append(f"{self.value_label} ", "dim")
        now.append("—" if last is None else f"{last:.3f}", "bold")
        if val is not None:
            now.append(f" val {val:.3f}", "dim")
        self.query_one("#loss-now", Static).update(now, layout=False)
        self._series = series
        for plot in self.query("#plot"):
            plot.show(series)
