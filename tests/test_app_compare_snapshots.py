"""Screenshots of the Compare tab at 80×24 and 120×40, fed with the answers of three real
tiny checkpoints (worked out here as the engine works them out, model.compare), a token of
the DPO column selected; the clock is fixed, so "answered in" does not depend on the machine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from compare_fixtures import cache_at, trained_scenario
from stage_fixtures import until

from model import protocol as p
from tui.app import TrainTermApp
from tui.views.compare import CompareView


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """The engine's messages for the app's first ask (id 1, the app's sampler), and the
    pretraining run's EngineReady."""
    from model.announce import ready_message
    from model.compare import column, prompts_for
    from model.pipeline import new_trainer
    from scenarios import load_scenario

    folder = trained_scenario(tmp_path_factory.mktemp("compare-snap"))
    with cache_at(folder / "cache"):
        scenario = load_scenario(folder)
        ready = ready_message(new_trainer(scenario, "pretrain"))
        engine = SimpleNamespace(runs={}, scenario=scenario, options=SimpleNamespace(fresh=False))
        ask = p.CompareAsk(1, p.APP_SAMPLER)
        rows = prompts_for(scenario)
        columns = [column(engine, stage, rows, ask) for stage in p.COMPARE_STAGES]
    prompts = p.ComparePrompts(1, tuple((name, text) for name, _, text in rows))
    return ready, prompts, tuple(columns)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_compare_tab(snap_compare, fake_engine, answers, size):
    ready, prompts, columns = answers
    fake_engine.feed(ready)
    app = TrainTermApp(fake_engine, clock=lambda: 100.0)

    async def run_before(pilot):
        await pilot.press("4")
        assert fake_engine.sent[-1] == p.CompareAsk(1, app.sampler)
        fake_engine.feed(prompts, *columns)
        view = app.query_one(CompareView)
        await until(pilot, lambda: not view.busy, "the answers on screen", timeout=20)
        await pilot.press("tab", "tab", "right", "right", "down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
