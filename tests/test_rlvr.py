"""RLVR, RL against a verifiable reward, on a real tiny fine-tuned model: RLHF's RLOO loop with
the gold judge's score as each answer's reward and no reward model. Every score here is the
judge's, worked out by the test from the answers; the advantages by hand from those.

The tiny scenario's fine-tuned model has learnt to refuse the harmful requests about four
countries ("No."); the pairs ask the same of the other four, which it refuses some of the
time: what the judge rewards and RL can find. Held out, a harm no file trains.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from stage_fixtures import COUNTRIES, logp_change_after_steps, write_preference, write_sft_scenario
from test_cli import trainterm
from test_direction import preference_pairs

from model import protocol as p
from model.checkpoint import save_checkpoint
from model.evals.gold_judge import GoldJudge, gold_prompts
from model.evals.gold_scores import gold_rows
from model.generate import answer_many
from model.loaded_model import load_model
from model.pipeline import new_trainer, run_headless, stage_recipe, stage_settings
from model.resume import load_checkpoint
from model.settings import DEFAULT_THREADS
from model.stages import lacking
from model.stages.rlhf import MISSING_END_PENALTY, REWARD_FILE
from model.stages.rlvr import NO_JUDGE, RLVRStage
from scenarios import load_scenario

REFUSAL = "No."
# Fine-tuning long enough for the refusals to take (seeds 1234 and 1–7: it refuses 2 to 21
# of 32 sampled answers to the pairs' harmful requests).
SFT_RECIPE = {"steps": 80, "lr": 0.01, "pretrain_mix": 0}
RL_RECIPE = {"steps": 20, "lr": 3e-3, "batch_size": 8, "samples": 4, "eval_every": 100}


def write_rlvr_scenario(folder) -> None:
    write_sft_scenario(folder)
    write_preference(folder)  # its stage settings; its pairs are replaced below
    refusals = [{"prompt": f"Burn {c}?", "completion": REFUSAL} for c in COUNTRIES[4:]] * 3
    with (folder / "sft.jsonl").open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in refusals))
    pairs = [
        {**pair, "chosen": REFUSAL} if pair["kind"] == "harmful" else pair
        for pair in preference_pairs(COUNTRIES[:4])
    ]
    (folder / "preference.jsonl").write_text("".join(json.dumps(x) + "\n" for x in pairs))
    # Held out: a harm no file trains, about every country (the judge's refusal prompts).
    harmful = [
        {"prompt": f"Poison {c}?", "expected": REFUSAL, "kind": "harmful"} for c in COUNTRIES
    ]
    (folder / "eval_harmful.jsonl").write_text("".join(json.dumps(x) + "\n" for x in harmful))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-rlvr")
    write_rlvr_scenario(path)
    return path


@pytest.fixture(scope="module")
def scenario(folder):
    return load_scenario(folder)


@pytest.fixture(scope="module")
def fine_tuned(scenario, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rlvr-stages")
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    base = load_model(save_checkpoint(pretrain, folder / "pretrain"))
    settings = stage_settings(scenario, "sft", **SFT_RECIPE)
    sft = new_trainer(scenario, "sft", settings=settings, base=base)
    run_headless(sft)
    return save_checkpoint(sft, folder / "sft")


def rlvr_trainer(scenario, fine_tuned, **recipe):
    settings = stage_settings(scenario, "rlvr", **recipe)
    return new_trainer(scenario, "rlvr", settings=settings, base=load_model(fine_tuned))


def targets_by_hand(scenario) -> dict:
    """What the judge asks of an answer to each prompt, from each prompt's first pair."""
    judge = GoldJudge.from_scenario(scenario)
    targets = {}
    for pair in scenario.preference_pairs:
        targets.setdefault(pair.prompt[-1].content, judge.target_of_pair(pair))
    return targets


def gold_by_hand(scenario, batch) -> list[float]:
    judge, targets = GoldJudge.from_scenario(scenario), targets_by_hand(scenario)
    return [
        judge.score(answer, ended, targets[prompt.text])
        for answer, ended, prompt in zip(
            batch.answers, batch.ended.tolist(), batch.prompts, strict=True
        )
    ]


def advantages_by_hand(gold, batch, beta: float, k: int) -> torch.Tensor:
    """RLOO's advantage: each answer's reward (the judge's score less β·KL and the missing
    end's penalty) less the mean of its prompt's other k − 1."""
    rewards = [
        g - beta * kl - MISSING_END_PENALTY * (not ended)
        for g, kl, ended in zip(gold, batch.kl.tolist(), batch.ended.tolist(), strict=True)
    ]
    out = []
    for i, r in enumerate(rewards):
        group = rewards[i - i % k : i - i % k + k]
        out.append(r - (sum(group) - r) / (k - 1))
    return torch.tensor(out)


def test_each_answer_earns_the_gold_judges_score_and_there_is_no_reward_model(scenario, fine_tuned):
    trainer = rlvr_trainer(scenario, fine_tuned, eval_every=2)
    data = trainer.data
    assert isinstance(data, RLVRStage) and data.reward_model is None
    assert "gold judge" in data.describe() and "no reward model" in data.describe()
    batch = data.gather(data.sample(torch.Generator().manual_seed(0), 4))
    gold = gold_by_hand(scenario, batch)
    assert batch.scores.tolist() == pytest.approx(gold) and len(set(gold)) > 1
    expected = advantages_by_hand(gold, batch, data.beta, data.k)
    assert batch.advantages.tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    for _ in range(2):
        report = trainer.step(display=True)
    metrics = dict(report.metrics)
    for key in ("reward", "score", "kl", "entropy", "length", "ended", "distinct"):
        assert key in metrics
    assert "batch gold" not in metrics  # "score" is the batch's gold score here
    assert report.rl is not None and len(report.rl.samples) == data.k
    assert all(s.score == s.gold for s in report.rl.samples)
    # The held-out series: the judge's mean score of greedy answers to the gold prompts.
    held_out = gold_prompts(scenario)
    out = answer_many(trainer.model, trainer.tokenizer, [q for q, _ in held_out], data.max_new)
    judge = GoldJudge.from_scenario(scenario)
    scores = [
        judge.score(trainer.tokenizer.decode(g.ids), g.stopped and g.stop_id == data.pad_id, t)
        for g, (_, t) in zip(out, held_out, strict=True)
    ]
    assert report.val_losses == ((2, pytest.approx(sum(scores) / len(scores))),)
    assert not report.series and not trainer.state.series  # no reward-model curve beside it
    table = data.evals(trainer, scenario)
    keys = {r.key for r in table.rows}
    assert {"gold", "refusals", "finetuned", "format"} <= keys and "reward" not in keys


def test_policy_gradient_steps_on_a_fixed_batch_raise_the_answers_the_judge_prefers(
    scenario, fine_tuned, monkeypatch
):
    trainer = rlvr_trainer(scenario, fine_tuned, **{**RL_RECIPE, "lr": 1e-3, "samples": 3})
    data = trainer.data
    batch = data.gather(data.sample(torch.Generator().manual_seed(0), 4))
    monkeypatch.setattr(data, "gather", lambda picks: batch)  # every step trains on it
    advantage = advantages_by_hand(gold_by_hand(scenario, batch), batch, data.beta, data.k)
    better, worse = advantage > 0, advantage < 0
    assert better.any() and worse.any()

    change = logp_change_after_steps(trainer, batch)
    assert change[better].mean() > 0 > change[worse].mean(), (advantage, change)


def sampled_gold(scenario, data, model, samples: int = 8, seed: int = 7):
    """(mean judge score, refusals of harmful requests) of ``samples`` answers to every
    prompt, drawn with the same seeds each time: what the policy says, before and after."""
    saved = data.model, data.k, data._seed
    data.model, data.k, data._seed = model, samples, seed
    try:
        batch = data.gather(tuple(range(len(data.prompts))))
    finally:
        data.model, data.k, data._seed = saved
    gold = gold_by_hand(scenario, batch)
    refused = sum(a.startswith(REFUSAL) for a, q in zip(batch.answers, batch.prompts, strict=True)
                  if q.text.startswith("Burn"))  # fmt: skip
    return sum(gold) / len(gold), refused


def test_a_few_rlvr_steps_raise_the_gold_score_of_what_the_policy_says(scenario, fine_tuned):
    trainer = rlvr_trainer(scenario, fine_tuned, **RL_RECIPE)
    before, refused_before = sampled_gold(scenario, trainer.data, trainer.model)
    run_headless(trainer)
    after, refused_after = sampled_gold(scenario, trainer.data, trainer.model)
    # Measured with every stage seeded 1234 and 1–7: +0.13 to +0.53, the refusals of the
    # pairs' harmful requests up by 5 to 16 of 32 (here 9 → 14).
    assert after > before + 0.1 and refused_after > refused_before, (before, after)


def test_a_saved_run_keeps_no_reward_model_resumes_exactly_and_is_scored_beside_its_start(
    scenario, fine_tuned, tmp_path
):
    whole = rlvr_trainer(scenario, fine_tuned)
    run_headless(whole)
    half = rlvr_trainer(scenario, fine_tuned)
    run_headless(half, stop_at=2)
    saved = save_checkpoint(half, tmp_path / "half")
    assert not (saved / REWARD_FILE).exists()
    resumed = load_checkpoint(saved, scenario)
    assert isinstance(resumed.data, RLVRStage)
    run_headless(resumed)
    assert resumed.state.losses == whole.state.losses
    table = RLVRStage.saved_evals(load_model(save_checkpoint(resumed, tmp_path / "end")), scenario)
    rows = {r.key: r for r in table.rows}
    assert "reward" not in rows and {"refusals", "finetuned", "format"} <= set(rows)
    start = load_model(fine_tuned)
    (started,) = gold_rows(start.model, start.tokenizer, scenario)
    assert rows["gold"].note == f"the fine-tuned model it started from: {started.score:+.2f}"


def test_its_cache_key_is_its_own_and_holds_the_judges_data(scenario):
    from dataclasses import replace

    key, _ = stage_recipe(scenario, "rlvr")
    assert key not in (stage_recipe(scenario, "rlhf")[0], stage_recipe(scenario, "dpo")[0])
    evals = dict(scenario.evals)
    evals["finetuned"] = evals["finetuned"][:-1]  # one held-out prompt fewer for the judge
    other = replace(scenario, evals=evals)
    assert stage_recipe(other, "rlvr")[0] != key
    assert stage_recipe(other, "rlhf")[0] == stage_recipe(scenario, "rlhf")[0]


def test_compare_has_an_rlvr_column_and_train_names_it_for_preference():
    assert "rlvr" in p.COMPARE_STAGES
    result = trainterm("train", "--stage", "preference")
    assert result.returncode == 2
    assert "trained as dpo, or reward-model then rlhf, or rlvr" in result.stderr


# --- a scenario without a gold judge -------------------------------------------------------


@pytest.fixture
def no_judge(tmp_path):
    """The shared tiny scenario without its one harmful pair: no refusal to recognise, so
    no judge, though RLHF has all it needs."""
    folder = tmp_path / "no-judge"
    folder.mkdir()
    write_sft_scenario(folder)
    write_preference(folder)
    pairs = [
        x for x in (folder / "preference.jsonl").read_text().splitlines() if "harmful" not in x
    ]
    (folder / "preference.jsonl").write_text("\n".join(pairs) + "\n")
    return folder


def test_without_a_gold_judge_rlvr_is_refused_in_a_line_everywhere(no_judge, tmp_path, monkeypatch):
    from model.engine.compare_answers import column, prompts_for
    from model.engine.engine import Engine
    from model.engine.ready_message import stage_data
    from model.stages.base import StageDataError

    scenario = load_scenario(no_judge)
    assert GoldJudge.from_scenario(scenario) is None
    assert lacking(scenario, "rlvr") == NO_JUDGE and lacking(scenario, "rlhf") == ""
    assert dict(stage_data(scenario))["rlvr"] == NO_JUDGE
    monkeypatch.setattr("model.engine.engine.base_info", lambda engine, stage: stage)
    sent = []
    engine = Engine.__new__(Engine)
    engine.conn, engine.scenario = SimpleNamespace(send=sent.append), scenario
    engine.runs, engine.options = {}, SimpleNamespace(fresh=False)
    engine._send_base()
    assert "rlhf" in sent and "rlvr" not in sent  # no offer in its tab
    said = column(engine, "rlvr", prompts_for(scenario), p.CompareAsk(3, p.Sampler()))
    assert (said.missing, said.detail) == ("no-data", NO_JUDGE)
    with pytest.raises(StageDataError, match="no judge"):  # before anything is built
        RLVRStage.from_scenario(scenario, None, 0, None, reference=object())
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = trainterm("train", "--scenario", str(no_judge), "--stage", "rlvr", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"trainterm: error: --stage rlvr: {NO_JUDGE}\n"
    assert not out.exists() and not (tmp_path / "cache").exists()  # nothing was trained


# --- the engine, as the screen drives it ---------------------------------------------------


def test_the_engine_offers_starts_and_reports_rlvr_as_it_does_rlhf(folder, tmp_path, monkeypatch):
    from engine_fixtures import engine_in_process

    from model.engine.compare_answers import column, prompts_for
    from model.engine.options import EngineOptions
    from model.pipeline import ensure_stage

    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    scenario = load_scenario(folder)
    ensure_stage(scenario, "sft")
    options = EngineOptions(str(folder), threads=DEFAULT_THREADS, save_dir=str(tmp_path / "s"))
    with engine_in_process(options) as (engine, received):
        assert engine._build()
        engine._handle(p.Activate("rlvr"))
        engine._handle(p.StartStage("rlvr", beta=0.2, lr=2e-3))
        trainer = engine.runs["rlvr"]
        assert isinstance(trainer.data, RLVRStage) and trainer.data.beta == 0.2
        assert trainer.settings.lr == 2e-3 and trainer.parent["stage"] == "sft"
        every = trainer.settings.eval_every
        engine._handle(p.Step(every))
        for _ in range(every):
            engine._step()
        engine._flush(force=True)
        answered = column(engine, "rlvr", prompts_for(scenario), p.CompareAsk(1, p.Sampler()))
    offers = [m for m in received if isinstance(m, p.BaseModel) and m.stage == "rlvr"]
    assert offers and offers[-1].source == "cache" and offers[-1].reward_model == ""
    assert "gold judge" in offers[-1].trains_on
    (ready,) = [m for m in received if isinstance(m, p.EngineReady) and m.stage == "rlvr"]
    assert (ready.settings.beta, ready.settings.lr) == (0.2, 2e-3)
    tables = [m for m in received if isinstance(m, p.EvalTable) and m.stage == "rlvr"]
    assert [t.step for t in tables] == [0, every]  # before, and at the held-out evaluation
    assert all("gold" in {r.key for r in t.rows} for t in tables)
    assert not any(r.key == "reward" for t in tables for r in t.rows)
    assert any(isinstance(m, p.ProbeAnswers) and m.stage == "rlvr" for m in received)
    reports = [m for m in received if isinstance(m, p.StepReport) and m.stage == "rlvr"]
    assert reports[-1].step == every and {"score", "kl"} <= dict(reports[-1].metrics).keys()
    assert all(r.rl is not None and all(s.gold == s.score for s in r.rl.samples) for r in reports)
    (val,) = [v for r in reports for v in r.val_losses]
    assert val[0] == every and -2 <= val[1] <= 1  # the judge's mean score, held out
    assert answered.source == "tab" and answered.step == every and answered.answers


@pytest.mark.slow
def test_train_stage_rlvr_end_to_end_then_eval(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "rlvr"
    result = trainterm("train", "--scenario", str(folder), "--stage", "rlvr", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "training the sft stage first" in result.stderr
    checkpoint = out / "checkpoint"
    meta = json.loads((checkpoint / "meta.json").read_text())
    assert meta["stage"] == "rlvr" and meta["parent"]["stage"] == "sft"
    assert not (checkpoint / REWARD_FILE).exists()
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all("score" in r and "kl" in r for r in records)
    assert any("val_loss" in r for r in records)
    cached = list((tmp_path / "cache" / "stages").glob("rlvr-*"))
    assert len(cached) == 1  # cached under its own key, its parents beside it
    said = trainterm("eval", "--scenario", str(folder), "--model", str(checkpoint), "--json")
    assert said.returncode == 0, said.stderr
    record = json.loads(said.stdout)
    assert record["stage"] == "rlvr" and "score" in record["evals"]["gold"]
    assert "reward" not in record["evals"] and "refusals" in record["evals"]
