"""The loop's optimizer box and the Model pane name the run's optimizer: a scenario that
pretrains with Muon (the world) does not show AdamW."""

from __future__ import annotations

from dataclasses import replace

from stage_fixtures import later_tabs, until

from tui.app import TrainTermApp
from tui.widgets.pretrain.loop_diagram import LoopDiagram

MUON = "Muon + AdamW β=(0.9, 0.95) wd 0.1"


async def shown(fake_engine, recording, size: tuple[int, int]) -> tuple[str, str]:
    """The loop diagram's lines and the Model pane's, a Muon run three steps in."""
    fake_engine.feed(replace(recording.ready, optimizer=MUON), *recording.reports[:3])
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=size) as pilot:
        await later_tabs(pilot)
        diagram = app.query_one(LoopDiagram)
        model = app.query_one("ModelPane")
        await until(pilot, lambda: diagram.optimizer == "Muon", "the run's optimizer")
        await until(pilot, lambda: model.report is not None, "a step in the Model pane")
        await pilot.pause()
        return "\n".join(diagram.lines()), "\n".join(model.lines())


async def test_the_loop_names_muon_where_labels_are_short(fake_engine, recording):
    loop, _ = await shown(fake_engine, recording, (80, 24))
    assert "Muon" in loop and "AdamW" not in loop, loop


async def test_the_model_pane_names_muon_and_adamw(fake_engine, recording):
    _, model = await shown(fake_engine, recording, (160, 60))
    assert MUON in model, model
