"""RLHF in tab 3, driven by keys against a real engine process on a tiny scenario: m
switches to RLHF, enter trains the reward model live, enter again runs RL, whose sampled
answers, metrics, reward chart and gold row fill in."""

from __future__ import annotations

import pytest
from stage_fixtures import later_tabs, start_engine, until

from tui.app import TrainTermApp
from tui.tabs.rlhf import RLHFView
from tui.tabs.sft import SFTView
from tui.widgets.later.eval_table import EvalPane
from tui.widgets.later.rl_metrics import RLMetricsPane
from tui.widgets.later.rl_samples import SamplesPane

pytestmark = pytest.mark.slow


@pytest.fixture
def engine(tmp_path, monkeypatch):
    handle = start_engine(tmp_path, monkeypatch, preference=True)
    yield handle
    handle.stop()


async def test_rlhf_trains_a_reward_model_then_the_policy_in_tab_3(engine):
    app = TrainTermApp(engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        sft, rl = app.query_one(SFTView), app.query_one(RLHFView)
        await pilot.press("2")
        await until(pilot, lambda: sft.base is not None, "the fine-tuning offer")
        await pilot.press("enter")
        await until(pilot, lambda: sft.running, "fine-tuning to start")
        await pilot.press("space")
        await until(pilot, lambda: sft.state == "done", "fine-tuning to finish", 120)

        await pilot.press("3", "m", "m")  # DPO+NLL → plain DPO → RLHF
        assert (app.tab.id == "rlhf-view") and app.tab is rl
        await until(pilot, lambda: rl.base is not None and rl.base.source, "RLHF's offer")
        assert rl.base.reward_model == ""  # no reward model yet: enter trains one first
        await pilot.press("o")  # the experiment needs a reward model: refused, said why
        assert not rl.running
        await pilot.press("enter")
        await until(pilot, lambda: rl.running and rl.phase == "reward-model", "the RM run")
        await pilot.press("space")
        await until(pilot, lambda: rl.state == "done", "the reward model to finish", 120)
        metrics = app.query_one(RLMetricsPane)
        assert metrics.phase == "reward-model" and "accuracy" in dict(metrics.metrics)
        evals = app.query_one("#rlhf-evals", EvalPane)
        await until(pilot, lambda: evals.now is not None, "the reward model's evals")
        assert evals.now.rows[0].key == "preference"

        one_up = rl.BETAS[rl.BETAS.index(rl.beta) + 1]
        await pilot.press("right_square_bracket")  # β is chosen before RL starts
        await pilot.press("enter")
        await until(pilot, lambda: rl.phase == "rlhf" and rl.running, "RL to start")
        assert rl.ready.settings.beta == one_up
        await pilot.press("n")
        samples = app.query_one(SamplesPane)
        await until(pilot, lambda: samples.view is not None, "the sampled answers")
        assert len(samples.view.samples) == 3
        assert sum(s.advantage for s in samples.view.samples) == pytest.approx(0, abs=1e-4)
        assert metrics.phase == "rlhf" and "kl" in dict(metrics.metrics)
        await pilot.press("space")
        await until(pilot, lambda: rl.state == "done", "RL to finish", 120)
        await until(pilot, lambda: evals.now is not None and evals.now.step == 4, "evals after")
        keys = [r.key for r in evals.now.rows]
        assert "gold" in keys and "reward" in keys
        assert rl.series.last_other("gold") is not None and rl.series.last_val is not None

        await pilot.press("m")  # back to DPO: its own, untouched hand-off
        assert app.tab.id != "rlhf-view" and not app.tab.running
