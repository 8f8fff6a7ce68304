"""Screenshots of tab 3 by RLHF, fed with messages recorded from a real tiny run (timings
fixed; tests/record.py): the hand-off, and RL live at 80×24 and 120×40; and a run trained
now, checked by what its screen must say rather than by pixels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import record
from recorded import load
from stage_fixtures import settle_view, until
from test_app_snapshots import drawn_text

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.rlhf import RLHFView
from tui.widgets.common.status import StatusBar
from tui.widgets.later.rl_samples import flat


@dataclass(frozen=True)
class RLRecording:
    pretrain_ready: p.EngineReady
    base: p.BaseModel
    ready: p.EngineReady
    before: p.EvalTable
    reports: tuple[p.StepReport, ...]
    after: p.EvalTable


@pytest.fixture(scope="module")
def rl_recording() -> RLRecording:
    """A real tiny run fine-tuned, a reward model, then RL against it, recorded by
    tests/record.py (``rlhf``)."""
    return RLRecording(**load("rlhf"))


def fed(fake_engine, rec: RLRecording, running: bool = True) -> TrainTermApp:
    fake_engine.feed(rec.pretrain_ready, rec.base)
    if running:
        fake_engine.feed(rec.ready, rec.before, *rec.reports, rec.after)
    return TrainTermApp(fake_engine)


async def show_rlhf(pilot, app) -> None:
    await pilot.press("3", "m", "m")
    assert app.tab.id == "rlhf-view"


def test_rlhf_hand_off_80x24(snap_compare, fake_engine, rl_recording):
    app = fed(fake_engine, rl_recording, running=False)

    async def run_before(pilot):
        await show_rlhf(pilot, app)
        await until(pilot, lambda: app.query_one(RLHFView).base is not None, "the offer")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_rlhf_live(snap_compare, fake_engine, rl_recording, size):
    app = fed(fake_engine, rl_recording)

    async def run_before(pilot):
        await show_rlhf(pilot, app)
        await settle_view(pilot, app, RLHFView, "#rlhf-evals")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_an_rl_run_trained_now_shows_its_last_report(fake_engine, tmp_path):
    """RL trained here against a reward model trained here, with whatever numbers this
    torch computes: the screen says what the last report says, each sampled answer with
    the score and the advantage it earned."""
    live = RLRecording(**record.rlhf(tmp_path))
    last = live.reports[-1]
    app = fed(fake_engine, live)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_rlhf(pilot, app)
        await settle_view(pilot, app, RLHFView, "#rlhf-evals")
        status = app.query_one(StatusBar).render().plain
        assert f"step {last.step}/{last.total_steps}" in status
        # RL's loss says little: the line shows the batch's reward-model score instead.
        assert f"RM score {dict(last.metrics)['score']:.3f}" in status
        shown = drawn_text(app.query_one("#rlhf-samples"))
        assert flat(last.rl.prompt) in shown
        rows = shown.splitlines()
        for sample in last.rl.samples:
            figures = (f"{sample.score:+.2f}", f"{sample.kl:.1f}", f"{sample.advantage:+.2f}")
            assert any(all(f in row for f in figures) for row in rows), (sample, shown)
