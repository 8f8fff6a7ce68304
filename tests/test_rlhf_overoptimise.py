"""`o` in tab 3's RLHF method, the over-optimisation experiment: RL with β 0 and lr 1e-4.
The key sends those values, and the engine trains RL with them."""

from __future__ import annotations

import pytest
from engine_fixtures import engine_in_process
from stage_fixtures import later_tabs, until, write_preference, write_sft_scenario

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.rlhf import OVEROPTIMISE_BETA, OVEROPTIMISE_LR, RLHFView
from tui.widgets.later.handoff import HandoffBody


def test_the_experiment_is_beta_0_and_lr_1e_4():
    # What the README and the tab's hint promise; the tests below check they are what is sent.
    assert (OVEROPTIMISE_BETA, OVEROPTIMISE_LR) == (0.0, 1e-4)


def rlhf_offer(reward_model: str) -> p.BaseModel:
    return p.BaseModel(
        "rlhf", "cache", 300, 300, 1.2, "/cache/sft", "prompts", reward_model=reward_model,
        reward_accuracy=0.9 if reward_model else None,
    )  # fmt: skip


async def open_rlhf(pilot, app) -> RLHFView:
    await later_tabs(pilot)
    await pilot.press("3", "m", "m")  # DPO+NLL → plain DPO → RLHF
    rl = app.query_one(RLHFView)
    assert app.tab is rl
    await until(pilot, lambda: rl.base is not None, "RLHF's offer")
    return rl


async def test_o_starts_rl_with_beta_0_and_lr_1e_4(fake_engine, recording):
    fake_engine.feed(recording.ready, rlhf_offer(reward_model="cache"))
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(100, 34)) as pilot:
        rl = await open_rlhf(pilot, app)
        await pilot.press("right_square_bracket")  # a β chosen before: the experiment's wins
        assert rl.beta != 0
        sent = len(fake_engine.sent)
        await pilot.press("o")
        assert fake_engine.sent[sent:] == [p.StartStage("rlhf", beta=0.0, lr=1e-4)]
        assert "β 0 (nothing holds it near" in str(rl.query_one(HandoffBody).choices)


async def test_o_without_a_reward_model_starts_nothing(fake_engine, recording):
    fake_engine.feed(recording.ready, rlhf_offer(reward_model=""))
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_rlhf(pilot, app)
        sent = len(fake_engine.sent)
        await pilot.press("o")
        assert fake_engine.sent[sent:] == []


@pytest.mark.parametrize(
    ("command", "beta", "lr"),
    [
        (p.StartStage("rlhf", beta=0.0, lr=1e-4), 0.0, 1e-4),
        (p.StartStage("rlhf"), None, None),  # enter: the scenario's own
    ],
    ids=["o", "enter"],
)
def test_the_engine_trains_rl_with_the_values_it_was_sent(tmp_path, monkeypatch, command, beta, lr):
    from model.engine.options import EngineOptions
    from model.pipeline import ensure_stage
    from model.settings import DEFAULT_THREADS
    from scenarios import load_scenario

    folder = tmp_path / "tiny"
    folder.mkdir()
    write_sft_scenario(folder)
    write_preference(folder)
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    scenario = load_scenario(folder)
    ensure_stage(scenario, "reward-model")  # and the fine-tuned model it starts from
    own = scenario.settings("rlhf")
    assert (own.beta, own.lr) != (0.0, 1e-4)
    options = EngineOptions(str(folder), threads=DEFAULT_THREADS, save_dir=str(tmp_path / "s"))
    with engine_in_process(options) as (engine, received):
        assert engine._build()
        engine._handle(p.Activate("rlhf"))
        engine._handle(command)
        trainer = engine.runs["rlhf"]
        expected_beta = own.beta if beta is None else beta
        expected_lr = own.lr if lr is None else lr
        assert trainer.data.beta == expected_beta  # the KL weight in every reward
        assert trainer.settings.warmup_steps == 1  # so step 1 trains at the peak lr
        engine._handle(p.Step(1))
        engine._step()
    readies = [m for m in received if isinstance(m, p.EngineReady) and m.stage == "rlhf"]
    assert len(readies) == 1
    assert (readies[0].settings.beta, readies[0].settings.lr) == (expected_beta, expected_lr)
    report = next(m for m in received if isinstance(m, p.StepReport) and m.stage == "rlhf")
    assert report.step == 1 and report.lr == pytest.approx(expected_lr)
