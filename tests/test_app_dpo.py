"""The Preference tab, driven by keys against a real engine process on a tiny scenario:
fine-tune in tab 2, choose the method and β in tab 3, run DPO, see its metrics and pairs."""

from __future__ import annotations

import math

import pytest
from stage_fixtures import later_tabs, start_engine, until

from tui.app import TrainTermApp
from tui.tabs.dpo import PreferenceView
from tui.tabs.sft import SFTView
from tui.widgets.later.dpo_metrics import MetricsPane
from tui.widgets.later.eval_table import EvalPane
from tui.widgets.later.pair_view import PairPane

pytestmark = pytest.mark.slow


@pytest.fixture
def engine(tmp_path, monkeypatch):
    handle = start_engine(tmp_path, monkeypatch, preference=True)
    yield handle
    handle.stop()


async def test_dpo_tab_trains_from_tab_2_with_the_chosen_settings(engine):
    app = TrainTermApp(engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        sft, dpo = app.query_one(SFTView), app.query_one(PreferenceView)
        await pilot.press("3")
        await until(pilot, lambda: dpo.base is not None, "the preference tab's offer")
        assert dpo.base.source == ""  # nothing fine-tuned yet: it says to fine-tune first
        await pilot.press("enter")
        assert not dpo.running

        await pilot.press("2")
        await until(pilot, lambda: sft.base is not None, "the fine-tuning offer")
        await pilot.press("enter")  # from tab 1's model as it is (step 0): allowed
        await until(pilot, lambda: sft.running, "fine-tuning to start")
        await pilot.press("space")
        await until(pilot, lambda: sft.state == "done", "fine-tuning to finish", 120)

        await pilot.press("3")
        await until(pilot, lambda: dpo.base is not None and dpo.base.source, "tab 2 offered")
        assert dpo.base.source == "tab"
        await pilot.press("m", "right_square_bracket")
        assert (dpo.method, dpo.beta) == ("dpo", 0.3)
        await pilot.press("enter")
        await until(pilot, lambda: dpo.running, "DPO to start")
        assert dpo.ready.settings.method == "dpo" and dpo.ready.settings.beta == 0.3
        await pilot.press("n")
        metrics = app.query_one(MetricsPane)
        await until(pilot, lambda: bool(metrics.metrics), "DPO's metrics")
        first = dict(metrics.metrics)
        assert first["dpo"] == pytest.approx(math.log(2), abs=1e-4)  # policy = reference
        assert "nll" not in first  # plain DPO, as chosen
        pairs = app.query_one(PairPane)
        assert len(pairs.pairs) == 4 and pairs.pairs[0].chosen
        await pilot.press("right")
        assert pairs.index == 1
        await pilot.press("space")
        await until(pilot, lambda: dpo.state == "done", "DPO to finish", 120)
        evals = app.query_one("#dpo-evals", EvalPane)
        await until(pilot, lambda: evals.now is not None and evals.now.step > 0, "evals after")
        assert any(r.key == "preference" for r in evals.now.rows)
        # Fine-tuning's tab is untouched by DPO: its finished run.
        assert sft.latest.step == sft.latest.total_steps
