"""`train --stage reward-model` and `eval` on a reward model, run as a user runs them."""

from __future__ import annotations

import json

import pytest
from stage_fixtures import trainterm, write_preference, write_sft_scenario


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-reward")
    write_sft_scenario(path)
    write_preference(path)
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def trained(folder, cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("rm")
    result = trainterm("train", "--scenario", str(folder), "--stage", "reward-model", "--out",
                       str(out), cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_fine_tunes_first_when_the_cache_is_empty(trained, cache):
    out, result = trained
    assert "training the sft stage first" in result.stderr
    assert "reward-model starts from" in result.stderr
    meta = json.loads((out / "checkpoint" / "meta.json").read_text())
    assert meta["stage"] == "reward-model" and meta["parent"]["stage"] == "sft"
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 6
    assert {"loss", "accuracy", "margin", "mean_reward", "min_reward", "max_reward"} <= set(
        lines[0]
    )
    assert "val_accuracy" in lines[2] and "val_loss" in lines[2]
    stages = {p.name.split("-")[0] for p in (cache / "stages").iterdir()}
    assert stages == {"pretrain", "sft", "reward"}  # the finished run is cached too


def test_eval_prints_held_out_accuracy_by_kind(folder, trained, cache):
    out, _ = trained
    model = str(out / "checkpoint")
    result = trainterm("eval", "--scenario", str(folder), "--model", model, "--json",
                       cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stage"] == "reward-model"
    assert set(report["evals"]) == {"preference", "preference/rude"}
    assert report["evals"]["preference"]["total"] == 1
    assert report["probes"][0]["kind"] == "rude"
    text = trainterm("eval", "--scenario", str(folder), "--model", model, cache=cache)
    assert text.returncode == 0, text.stderr
    assert "held-out pairs" in text.stdout and "rude" in text.stdout


@pytest.fixture(scope="module")
def other_shape(tmp_path_factory, cache):
    """A pretrained model of another width than the tiny scenario's."""
    path = tmp_path_factory.mktemp("other")
    write_sft_scenario(path)
    manifest = path / "scenario.toml"
    manifest.write_text(manifest.read_text().replace("d_model = 32", "d_model = 16"))
    out = path / "run"
    result = trainterm("train", "--scenario", str(path), "--steps", "2", "--out", str(out),
                       cache=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out / "checkpoint"


def test_bad_input_is_one_line_exit_2(folder, trained, other_shape, cache, tmp_path):
    no_pairs = tmp_path / "no-pairs"
    no_pairs.mkdir()
    write_sft_scenario(no_pairs)
    cases = [
        (["train", "--scenario", str(no_pairs), "--stage", "reward-model", "--out",
          str(tmp_path / "o")], "Preference tuning needs pairs"),
        (["train", "--scenario", str(folder), "--stage", "reward-model", "--from",
          str(other_shape), "--out", str(tmp_path / "o")], "another shape"),
        (["train", "--scenario", str(folder), "--stage", "reward-model", "--beta", "0.2",
          "--out", str(tmp_path / "o")], "preference-tuning settings"),
        (["eval", "--scenario", str(no_pairs), "--model", str(trained[0] / "checkpoint")],
         "cannot score preference pairs"),
    ]  # fmt: skip
    for args, expected in cases:
        result = trainterm(*args, cache=cache)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()
