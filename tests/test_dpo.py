"""DPO's loss, checked by hand, and the stage on a real tiny model: the reference never
moves, log-probs cover the answer only, the NLL term is fine-tuning's loss on the chosen."""

from __future__ import annotations

import math

import pytest
import torch
from stage_fixtures import PAIRS, write_preference, write_sft_scenario

from model.checkpoint import save_checkpoint
from model.loaded_model import load_model
from model.objectives import dpo_loss, next_token_loss, sequence_logps
from model.pipeline import new_trainer, run_headless, stage_settings
from model.resume import load_checkpoint
from scenarios import load_scenario


def test_dpo_loss_equals_a_hand_computed_value():
    pc, pr = torch.tensor([-10.0, -4.0]), torch.tensor([-12.0, -3.0])
    rc, rr = torch.tensor([-11.0, -5.0]), torch.tensor([-11.0, -4.0])
    loss, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta=0.5)
    # pair 1: 0.5·((−10+11) − (−12+11)) = 1.0; pair 2: 0.5·((−4+5) − (−3+4)) = 0.0
    by_hand = (math.log(1 + math.exp(-1.0)) + math.log(2)) / 2
    assert loss.item() == pytest.approx(by_hand)
    assert chosen.tolist() == [0.5, 0.5] and rejected.tolist() == [-0.5, 0.5]


def test_dpo_loss_is_ln_2_when_the_policy_is_the_reference():
    logps = torch.tensor([-7.0, -2.5, -30.0])
    loss, chosen, rejected = dpo_loss(logps, logps - 1, logps, logps - 1, beta=0.1)
    assert loss.item() == pytest.approx(math.log(2))
    assert chosen.abs().sum() == 0 and rejected.abs().sum() == 0


def test_summed_logps_cover_the_trained_tokens_only():
    torch.manual_seed(0)
    logits = torch.randn(1, 4, 6)
    targets = torch.tensor([[1, 2, 3, 4]])
    trained = torch.tensor([[False, True, True, False]])
    lp = torch.log_softmax(logits, -1)[0]
    assert sequence_logps(logits, targets, trained).item() == pytest.approx(
        (lp[1, 2] + lp[2, 3]).item()
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-dpo")
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


@pytest.mark.parametrize("method", ["dpo", "dpo+nll"])
def test_dpo_starts_at_ln_2_and_never_moves_the_reference(scenario, sft_model, method):
    settings = stage_settings(scenario, "dpo", method=method, steps=6)
    trainer = new_trainer(scenario, "dpo", settings=settings, base=load_model(sft_model))
    reference = {k: v.clone() for k, v in trainer.data.reference.state_dict().items()}
    first = trainer.step()
    metrics = dict(first.metrics)
    assert metrics["dpo"] == pytest.approx(math.log(2), abs=1e-5)
    assert metrics["rewards/margins"] == 0 and metrics["rewards/accuracies"] == 0
    assert ("nll" in metrics) == (method == "dpo+nll")
    assert first.pairs and first.pairs[0].chosen and first.pairs[0].rejected
    run_headless(trainer)
    after = trainer.data.reference.state_dict()
    assert all(torch.equal(after[k], reference[k]) for k in reference)
    assert not all(
        torch.equal(p, after[k]) for k, p in trainer.model.state_dict().items() if k in after
    )


def test_the_nll_term_is_fine_tunings_loss_on_the_chosen_answer(scenario, sft_model):
    trainer = new_trainer(scenario, "dpo", base=load_model(sft_model))
    batch = trainer.data.gather((0, 1, 2))
    logits = trainer.model(batch.x)
    trainer.data.loss(logits, batch)
    chosen_only = next_token_loss(logits[:3], batch.y[:3])
    assert trainer.data.metrics()["nll"] == pytest.approx(chosen_only.item())
    # The chosen rows' trained tokens are exactly the chosen answers and their <|end|>.
    tok = trainer.tokenizer
    texts = [tok.decode(batch.targets[i][batch.trained[i]].tolist()) for i in range(3)]
    assert texts == [PAIRS[0]["chosen"] + "<|end|>", PAIRS[1]["chosen"] + "<|end|>",
                     PAIRS[2]["chosen"] + "<|end|>"]  # fmt: skip


def test_dpo_resumes_exactly_with_its_reference(scenario, sft_model, tmp_path):
    settings = stage_settings(scenario, "dpo", steps=6)
    straight = new_trainer(scenario, "dpo", settings=settings, base=load_model(sft_model))
    expected = [straight.step(display=False).loss for _ in range(6)]
    first = new_trainer(scenario, "dpo", settings=settings, base=load_model(sft_model))
    losses = [first.step(display=False).loss for _ in range(3)]
    save_checkpoint(first, tmp_path / "dpo")
    resumed = load_checkpoint(tmp_path / "dpo", scenario)
    losses += [resumed.step(display=False).loss for _ in range(3)]
    assert losses == expected
