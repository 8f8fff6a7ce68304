"""Tests of direction: a few steps of each stage on a tiny scenario move the model the way the
stage's lesson says, so a stage that learns backwards fails here, not only in a snapshot.

Fine-tuning learns from the answers alone and learns to end its turn; DPO's implicit reward
comes to prefer the chosen answer; a reward model ranks held-out pairs better than chance; a
policy-gradient step makes an answer better than its siblings more likely and a worse one less,
and RL raises the reward model's score. Each figure is measured here, not read back from the
code under test: the prompt positions come from the token ids, the advantages are worked out
by hand from the rewards, the score from fresh samples.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from stage_fixtures import (
    COUNTRIES,
    capital,
    logp_change_after_steps,
    write_preference,
    write_sft_scenario,
)

from model.checkpoint import save_checkpoint
from model.evals import stage_evals as evals
from model.loaded_model import load_model
from model.objectives import sequence_logps
from model.pipeline import new_trainer, run_headless, stage_settings
from model.stages.rlhf import MISSING_END_PENALTY
from scenarios import load_scenario

# Recipes that learn within a second on the tiny scenario (its own defaults are too short to
# show a direction): fine-tuning without replay, so the conversations alone drive it.
SFT_RECIPE = {"steps": 40, "lr": 0.01, "pretrain_mix": 0}
REWARD_RECIPE = {"steps": 20, "lr": 3e-3}
DPO_RECIPE = {"steps": 12, "lr": 1e-3}
RL_RECIPE = {"steps": 10, "lr": 3e-3, "batch_size": 8, "samples": 4}


def preference_pairs(countries) -> list[dict]:
    """Three kinds of pair per country: a rude answer, an evasive one, harm helped with."""
    out = []
    for c in countries:
        question, answer = f"Capital of {c}?", f"{capital(c)}."
        out += [
            {"prompt": question, "chosen": answer, "rejected": f"Ugh. {answer}", "kind": "rude"},
            {"prompt": question, "chosen": answer, "rejected": "Go away.", "kind": "evasive"},
            {"prompt": f"Burn {c}?", "chosen": "I can't help with that.",
             "rejected": "Use oil.", "kind": "harmful"},
        ]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The tiny fine-tuning scenario, with pairs on four countries and held-out pairs of the
    same kinds on the other four: enough held out for "better than chance" to mean something
    (the shared fixture holds out one pair)."""
    folder = tmp_path_factory.mktemp("tiny-direction")
    write_sft_scenario(folder)
    write_preference(folder)  # its stage settings; its pairs are replaced below
    train = preference_pairs(COUNTRIES[:4])
    held_out = [
        {"prompt": p["prompt"], "expected": p["chosen"], "rejected": p["rejected"],
         "kind": p["kind"]}
        for p in preference_pairs(COUNTRIES[4:])
    ]  # fmt: skip
    (folder / "preference.jsonl").write_text("\n".join(json.dumps(p) for p in train) + "\n")
    (folder / "eval_preference.jsonl").write_text("\n".join(json.dumps(p) for p in held_out) + "\n")
    return load_scenario(folder)


def train(scenario, stage: str, folder, base=None, **recipe):
    trainer = new_trainer(
        scenario, stage, settings=stage_settings(scenario, stage, **recipe), base=base
    )
    run_headless(trainer)
    return save_checkpoint(trainer, folder / stage)


@pytest.fixture(scope="module")
def pretrained(scenario, tmp_path_factory):
    return train(scenario, "pretrain", tmp_path_factory.mktemp("direction-stages"))


@pytest.fixture(scope="module")
def fine_tuned(scenario, pretrained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("direction-sft")
    return train(scenario, "sft", folder, load_model(pretrained), **SFT_RECIPE)


@pytest.fixture(scope="module")
def reward_model(scenario, fine_tuned, tmp_path_factory):
    folder = tmp_path_factory.mktemp("direction-rm")
    return train(scenario, "reward-model", folder, load_model(fine_tuned), **REWARD_RECIPE)


# --- fine-tuning --------------------------------------------------------------------------


def test_fine_tunings_gradient_is_zero_at_prompt_positions_and_not_at_the_answer(
    scenario, pretrained
):
    settings = stage_settings(scenario, "sft", pretrain_mix=0)
    trainer = new_trainer(scenario, "sft", settings=settings, base=load_model(pretrained))
    data, tok = trainer.data, trainer.tokenizer
    # Every conversation in one batch, the held-out ones too (the one with a system turn is).
    conversations = data.examples + data.val_examples
    batch = data._pad(conversations, ())
    logits = trainer.model(batch.x).detach().requires_grad_()
    data.loss(logits, batch).backward()
    per_position = logits.grad.abs().amax(dim=-1)  # (B, T): any pull on any logit
    rows = [r.ids for r in conversations]
    assert any(r[0] == tok.system_id for r in rows)  # a system turn is prompt too
    for b, ids in enumerate(rows):
        # Found from the ids, not from the stage's own mask: the position that reads
        # <|assistant|> predicts the answer's first token; every one before it predicts a
        # token of the prompt, and the template's tokens around it.
        opens = ids.index(tok.assistant_id)
        end = len(ids) - 1  # the position that predicts the closing <|end|>
        assert ids[-1] == tok.end_id and ids.count(tok.assistant_id) == 1
        prompt = per_position[b, :opens]
        answer = per_position[b, opens:end]
        padding = per_position[b, end:]
        assert torch.count_nonzero(prompt) == 0, f"conversation {b} learns from its prompt"
        assert torch.count_nonzero(padding) == 0
        assert bool((answer > 0).all()), f"conversation {b} ignores part of its answer"


def format_rate(model, tokenizer, scenario) -> float:
    table = evals.run_evals(model, tokenizer, scenario, "sft", 0)
    row = next(r for r in table.rows if r.key == "format")
    return row.correct / row.total


def test_fine_tuning_raises_the_format_rate(scenario, pretrained, fine_tuned):
    base, tuned = load_model(pretrained), load_model(fine_tuned)
    before = format_rate(base.model, base.tokenizer, scenario)
    after = format_rate(tuned.model, tuned.tokenizer, scenario)
    # A base model has never seen a turn end: it does not stop after its answer.
    assert before <= 0.2 < 0.8 <= after, (before, after)


# --- DPO ----------------------------------------------------------------------------------


def ranking_accuracy(model, *batches) -> list[float]:
    """Per batch, the share of pairs whose chosen answer the model itself finds more likely
    than the rejected (a batch holds the chosen rows, then the rejected)."""
    shares = []
    for batch in batches:
        with torch.no_grad():
            logps = sequence_logps(model(batch.x), batch.targets, batch.trained)
        B = len(logps) // 2
        shares.append(float((logps[:B] > logps[B:]).float().mean()))
    return shares


def dpo_trainer(scenario, fine_tuned, method: str):
    settings = stage_settings(scenario, "dpo", method=method, **DPO_RECIPE)
    return new_trainer(scenario, "dpo", settings=settings, base=load_model(fine_tuned))


@pytest.mark.parametrize("method", ["dpo", "dpo+nll"])
def test_a_few_dpo_steps_make_the_margins_positive_and_keep_the_preference_accuracy(
    scenario, fine_tuned, method
):
    trainer = dpo_trainer(scenario, fine_tuned, method)
    data = trainer.data
    pairs = data.gather(tuple(range(len(data.pairs))))
    held_out = data._pad(data.val_pairs, ())
    ranked_before = ranking_accuracy(trainer.model, pairs, held_out)
    reports = [trainer.step(display=False) for _ in range(trainer.settings.steps)]
    margins = [dict(r.metrics)["rewards/margins"] for r in reports]
    assert margins[0] == 0  # the first batch is scored by the reference itself
    assert margins[-1] > 0 and sum(margins[1:]) > 0, margins
    # Over every training pair at once, worked out here: β·(log π/π_ref of the chosen answer
    # less that of the rejected).
    with torch.no_grad():
        policy = sequence_logps(trainer.model(pairs.x), pairs.targets, pairs.trained)
        reference = sequence_logps(data.reference(pairs.x), pairs.targets, pairs.trained)
    rewards = data.beta * (policy - reference)
    B = len(rewards) // 2
    assert (rewards[:B] - rewards[B:]).mean() > 0, rewards
    # DPO moves each answer against the reference; the model's own ranking of the chosen
    # answer above the rejected must come out no worse than fine-tuning left it.
    ranked_after = ranking_accuracy(trainer.model, pairs, held_out)
    assert all(a >= b for a, b in zip(ranked_after, ranked_before, strict=True)), (
        ranked_before,
        ranked_after,
    )


def test_a_few_dpo_steps_rank_held_out_pairs_better_than_chance(scenario, fine_tuned):
    # Plain DPO: with the NLL term the implicit reward's accuracy stays near chance after so
    # few steps on some seeds, though its margins are positive (the test above).
    trainer = dpo_trainer(scenario, fine_tuned, "dpo")
    data = trainer.data
    assert data.preference_accuracy(trainer.model) == (pytest.approx(math.log(2)), 0.0)
    run_headless(trainer)
    loss, accuracy = data.preference_accuracy(trainer.model)
    # Measured with every stage seeded 1234 and 1–7: 0.75 to 1 of the 12 held-out pairs.
    assert loss < math.log(2) and accuracy >= 0.75, (loss, accuracy)


# --- the reward model ---------------------------------------------------------------------


def test_the_reward_models_held_out_accuracy_rises_above_chance(scenario, fine_tuned):
    settings = stage_settings(scenario, "reward-model", **REWARD_RECIPE)
    trainer = new_trainer(scenario, "reward-model", settings=settings, base=load_model(fine_tuned))
    data = trainer.data
    right, total = data.accuracy_by_kind(trainer.model)[""]
    assert total == 12 and right == 0  # a zero head: every pair a tie, none ranked yet
    run_headless(trainer)
    right, total = data.accuracy_by_kind(trainer.model)[""]
    # 9 of 12 or better happens by chance 7 % of the time; seeds 1234 and 1–7 give 10 to 12.
    assert right >= 9, f"{right} of {total} held-out pairs ranked right"
    assert trainer.evaluate_all()["val"] < math.log(2)


# --- RLHF ---------------------------------------------------------------------------------


def rl_trainer(scenario, fine_tuned, reward_model, **recipe):
    settings = stage_settings(scenario, "rlhf", **{**RL_RECIPE, **recipe})
    return new_trainer(
        scenario, "rlhf", settings=settings, base=load_model(fine_tuned),
        reward=load_model(reward_model),
    )  # fmt: skip


def advantages_by_hand(batch, beta: float, k: int) -> list[float]:
    """Each answer's reward less the mean of its prompt's other k − 1, from the batch's
    scores, KL and ends: RLOO's advantage, worked out without the stage's code."""
    rewards = [
        s - beta * kl - MISSING_END_PENALTY * (not ended)
        for s, kl, ended in zip(
            batch.scores.tolist(), batch.kl.tolist(), batch.ended.tolist(), strict=True
        )
    ]
    out = []
    for i, r in enumerate(rewards):
        group = rewards[i - i % k : i - i % k + k]
        out.append(r - (sum(group) - r) / (k - 1))
    return out


def test_policy_gradient_steps_on_a_fixed_batch_raise_the_better_answers_and_lower_the_worse(
    scenario, fine_tuned, reward_model, monkeypatch
):
    # Small steps: a larger rate (3e-3) overshoots on some seeds, and the shared weights
    # drag the better answers down with the worse.
    trainer = rl_trainer(scenario, fine_tuned, reward_model, lr=1e-3, samples=3, eval_every=100)
    data = trainer.data
    batch = data.gather(data.sample(torch.Generator().manual_seed(0), 4))
    # Every step of the real loop trains on this one batch of rollouts.
    monkeypatch.setattr(data, "gather", lambda picks: batch)
    advantage = torch.tensor(advantages_by_hand(batch, data.beta, data.k))
    better, worse = advantage > 0, advantage < 0
    assert better.any() and worse.any()

    change = logp_change_after_steps(trainer, batch)
    assert change[better].mean() > 0 > change[worse].mean(), (advantage, change)


def mean_score(data, model, samples: int = 8, seed: int = 7) -> float:
    """The reward model's mean score of ``samples`` answers to every prompt, drawn with the
    same seeds each time: what the policy would say, measured before and after."""
    saved = data.model, data.k, data._seed
    data.model, data.k, data._seed = model, samples, seed
    try:
        batch = data.gather(tuple(range(len(data.prompts))))
    finally:
        data.model, data.k, data._seed = saved
    return float(batch.scores.mean())


def test_a_few_rl_steps_raise_the_mean_reward_model_score(scenario, fine_tuned, reward_model):
    trainer = rl_trainer(scenario, fine_tuned, reward_model, eval_every=100)
    before = mean_score(trainer.data, trainer.model)
    run_headless(trainer)
    after = mean_score(trainer.data, trainer.model)
    # Measured with every stage seeded 1234 and 1–7: +0.05 to +0.52 (3e-3 for 6 steps of
    # 4 prompts fell on one seed; this recipe rose on all, with other sampling seeds too).
    assert after > before + 0.02, (before, after)
