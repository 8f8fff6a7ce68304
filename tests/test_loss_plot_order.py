"""The loss chart builds in worker threads, which may finish out of order (a resize's build
and a throttled one's): the chart shown is the one asked for last, never an older one that
finished later. Such a stale chart once made a screenshot differ under load."""

from __future__ import annotations

import asyncio
import threading

from textual.app import App, ComposeResult

from tui.bounded_series import LossSeries
from tui.widgets.common.loss_plot import LossPlot


class PlotApp(App):
    def compose(self) -> ComposeResult:
        yield LossPlot()


async def wait_for(pilot, condition, what: str) -> None:
    async def polled():
        while not condition():
            await pilot.pause(0.02)

    try:
        await asyncio.wait_for(polled(), timeout=60)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


def series_to(last: int) -> LossSeries:
    series = LossSeries()
    series.extend([(s, 5 - s / last) for s in range(1, last + 1)])
    return series


async def test_a_build_that_finishes_late_does_not_replace_a_newer_chart(monkeypatch):
    first_may_finish = threading.Event()
    held: list[int] = []  # the number of the build held back
    build = LossPlot._build

    def held_build(self, number, *args):
        if number in held:  # the older build: held until the newer one has been drawn
            first_may_finish.wait(timeout=60)
        build(self, number, *args)

    monkeypatch.setattr(LossPlot, "_build", held_build)
    app = PlotApp()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(LossPlot)
        await wait_for(pilot, lambda: not plot.building, "the first layout's builds done")
        held.append(plot._requested + 1)
        plot._series = series_to(30)
        plot._replot()  # held: the steps up to 30
        plot._series = series_to(90)
        plot._replot()  # up to 90
        await wait_for(pilot, lambda: plot.building == 1, "the newer chart built")
        newest = plot._chart
        assert newest is not None and "90" in newest.plain
        first_may_finish.set()
        await wait_for(pilot, lambda: not plot.building, "the older chart built")
        assert plot._chart is newest, "the older chart, finished last, was drawn over the newer"


async def test_no_chart_is_not_overwritten_by_a_build_still_running(monkeypatch):
    """Cleared (the series emptied, say on a reset) while a build runs: the chart stays
    cleared."""
    may_finish = threading.Event()
    build = LossPlot._build

    def held_build(self, *args):
        may_finish.wait(timeout=60)
        build(self, *args)

    monkeypatch.setattr(LossPlot, "_build", held_build)
    app = PlotApp()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(LossPlot)
        plot._series = series_to(30)
        plot._replot()
        plot._series = LossSeries()
        plot._replot()
        may_finish.set()
        await wait_for(pilot, lambda: not plot.building, "the build done")
        assert plot._chart is None
