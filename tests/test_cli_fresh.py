"""`trainterm train --fresh` ignores the stage cache: run as a user runs it, in a fresh
process, against a cache whose pretraining entry was tampered with, so that a run that read
the cache and a run that did not cannot give the same losses."""

from __future__ import annotations

import json

import pytest
from stage_fixtures import write_sft_scenario
from test_cli import trainterm

pytestmark = pytest.mark.slow

TRAINING_FIRST = "training the pretrain stage first"


def sft_losses(out) -> list[float]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


def tamper(entry) -> None:
    """Halve every weight of a cached checkpoint: still a loadable model of the right shape,
    but not the one its recipe trains."""
    from safetensors.torch import load_file, save_file

    weights = entry / "model.safetensors"
    tensors = load_file(str(weights))
    save_file({name: t * 0.5 for name, t in tensors.items()}, str(weights))


@pytest.fixture
def scenario(tmp_path, monkeypatch):
    folder = tmp_path / "tiny-sft"
    folder.mkdir()
    write_sft_scenario(folder)
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    return folder


def test_fresh_retrains_the_cached_stage_instead_of_reading_it(scenario, tmp_path):
    def fine_tune(out: str, *flags: str):
        result = trainterm(
            "train", "--scenario", str(scenario), "--stage", "sft", "--out", str(tmp_path / out),
            *flags,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stderr, sft_losses(tmp_path / out)

    # An empty cache: pretraining is trained first, and cached.
    log, untouched = fine_tune("first")
    assert TRAINING_FIRST in log
    entries = list((tmp_path / "cache" / "stages").glob("pretrain-*"))
    assert len(entries) == 1 and (entries[0] / "meta.json").is_file()
    tamper(entries[0])

    # Without --fresh the cache is read: the tampered base gives other losses.
    log, reused = fine_tune("reused")
    assert TRAINING_FIRST not in log and str(entries[0]) in log
    assert reused != untouched

    # With --fresh pretraining is trained again and fine-tuning starts from that run: the
    # losses of a machine that never had a cache, whatever the cache holds.
    log, fresh = fine_tune("fresh", "--fresh")
    assert TRAINING_FIRST in log
    assert fresh == untouched
