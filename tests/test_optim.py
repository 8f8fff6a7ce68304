"""Muon on the blocks' matrices with AdamW on the rest (model/optim.py): every weight is
trained by exactly one of them, the pair trains a real tiny model, a checkpoint resumes it
exactly, and the screen names it."""

from __future__ import annotations

import pytest
from engine_fixtures import make_trainer, tiny_corpus

from model.checkpoint import save_checkpoint
from model.engine.ready_message import ready_message
from model.optim import MuonAdamW
from model.resume import load_checkpoint


@pytest.fixture(scope="module")
def corpus() -> str:
    return tiny_corpus()


def test_each_weight_has_one_optimizer_and_muon_only_the_blocks_matrices(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path, optimizer="muon")
    optimizer = trainer.optimizer
    assert isinstance(optimizer, MuonAdamW)
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    by_muon = [names[id(p)] for g in optimizer.muon.param_groups for p in g["params"]]
    by_adamw = [names[id(p)] for g in optimizer.adamw.param_groups for p in g["params"]]
    assert sorted(by_muon + by_adamw) == sorted(names.values())
    assert by_muon and all(n.startswith("blocks.") and n.endswith("weight") for n in by_muon)
    assert not [n for n in by_muon if "ln_" in n], "norms are vectors: AdamW's"
    assert "tok_emb.weight" in by_adamw and "pos_emb.weight" in by_adamw


def test_muon_trains_and_the_schedule_sets_its_rate(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path, optimizer="muon", steps=30, warmup_steps=3)
    losses = [trainer.step(display=False).loss for _ in range(30)]
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5, losses
    rates = {group["lr"] for group in trainer.optimizer.param_groups}
    assert len(rates) == 1, "Muon's groups follow the same schedule as AdamW's"


def test_a_muon_run_resumes_exactly(corpus, tmp_path):
    straight = make_trainer(corpus, tmp_path, optimizer="muon")
    expected = [straight.step().loss for _ in range(10)]

    first = make_trainer(corpus, tmp_path, optimizer="muon")
    losses = [first.step().loss for _ in range(4)]
    save_checkpoint(first, tmp_path / "ckpt")
    resumed = load_checkpoint(tmp_path / "ckpt", corpus)
    assert isinstance(resumed.optimizer, MuonAdamW)
    losses += [resumed.step().loss for _ in range(6)]
    assert losses == expected


def test_the_screen_is_told_which_optimizer_runs(corpus, tmp_path):
    muon = ready_message(make_trainer(corpus, tmp_path, optimizer="muon"))
    adamw = ready_message(make_trainer(corpus, tmp_path))
    assert muon.optimizer.startswith("Muon + AdamW")
    assert adamw.optimizer.startswith("AdamW")
