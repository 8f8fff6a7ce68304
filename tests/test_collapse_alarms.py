"""RL's collapse alarms: the signs the RLHF stage watches (answers identical, looping on a
phrase, KL past 40 nats), each raised only after three steps running; the engine stopping on
one; and the app pausing the run and saying what to change."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from engine_fixtures import engine_in_process
from stage_fixtures import (
    later_tabs,
    train_sft_and_reward_model,
    until,
    write_preference,
    write_sft_scenario,
)

from model import protocol as p
from model.stages.rlhf import COLLAPSE_STEPS, KL_LIMIT, RLHFStage, _loops, collapse_message
from tui.app import TrainTermApp
from tui.tabs.rlhf import RLHFView
from tui.widgets.later.rl_metrics import RLMetricsPane


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("collapse")
    write_sft_scenario(folder)
    write_preference(folder)
    return folder


@pytest.fixture(scope="module")
def scenario(folder):
    from scenarios import load_scenario

    return load_scenario(folder)


@pytest.fixture
def stage(scenario):
    """The RLHF stage of the tiny scenario, around an untrained model: its detector needs no
    trained one."""
    from model.gpt import GPT
    from model.pipeline import model_config, scenario_tokenizer, stage_settings

    config = model_config(scenario)
    tokenizer = scenario_tokenizer(scenario, config.vocab_size)
    config = replace(config, vocab_size=tokenizer.n_vocab)
    settings = stage_settings(scenario, "rlhf", beta=0.05)
    return RLHFStage(
        scenario.preference_pairs, tokenizer, config.context, settings, GPT(config), None
    )


def batch(*, distinct: float = 1.0, repeats: float = 0.0, kl: float = 0.0):
    """What the detector reads of a step's batch; the KL is per answer (three answers)."""
    return SimpleNamespace(distinct=distinct, repeats=repeats, kl=torch.full((3,), kl))


def watch(stage, batches) -> list[str]:
    """The alarm said after each step."""
    said = []
    for b in batches:
        stage._watch(b)
        said.append(stage.alarm())
    return said


def test_a_looping_phrase_is_three_times_the_same_three_tokens():
    assert _loops((5, 6, 7) * 3)
    assert _loops((1, 2, 5, 6, 7, 5, 6, 7, 9, 5, 6, 7))  # anywhere in the answer
    assert not _loops((5, 6, 7) * 2 + (5, 6))  # twice and a bit is not yet a loop
    assert not _loops(tuple(range(30)))
    assert not _loops(())


def test_half_the_answers_looping_three_steps_running_raises_the_alarm(stage):
    said = watch(stage, [batch(repeats=0.5)] * COLLAPSE_STEPS)
    assert said == ["", "", collapse_message("repeats", 0.05)]
    assert "loop on a phrase" in said[-1] and "β (now 0.05)" in said[-1]
    assert stage.alarm() == "", "said once"


def test_looping_that_stops_before_three_steps_raises_nothing(stage):
    looping, fine = batch(repeats=1.0), batch(repeats=0.4)
    assert watch(stage, [looping, looping, fine, looping, looping, fine]) == [""] * 6
    # And counting starts again after an alarm.
    assert watch(stage, [looping] * 3)[-1] and watch(stage, [looping] * 2) == ["", ""]


@pytest.mark.parametrize(
    ("kl", "alarm"), [(KL_LIMIT + 0.5, True), (KL_LIMIT, False), (KL_LIMIT - 10, False)]
)
def test_kl_past_40_nats_three_steps_running_raises_the_alarm(stage, kl, alarm):
    assert KL_LIMIT == 40
    said = watch(stage, [batch(kl=kl)] * COLLAPSE_STEPS)
    expected = collapse_message("kl", 0.05) if alarm else ""
    assert said == ["", "", expected]
    if alarm:
        assert "passed 40 nats" in said[-1]


def test_identical_answers_are_a_collapse_of_their_own(stage):
    said = watch(stage, [batch(distinct=0.0)] * COLLAPSE_STEPS)
    assert said[-1] == collapse_message("identical", 0.05)
    assert watch(stage, [batch(distinct=0.01)] * COLLAPSE_STEPS) == [""] * 3


# --- the engine stops on one --------------------------------------------------------------


def test_the_engine_stops_playing_at_the_step_that_raised_an_alarm(folder, tmp_path):
    from model.engine.options import EngineOptions
    from model.settings import DEFAULT_THREADS

    options = EngineOptions(str(folder), threads=DEFAULT_THREADS, save_dir=str(tmp_path))
    with engine_in_process(options) as (engine, received):
        assert engine._build()
        trainer = engine.trainer
        # Pretraining never collapses: this run says it does at step 3.
        trainer.data.alarm = lambda: "collapsed" if trainer.state.step == 3 else ""
        engine._handle(p.Play())
        for _ in range(10):
            if not engine.playing:
                break
            engine._step()
        assert not engine.playing and trainer.state.step == 3
    reports = [m for m in received if isinstance(m, p.StepReport)]
    assert reports[-1].step == 3 and reports[-1].alarm == "collapsed", "flushed at once"


# --- the app pauses on one ----------------------------------------------------------------


@pytest.fixture(scope="module")
def collapsing_run(scenario, tmp_path_factory):
    """A real RL run that collapses: its EngineReady, its steps before the alarm, and the
    step that raised it (every answer identical, the policy forced onto one token)."""
    from model.engine.ready_message import ready_message
    from model.loaded_model import load_model
    from model.pipeline import new_trainer

    sft, reward = train_sft_and_reward_model(scenario, tmp_path_factory.mktemp("models"))
    trainer = new_trainer(scenario, "rlhf", base=load_model(sft), reward=load_model(reward))
    ready = ready_message(trainer)
    token = trainer.data.tokenizer.encode(" a")[0]

    def one_token(module, args, logits):
        return logits + 100.0 * torch.nn.functional.one_hot(torch.tensor(token), logits.shape[-1])

    trainer.model.head.register_forward_hook(one_token)
    reports = [trainer.step(display=True) for _ in range(COLLAPSE_STEPS)]
    assert [bool(r.alarm) for r in reports] == [False] * (COLLAPSE_STEPS - 1) + [True]
    return ready, reports[:-1], reports[-1]


async def test_the_app_pauses_the_run_and_says_what_to_change(
    fake_engine, recording, collapsing_run
):
    ready, before, alarmed = collapsing_run
    fake_engine.feed(recording.ready)
    app = TrainTermApp(fake_engine)
    notes: list = []
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        app.notify = lambda message, **kw: notes.append((kw.get("title"), message))
        await pilot.press("3", "m", "m")  # DPO+NLL → plain DPO → RLHF
        rl = app.query_one(RLHFView)
        assert app.tab is rl
        fake_engine.feed(ready, *before)
        await until(pilot, lambda: rl.latest == before[-1], "RL's steps before the alarm")
        await pilot.press("space")
        assert fake_engine.sent[-1] == p.Play() and rl.state == "playing"

        fake_engine.feed(alarmed)
        await until(pilot, lambda: rl.latest == alarmed, "the step that raised the alarm")
        assert rl.state == "paused"
        assert ("Run paused", alarmed.alarm) in notes
        assert alarmed.alarm == collapse_message("identical", ready.settings.beta)
        metrics = app.query_one(RLMetricsPane)
        await until(pilot, lambda: metrics.note == alarmed.alarm, "the reason beside the metrics")
        # Paused, not playing: space plays on (where a playing run's space would pause it).
        await pilot.press("space")
        assert fake_engine.sent[-1] == p.Play() and rl.state == "playing"
