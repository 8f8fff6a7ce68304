"""Screenshots of tab 3 by RLHF, fed with messages recorded from a real tiny run (timings
fixed): the hand-off, and RL live at 80×24 and 120×40."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from stage_fixtures import (
    settle_view,
    train_sft_and_reward_model,
    until,
    write_preference,
    write_sft_scenario,
)

from model import protocol as p
from tui.app import TrainTermApp
from tui.views.rlhf import RLHFView


@dataclass(frozen=True)
class RLRecording:
    pretrain_ready: p.EngineReady
    base: p.BaseModel
    ready: p.EngineReady
    before: p.EvalTable
    reports: tuple[p.StepReport, ...]
    after: p.EvalTable


@pytest.fixture(scope="module")
def rl_recording(tmp_path_factory) -> RLRecording:
    from model.announce import ready_message
    from model.checkpoint import load_checkpoint
    from model.evals import run_evals
    from model.models import load_model
    from model.pipeline import new_trainer
    from scenarios import load_scenario

    folder = tmp_path_factory.mktemp("tiny-rl")
    write_sft_scenario(folder)
    write_preference(folder)
    scenario = load_scenario(folder)
    sft_path, rm_path = train_sft_and_reward_model(scenario, folder)
    pretrain = load_checkpoint(folder / "pt", scenario)  # its ready message opens the app
    rl = new_trainer(scenario, "rlhf", base=load_model(sft_path), reward=load_model(rm_path))
    tok, rm = rl.tokenizer, rl.data.reward_model
    before = run_evals(rl.model, tok, scenario, "rlhf", 0, reward_model=rm)
    reports = [
        replace(rl.step(), tokens_per_s=5000.0, step_seconds=0.02) for _ in range(rl.settings.steps)
    ]
    after = run_evals(rl.model, tok, scenario, "rlhf", rl.state.step, reward_model=rm)
    offer = p.BaseModel("rlhf", "cache", 8, 8, 1.5, "cache", rl.data.describe(),
                        reward_model="cache", reward_accuracy=0.92)  # fmt: skip
    ready = replace(ready_message(rl), starts_from="sft step 8/8, the cached run")
    return RLRecording(ready_message(pretrain), offer, ready, before, tuple(reports), after)


def fed(fake_engine, rec: RLRecording, running: bool = True) -> TrainTermApp:
    fake_engine.feed(rec.pretrain_ready, rec.base)
    if running:
        fake_engine.feed(rec.ready, rec.before, *rec.reports, rec.after)
    return TrainTermApp(fake_engine)


async def show_rlhf(pilot, app) -> None:
    await pilot.press("3", "m", "m")
    assert app.rlhf_shown


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
