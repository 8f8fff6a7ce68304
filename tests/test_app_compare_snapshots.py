"""Screenshots of the Compare tab at 80×24 and 120×40, fed with the answers of three real
tiny checkpoints (worked out here as the engine works them out,
model.engine.compare_answers), a token of the DPO column selected; the clock is fixed, so
"answered in" does not depend on the machine. The answers are recorded (tests/record.py);
one more ask is worked out now and checked by what the screen must say, not by pixels."""

from __future__ import annotations

import pytest
import record
from recorded import load
from stage_fixtures import until

from model import protocol as p
from tui.app import TrainTermApp
from tui.runs import compare_name
from tui.tabs.compare import CompareView
from tui.widgets.compare.compare_grid import CompareGrid


@pytest.fixture(scope="module")
def answers():
    """The engine's messages for the app's first ask (id 1, the app's sampler) to three real
    tiny checkpoints, and the pretraining run's EngineReady: recorded by tests/record.py."""
    recorded = load("compare")
    return recorded["ready"], recorded["prompts"], recorded["columns"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_compare_tab(snap_compare, fake_engine, answers, size):
    ready, prompts, columns = answers
    fake_engine.feed(ready)
    app = TrainTermApp(fake_engine, clock=lambda: 100.0)

    async def run_before(pilot):
        await pilot.press("4")
        assert fake_engine.sent[-1] == p.CompareAsk(1, app.sampling.sampler)
        fake_engine.feed(prompts, *columns)
        view = app.query_one(CompareView)
        await until(pilot, lambda: not view.busy, "the answers on screen", timeout=20)
        await pilot.press("tab", "tab", "right", "right", "down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_answers_worked_out_now_are_shown_under_their_models(fake_engine, tmp_path):
    """Three checkpoints trained here and asked now, with whatever this torch computes:
    each column is headed by its model and the run it comes from, each prompt is shown."""
    live = record.compare(tmp_path)
    fake_engine.feed(live["ready"])
    app = TrainTermApp(fake_engine, clock=lambda: 100.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        fake_engine.feed(live["prompts"], *live["columns"])
        view = app.query_one(CompareView)
        await until(pilot, lambda: not view.busy, "the answers on screen", timeout=20)
        await pilot.pause()
        names, states, *body = app.query_one(CompareGrid).lines()
        answered = [c for c in live["columns"] if not c.missing]
        assert [c.stage for c in answered] == ["pretrain", "sft", "dpo"]
        for column in live["columns"]:
            assert compare_name(column.stage) in names
        for column in answered:
            assert f"cache · {column.step}/{column.total_steps}" in states, column.stage
        name, prompt = live["prompts"].prompts[0]
        assert f"{name}: {prompt}" in body[0]
