import pytest
import torch
from engine_fixtures import make_trainer, tiny_corpus

from model.checkpoint import CheckpointError, save_checkpoint
from model.resume import load_checkpoint


@pytest.fixture(scope="module")
def corpus() -> str:
    return tiny_corpus()


def test_resume_is_exact(corpus, tmp_path):
    straight = make_trainer(corpus, tmp_path)
    expected = [straight.step().loss for _ in range(12)]

    first = make_trainer(corpus, tmp_path)
    losses = [first.step().loss for _ in range(5)]
    save_checkpoint(first, tmp_path / "ckpt")
    resumed = load_checkpoint(tmp_path / "ckpt", corpus)
    assert resumed.state.step == 5 and resumed.state.losses == first.state.losses
    losses += [resumed.step().loss for _ in range(7)]
    assert losses == expected


def test_checkpoint_layout_and_overwrite(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path)
    trainer.step()
    path = save_checkpoint(trainer, tmp_path / "ckpt")
    names = sorted(f.name for f in path.iterdir())
    assert names == sorted(FILES)
    trainer.step()
    save_checkpoint(trainer, path)  # replaces the old one whole
    assert load_checkpoint(path, corpus).state.step == 2
    assert sorted(f.name for f in tmp_path.iterdir()) == ["cache", "ckpt"]  # no temp leftovers


FILES = ["model.safetensors", "state.pt", "meta.json", "tokenizer.tiktoken"]


@pytest.mark.parametrize("victim", FILES)
def test_corrupt_checkpoint_gives_one_line_error(corpus, tmp_path, victim):
    trainer = make_trainer(corpus, tmp_path)
    trainer.step()
    path = save_checkpoint(trainer, tmp_path / "ckpt")
    data = (path / victim).read_bytes()
    (path / victim).write_bytes(data[: len(data) // 2])  # truncated mid-write
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, corpus)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_missing_checkpoint_and_other_corpus(corpus, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nowhere", corpus)
    trainer = make_trainer(corpus, tmp_path)
    trainer.step()
    save_checkpoint(trainer, tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="different data"):
        load_checkpoint(tmp_path / "ckpt", tiny_corpus(seed=8))


def test_diverged_weights_are_never_saved(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path)
    trainer.step()
    with torch.no_grad():
        trainer.model.blocks[0].mlp.up.weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="not finite"):
        save_checkpoint(trainer, tmp_path / "ckpt")
    assert not (tmp_path / "ckpt").exists()
