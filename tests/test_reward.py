"""The reward model: Bradley–Terry checked by hand, the reward read at the answer's last
token whatever the padding, and the stage on a real tiny fine-tuned model: it learns, its
head is saved with it, and a resumed run is the run that never stopped."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from stage_fixtures import PAIRS, write_preference, write_sft_scenario

from model.checkpoint import save_checkpoint
from model.loaded_model import load_model
from model.objectives import bradley_terry_loss
from model.pipeline import ensure_stage, new_trainer, run_headless, stage_settings
from model.resume import load_checkpoint
from model.reward_model import RewardGPT
from scenarios import load_scenario


def test_bradley_terry_loss_equals_a_hand_computed_value():
    chosen, rejected = torch.tensor([2.0, 0.0, 1.5]), torch.tensor([1.0, 0.5, 1.5])
    # margins 1.0, −0.5, 0: −log σ(m) = log(1 + e^−m)
    by_hand = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(0.5)) + math.log(2)) / 3
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(by_hand)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-reward")
    write_sft_scenario(folder)
    write_preference(folder)
    return load_scenario(folder)


@pytest.fixture(scope="module")
def sft_model(scenario, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stages")
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    sft = new_trainer(scenario, "sft", base=load_model(save_checkpoint(pretrain, folder / "pt")))
    run_headless(sft)
    return save_checkpoint(sft, folder / "sft")


def _randomised_head(trainer) -> RewardGPT:
    model = trainer.model
    with torch.no_grad():
        model.score.weight.normal_(0, 1.0, generator=torch.Generator().manual_seed(5))
    return model


def test_the_reward_is_read_at_the_last_answer_token_and_padding_changes_nothing(
    scenario, sft_model
):
    trainer = new_trainer(scenario, "reward-model", base=load_model(sft_model))
    model, data, tok = _randomised_head(trainer), trainer.data, trainer.tokenizer
    short = min(data.pairs, key=lambda p: len(p.chosen))
    long = max(data.pairs, key=lambda p: len(p.rejected))
    alone = data.pad([short])
    padded = data.pad([short, long])
    assert padded.x.shape[1] > len(short.chosen)  # the short row really is padded
    last = alone.trained.int().argmax(dim=1)
    # The position read is the answer's closing <|end|>, the last token of the conversation.
    assert alone.x[0, last[0]].item() == tok.end_id and last[0] == len(short.chosen) - 1
    with torch.no_grad():
        r_alone = data.scores(model, [short])
        r_padded = data.scores(model, [short, long])
        assert r_padded[0][0].item() == pytest.approx(r_alone[0][0].item(), abs=1e-5)
        assert r_padded[1][0].item() == pytest.approx(r_alone[1][0].item(), abs=1e-5)
        # Other pad tokens after the end change nothing; another last answer token does.
        x = padded.x.clone()
        n = len(short.chosen)
        x[0, n:] = tok.user_id
        assert model.values(x)[0, n - 1].item() == pytest.approx(r_padded[0][0].item(), abs=1e-5)
        x[0, n - 2] = (x[0, n - 2] + 1) % tok.end_id
        assert model.values(x)[0, n - 1].item() != pytest.approx(r_padded[0][0].item(), abs=1e-5)


def test_a_seeded_run_starts_at_ln_2_and_learns_the_preferences(scenario, sft_model):
    settings = stage_settings(scenario, "reward-model", steps=30, lr=3e-3)
    trainer = new_trainer(scenario, "reward-model", settings=settings, base=load_model(sft_model))
    reports = [trainer.step(display=False) for _ in range(30)]
    first = dict(reports[0].metrics)
    # A zero head gives every answer reward 0: the loss is ln 2, no pair is ranked yet.
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert first["accuracy"] == 0 and first["margin"] == 0
    assert first["min_reward"] == first["max_reward"] == 0
    metrics = [dict(r.metrics) for r in reports]
    assert set(metrics[-1]) >= {"loss", "accuracy", "margin", "mean_reward", "max_reward"}
    late = metrics[-5:]
    assert sum(m["loss"] for m in late) / 5 < 0.5 * math.log(2)
    assert sum(m["accuracy"] for m in late) / 5 >= 0.9
    assert all(m["min_reward"] <= m["mean_reward"] <= m["max_reward"] for m in metrics)
    # Evals every 3 steps: held-out loss and accuracy, and the probe answers' scores.
    series = trainer.state.series["val accuracy"]
    assert [s for s, _ in series] == list(range(3, 31, 3))
    assert all(v in (0.0, 1.0) for _, v in series)  # one held-out pair: right or wrong
    assert "probe/rude/chosen" in metrics[2] and "probe/rude/chosen" not in metrics[3]
    right, total = trainer.data.accuracy_by_kind(trainer.model)["rude"]
    assert total == 1 and right == series[-1][1]
    # A trained reward model can be frozen as a copy (as RL will hold it): no step's graph
    # stays on it, and the copy scores as the original does.
    trainer.step(display=False)
    frozen = copy.deepcopy(trainer.model)
    pairs = trainer.data.pairs[:3]
    assert torch.equal(trainer.data.scores(frozen, pairs)[0], trainer.data.scores(trainer.model,
                       pairs)[0])  # fmt: skip


def test_training_pairs_are_whole_conversations_chosen_first(scenario, sft_model):
    trainer = new_trainer(scenario, "reward-model", base=load_model(sft_model))
    batch = trainer.data.gather((0, 1, 2))
    tok = trainer.tokenizer
    texts = [tok.decode(batch.x[i][: batch.trained[i].int().argmax() + 1].tolist()) for i in
             range(6)]  # fmt: skip
    assert texts[0].endswith(PAIRS[0]["chosen"] + "<|end|>")
    assert texts[3].endswith(PAIRS[0]["rejected"] + "<|end|>")
    assert texts[0].startswith("<|user|>" + PAIRS[0]["prompt"])


def test_checkpoint_keeps_the_head_and_resumes_exactly(scenario, sft_model, tmp_path):
    settings = stage_settings(scenario, "reward-model", steps=6)
    straight = new_trainer(scenario, "reward-model", settings=settings,
                           base=load_model(sft_model))  # fmt: skip
    expected = [straight.step(display=False).loss for _ in range(6)]
    first = new_trainer(scenario, "reward-model", settings=settings, base=load_model(sft_model))
    losses = [first.step(display=False).loss for _ in range(3)]
    save_checkpoint(first, tmp_path / "rm")
    loaded = load_model(tmp_path / "rm")
    assert isinstance(loaded.model, RewardGPT) and loaded.stage == "reward-model"
    assert torch.equal(loaded.model.score.weight, first.model.score.weight)
    assert first.model.score.weight.abs().sum() > 0  # the head did train, and was saved
    resumed = load_checkpoint(tmp_path / "rm", scenario)
    assert resumed.model is resumed.data.model
    losses += [resumed.step(display=False).loss for _ in range(3)]
    assert losses == expected
    # A display step (what the tab shows) works on a reward model too.
    assert resumed.step(display=True).row


def test_the_finished_default_run_is_cached(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    path = ensure_stage(scenario, "reward-model")
    assert path.name.startswith("reward-model-") and load_model(path).step == 6
    assert ensure_stage(scenario, "reward-model") == path
    meta = load_model(path).meta
    assert meta["parent"]["stage"] == "sft" and meta["cache_key"]
