"""A long run does not fill the renderer's caches: what the soak's UI growth came from.

Rich and Textual keep module-wide caches keyed by each style and run of text drawn. Three
things kept them filling: the chart's text carried its position in its style (a new style
wherever the curve moved), the prediction pane coloured its loss with a colour per exact
value, and any new number cut at a cell adds a cut segment. The first two are bounded
here by what the panes draw; the caches by tui.term.render_caches' budgets.
"""

from __future__ import annotations

import math
from dataclasses import replace

from rich.segment import Segment
from stage_fixtures import until
from textual.geometry import Region

from tui.app import TrainTermApp
from tui.bounded_series import LossSeries
from tui.term import render_caches
from tui.widgets.common.formatting import LOSS_LEVELS
from tui.widgets.common.loss_plot import LossPlot
from tui.widgets.common.prediction import PredictionPane


def _fill_split_cache(count: int) -> None:
    """``count`` distinct cut segments. Rich caches the cut of a text with a character
    outside its one-cell fast path, like the "…" of the prediction pane's cropped context."""
    for n in range(count):
        Segment("…context " + str(n), None).split_cells(3)


def test_trim_empties_only_the_caches_over_budget():
    for cache, _ in render_caches.BUDGETS:
        cache.cache_clear()
    split_budget = dict((c.__name__, b) for c, b in render_caches.BUDGETS)["_split_cells"]
    _fill_split_cache(split_budget + 1)
    for n in range(10):
        Region(n, 0, 10, 1).intersection(Region(0, 0, 5, 1))
    assert render_caches.trim() == 1
    assert Segment._split_cells.cache_info().currsize == 0
    assert Region.intersection.cache_info().currsize == 10  # under its budget: kept


async def test_every_draw_keeps_the_caches_within_budget(fake_engine, recording):
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        fake_engine.feed(recording.ready)
        await until(pilot, lambda: app.first.ready is not None, "the ready message")
        _fill_split_cache(20_000)  # what a long run leaves behind
        fake_engine.feed(recording.reports[0])
        await until(pilot, lambda: app.first.drawn is not None, "the first draw")
        for cache, budget in render_caches.BUDGETS:
            assert cache.cache_info().currsize <= budget, cache


async def test_the_chart_draws_with_one_style_a_colour(fake_engine, recording):
    """Charts of 12 different curves use a handful of styles between them, none of which
    carries a position (Textual's render() gives each run of text one, for selection)."""
    app = TrainTermApp(fake_engine)
    styles = set()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.query(LossPlot), "the chart mounted")
        plot = app.query_one(LossPlot)
        plot._throttle.interval = 0
        for k in range(12):
            series = LossSeries()
            series.extend([(s, 3 + math.sin(s / (k + 2)) + k / 10) for s in range(1, 200)])
            chart = plot._chart
            plot.show(series)
            built = lambda c=chart: plot._chart is not c and not plot.building  # noqa: E731
            await until(pilot, built, "a new chart")
            lines = [plot.render_line(y) for y in range(plot.size.height)]
            styles |= {segment.style for line in lines for segment in line if segment.style}
    assert styles and not [s for s in styles if s.meta], "a chart style carries a position"
    assert len(styles) <= 8, styles


async def test_the_prediction_pane_colours_its_loss_in_steps(fake_engine, recording):
    """40 reports whose losses differ: the pane's loss colours are the chips' quantised ones."""
    app = TrainTermApp(fake_engine)
    colours = set()
    async with app.run_test(size=(120, 40)) as pilot:
        fake_engine.feed(recording.ready)
        await until(pilot, lambda: app.first.ready is not None, "the ready message")
        pane = app.query_one(PredictionPane)
        for n in range(40):
            loss = pane.max_loss * n / 40
            template = recording.reports[n % len(recording.reports)]
            row = tuple(replace(q, loss=loss, counts_in_loss=True) for q in template.row)
            report = replace(template, step=n + 1, row=row)
            fake_engine.feed(report)
            drawn = lambda r=report: app.first.drawn is not None and app.first.drawn.step == r.step  # noqa: E731
            await until(pilot, drawn, f"report {n}")
            await pilot.pause()
            pane._ensure()
            colours |= {
                segment.style.bgcolor
                for strip in pane._strips
                for segment in strip
                if segment.style and segment.style.bgcolor
            }
    # The pane's own background, and at most one colour a loss step.
    assert len(colours) <= LOSS_LEVELS + 2, len(colours)
