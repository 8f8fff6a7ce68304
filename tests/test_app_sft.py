"""The fine-tuning tab, driven by keys against a real engine process on a tiny scenario:
fast-forward stage 1, start fine-tuning, see the mask, the evals and the probes."""

from __future__ import annotations

import pytest
from stage_fixtures import SFT_SCENARIO, later_tabs, start_engine, until, write_sft_scenario

from model.engine.options import EngineOptions
from model.engine.process import EngineHandle
from tui.app import TrainTermApp
from tui.screens.why import WhyScreen
from tui.tabs.sft import SFTView
from tui.widgets.common.token_stream import TokenStream
from tui.widgets.later.eval_table import EvalPane
from tui.widgets.later.handoff import HandoffPane
from tui.widgets.later.probes import ProbePane

pytestmark = pytest.mark.slow


@pytest.fixture
def engine(tmp_path, monkeypatch):
    handle = start_engine(tmp_path, monkeypatch)
    yield handle
    handle.stop()


async def test_fast_forward_then_fine_tune_live(engine):
    app = TrainTermApp(engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        view = app.query_one(SFTView)
        await pilot.press("2")
        await until(pilot, lambda: view.base is not None, "the base model offer")
        assert view.base.source == "tab" and view.base.step == 0
        await pilot.press("space")  # nothing to play yet: it says why, sends nothing
        assert not view.running

        await pilot.press("f")
        await until(pilot, lambda: view.base.source == "cache", "fast-forward into the cache")
        # Tab 1's chart filled as stage 1 ran, every loss point of it.
        assert [s for s, _ in app.first.series.train] == list(range(1, 13))
        assert view.base.step == view.base.total_steps == 12

        await pilot.press("enter")
        await until(pilot, lambda: view.running, "fine-tuning to start")
        evals = app.query_one(EvalPane)
        await until(pilot, lambda: evals.before is not None, "the evals before training")
        assert {r.key for r in evals.before.rows} >= {"format", "finetuned", "pretrain_only"}
        probes = app.query_one(ProbePane)
        await until(pilot, lambda: probes.answers is not None, "the probes")
        name, prompt, base, now = probes.answers.rows[0]
        assert prompt == "Capital of Tarsk?" and isinstance(base, str)

        await pilot.press("n")
        stream = app.query_one("#sft-stream", TokenStream)
        await until(pilot, lambda: bool(stream.row), "a fine-tuning batch on screen")
        # The mask is shown: the prompt's positions do not count, the answer's do.
        assert not stream.row[0].counts_in_loss and any(p.counts_in_loss for p in stream.row)

        await pilot.press("space")
        await until(pilot, lambda: view.state == "done", "fine-tuning to finish", 120)
        await until(pilot, lambda: evals.now is not None and evals.now.step > 0, "evals after")
        assert view.series.other.get("pretrain val"), "pretraining val loss on the chart"
        assert probes.answers.step > 0
        await pilot.press("v")
        assert app.query_one("#sft-side").current == "sft-probes"
        # w here: the fine-tuned model answers a probe, and the view says why each token.
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), "the why view")
        sample = app.screen.sample
        assert sample.stage == "sft" and sample.prompt == "Capital of Tarsk?"
        assert sample.choices and sample.sampler == app.sampling.sampler
        await pilot.press("escape")
        # Tab 1 is untouched by fine-tuning: still its finished run.
        await pilot.press("1")
        assert app.first.latest.stage == "pretrain" and app.first.latest.step == 12


# Stage 1 long enough that a fast-forward is still running when esc comes, however loaded the
# machine: 100,000 steps.
LONG_PRETRAINING = SFT_SCENARIO.replace("steps = 12", "steps = 100000", 1)


async def test_esc_cancels_a_fast_forward(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    write_sft_scenario(tmp_path, LONG_PRETRAINING)
    handle = EngineHandle(EngineOptions(scenario=str(tmp_path), save_dir=str(tmp_path / "s")))
    app = TrainTermApp(handle)
    try:
        async with app.run_test(size=(100, 34)) as pilot:
            await later_tabs(pilot)
            view = app.query_one(SFTView)
            pane = view.query_one(HandoffPane)
            await pilot.press("2")
            await until(pilot, lambda: view.base is not None, "the base model offer")
            await pilot.press("f")
            await until(pilot, lambda: pane.has_class("-forwarding"), "the fast-forward")
            await until(pilot, lambda: app.first.latest is not None, "stage 1's first steps")
            assert app.first.state == "playing"

            await pilot.press("escape")
            await until(pilot, lambda: not view.base.fast_forwarding, "the cancel")
            assert not pane.has_class("-forwarding") and app.first.state == "paused"
            assert view.base.source == "tab" and 0 < view.base.step < 100_000
            # Stage 1 stopped there: by the answer to a later command, no step beyond it.
            stopped = view.base.step
            await pilot.press("1", "g")
            await until(pilot, lambda: app.first.samples, "a sample after the cancel")
            assert app.first.latest.step == stopped
    finally:
        handle.stop()
