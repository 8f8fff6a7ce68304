"""Screenshots of the Preference tab, fed with messages recorded from a real tiny DPO run
(timings fixed): the hand-off with its choices, and the live run at 80×24 and 120×40."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from stage_fixtures import settle_view, until, write_preference, write_sft_scenario

from model import protocol as p
from tui.app import TrainTermApp
from tui.views.preference import PreferenceView


@dataclass(frozen=True)
class DPORecording:
    pretrain_ready: p.EngineReady
    base: p.BaseModel
    ready: p.EngineReady
    before: p.EvalTable
    reports: tuple[p.StepReport, ...]
    after: p.EvalTable


@pytest.fixture(scope="module")
def dpo_recording(tmp_path_factory) -> DPORecording:
    from model.announce import ready_message
    from model.checkpoint import save_checkpoint
    from model.evals import run_evals
    from model.models import load_model
    from model.pipeline import new_trainer, run_headless
    from scenarios import load_scenario

    folder = tmp_path_factory.mktemp("tiny-dpo")
    write_sft_scenario(folder)
    write_preference(folder)
    scenario = load_scenario(folder)
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    save_checkpoint(pretrain, folder / "pretrain")
    sft = new_trainer(scenario, "sft", base=load_model(folder / "pretrain"))
    run_headless(sft)
    save_checkpoint(sft, folder / "sft")
    dpo = new_trainer(scenario, "dpo", base=load_model(folder / "sft"))
    tok = dpo.tokenizer
    before = run_evals(dpo.model, tok, scenario, "dpo", 0, preference=dpo.data)
    reports = [
        replace(dpo.step(), tokens_per_s=5000.0, step_seconds=0.02)
        for _ in range(dpo.settings.steps)
    ]
    after = run_evals(dpo.model, tok, scenario, "dpo", dpo.state.step, preference=dpo.data)
    offer = p.BaseModel("dpo", "cache", 8, 8, 1.5, "cache", dpo.data.describe())
    ready = replace(ready_message(dpo), starts_from="sft step 8/8, the cached run")
    return DPORecording(ready_message(pretrain), offer, ready, before, tuple(reports), after)


def fed(fake_engine, rec: DPORecording, running: bool = True) -> TrainTermApp:
    fake_engine.feed(rec.pretrain_ready, rec.base)
    if running:
        fake_engine.feed(rec.ready, rec.before, *rec.reports, rec.after)
    return TrainTermApp(fake_engine)


async def settle(pilot, app) -> None:
    await settle_view(pilot, app, PreferenceView, "#dpo-evals")


def test_preference_hand_off_80x24(snap_compare, fake_engine, dpo_recording):
    app = fed(fake_engine, dpo_recording, running=False)

    async def run_before(pilot):
        await pilot.press("3")
        await until(pilot, lambda: app.query_one(PreferenceView).base is not None, "the base")
        await pilot.press("m", "left_square_bracket")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_preference_live(snap_compare, fake_engine, dpo_recording, size):
    app = fed(fake_engine, dpo_recording)

    async def run_before(pilot):
        await pilot.press("3")
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
