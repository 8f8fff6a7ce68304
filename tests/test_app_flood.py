"""20,000 reports flooded at the screen: redraws stay throttled and memory stays flat."""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import replace

from stage_fixtures import until

from tui.app import DRAW_INTERVAL, TrainTermApp
from tui.bounded_series import MAX_POINTS, RATE_SAMPLES

REPORTS = 20_000
PER_REPORT = 20  # loss points a coalesced report carries (a fast headless run's)
TOTAL = REPORTS * PER_REPORT
STEP_WAIT, REDRAW_WAIT = 240.0, 60.0  # deadlines of each of the three parts' two waits


def flood(recording, first: int, last: int) -> list:
    """Reports ``first`` … ``last - 1``, each carrying PER_REPORT loss points and a
    validation point every tenth; one in a hundred carries the full batch row and figures."""
    out = []
    for i in range(first, last):
        step = (i + 1) * PER_REPORT
        losses = tuple((s, 3.0 + (s % 7) / 10) for s in range(step - PER_REPORT + 1, step + 1))
        template = recording.reports[i % len(recording.reports)]
        report = replace(
            template,
            step=step,
            total_steps=TOTAL + 1,
            loss=losses[-1][1],
            losses=losses,
            val_losses=((step, 3.2),) if i % 10 == 0 else (),
            val_loss=3.2 if i % 10 == 0 else None,
        )
        if i % 100:
            report = replace(report, row=(), figures=None)
        out.append(report)
    return out


async def test_a_flood_of_reports_keeps_redraws_and_memory_bounded(fake_engine, recording):
    parts = [(0, 18_000), (18_000, 19_000), (19_000, REPORTS)]
    floods = [flood(recording, a, b) for a, b in parts]
    app = TrainTermApp(fake_engine)
    draws = []

    async def consumed(part: int) -> None:
        fake_engine.feed(*floods[part])
        step = parts[part][1] * PER_REPORT
        at_step = f"step {step}"
        await until(
            pilot, lambda: app.first.latest and app.first.latest.step == step, at_step, STEP_WAIT
        )
        drawn = "the last redraw"
        await until(pilot, lambda: app._draw_throttle._timer is None, drawn, REDRAW_WAIT)
        gc.collect()

    async with app.run_test(size=(120, 40)) as pilot:
        drawn = app._draw_throttle.callback

        def counted() -> None:
            draws.append(time.monotonic())
            drawn()

        app._draw_throttle.callback = counted
        fake_engine.feed(replace(recording.ready, total_steps=TOTAL + 1))
        await until(pilot, lambda: app.first.ready is not None, "the ready message")
        await consumed(0)
        # Traced from here: by the second mark every block the histories hold was allocated
        # under the trace, so what they let go of counts too.
        tracemalloc.start()
        try:
            await consumed(1)
            before, _ = tracemalloc.get_traced_memory()
            await consumed(2)
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    # Redraws are counted against reports, not seconds, so a slow machine cannot hide one
    # draw a report (20,000). The flood ends within its waits' deadlines, 3 × (240 + 60) s,
    # and a throttle drawing at most once per DRAW_INTERVAL draws 9,001 times in that at
    # most: a couple of hundred here.
    assert 1 + 3 * (STEP_WAIT + REDRAW_WAIT) / DRAW_INTERVAL < REPORTS / 2
    assert len(draws) < REPORTS / 2, len(draws)
    gaps = [b - a for a, b in zip(draws, draws[1:], strict=False)]
    assert min(gaps) >= DRAW_INTERVAL * 0.9, "two redraws closer than the throttle allows"
    # Every history is bounded, the newest points exact.
    series = app.first.series
    assert len(series.train) <= MAX_POINTS and len(series.val) <= MAX_POINTS
    assert len(app.first.rate.samples) <= RATE_SAMPLES and len(app.first.samples) <= 4
    newest = [s for s, _ in series.train[-MAX_POINTS // 2 :]]
    assert newest == list(range(TOTAL - MAX_POINTS // 2 + 1, TOTAL + 1))
    # Memory flat: the last 1,000 reports (20,000 loss points, ~1.7 MB if each were kept)
    # leave the UI's Python heap where the previous 1,000 left it, but for the histories'
    # saw-tooth as their older halves are merged.
    assert after - before < 600_000, f"the UI's heap grew by {after - before:,} bytes"
