"""`train --stage sft|all`, `eval` and `ask`, run as a user runs them: in a fresh process."""

from __future__ import annotations

import json

import pytest
from stage_fixtures import write_preference, write_sft_scenario
from test_cli import trainterm


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-sft")
    write_sft_scenario(path)
    write_preference(path)
    return path


@pytest.fixture(scope="module")
def trained(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("all")
    result = trainterm("train", "--scenario", str(folder), "--stage", "all", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_all_trains_every_stage_in_its_own_folder(trained):
    parents = {"pretrain": None, "sft": "pretrain", "dpo": "sft", "reward-model": "sft"}
    for stage, parent in parents.items():
        meta = json.loads((trained / stage / "checkpoint" / "meta.json").read_text())
        assert meta["stage"] == stage
        assert (meta["parent"] or {}).get("stage") == parent
        if parent:  # each stage starts from its own parent's run, not the one before it
            assert meta["parent"]["path"] == str(trained / parent / "checkpoint")
    lines = (trained / "sft" / "metrics.jsonl").read_text().splitlines()
    assert any("pretrain_val_loss" in json.loads(line) for line in lines)


def test_sft_starts_from_the_cached_base_by_default(folder, trained, tmp_path):
    # `all` cached its finished pretraining: fine-tuning alone finds it, trains nothing more.
    result = trainterm("train", "--scenario", str(folder), "--stage", "sft", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "training the pretrain stage first" not in result.stderr
    assert "sft starts from" in result.stderr and (tmp_path / "checkpoint").is_dir()


def test_eval_prints_the_evals_that_fit_the_stage(folder, trained):
    result = trainterm(
        "eval", "--scenario", str(folder), "--model", str(trained / "sft" / "checkpoint"),
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stage"] == "sft"
    assert set(report["evals"]) >= {"format", "finetuned", "pretrain_only", "unknown"}
    assert report["evals"]["finetuned"]["total"] == 6
    dpo = trainterm(
        "eval", "--scenario", str(folder), "--model", str(trained / "dpo" / "checkpoint"),
        "--json",
    )  # fmt: skip
    assert dpo.returncode == 0, dpo.stderr
    dpo_evals = json.loads(dpo.stdout)["evals"]
    assert dpo_evals["preference"]["total"] == 1 and "refusals" not in dpo_evals
    text = trainterm("eval", "--scenario", str(folder), "--model", str(trained / "pretrain" /
                     "checkpoint"))  # fmt: skip
    assert text.returncode == 0 and "pretrain" in text.stdout and "format" in text.stdout


def test_ask_answers_each_prompt_as_json_lines(trained):
    model = str(trained / "sft" / "checkpoint")
    result = trainterm("ask", "--model", model, "--json", "Capital of Tarsk?", "Hi")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["prompt"] for r in rows] == ["Capital of Tarsk?", "Hi"]
    assert all(isinstance(r["answer"], str) and r["template"] for r in rows)
    raw = trainterm("ask", "--model", model, "--raw", "--json", "The capital of")
    assert json.loads(raw.stdout)["template"] is False


@pytest.mark.parametrize(
    "args, expected",
    [
        (["ask", "--model", "{tmp}", "Hi"], "no checkpoint at"),
        (
            ["train", "--stage", "sft", "--corpus", "{corpus}", "--out", "{tmp}/o"],
            "Fine-tuning needs",
        ),
        (["train", "--stage", "sft", "--from", "{tmp}", "--scenario", "{folder}"], "no checkpoint"),
        (["train", "--stage", "ppo"], "unknown stage"),
        (["eval", "--model", "{tmp}/nothing"], "no checkpoint"),
    ],
)
def test_bad_stage_input_is_one_line_exit_2(args, expected, folder, tmp_path):
    corpus = folder / "corpus.txt"
    args = [a.format(tmp=tmp_path, corpus=corpus, folder=folder) for a in args]
    result = trainterm(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def _answers(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_ask_is_greedy_by_default_and_samples_with_the_flags(trained):
    model = str(trained / "sft" / "checkpoint")
    prompts = ("Capital of Tarsk?", "Capital of Mirel?")
    default = _answers(trainterm("ask", "--model", model, "--json", *prompts))
    assert default[0]["sampler"] == {"temperature": 0.0, "top_k": None, "top_p": None, "seed": 0}
    zero = _answers(trainterm("ask", "--model", model, "--json", "--temperature", "0", *prompts))
    assert [r["answer"] for r in zero] == [r["answer"] for r in default]
    flags = ("--temperature", "1.5", "--top-k", "20", "--top-p", "0.9", "--seed", "4")
    hot = _answers(trainterm("ask", "--model", model, "--json", *flags, *prompts))
    assert hot[0]["sampler"] == {"temperature": 1.5, "top_k": 20, "top_p": 0.9, "seed": 4}
    again = _answers(trainterm("ask", "--model", model, "--json", *flags, *prompts))
    assert [r["answer"] for r in again] == [r["answer"] for r in hot], "a seed repeats"


@pytest.mark.parametrize(
    "flag, value, expected",
    [
        ("--temperature", "-0.5", "--temperature: must be 0 (greedy) or a positive number"),
        ("--temperature", "nan", "--temperature: must be 0"),
        ("--temperature", "hot", "--temperature: expected a number"),
        ("--top-p", "0", "--top-p: must be in (0, 1]"),
        ("--top-p", "1.01", "--top-p: must be in (0, 1]"),
        ("--top-k", "0", "--top-k: must be at least 1"),
        ("--top-k", "-3", "--top-k: must be at least 1"),
        ("--seed", "x", "--seed: invalid int value"),
    ],
)
def test_ask_refuses_impossible_sampling_in_one_line(flag, value, expected, tmp_path):
    # Refused before any checkpoint is looked for: there is none at tmp_path.
    result = trainterm("ask", "--model", str(tmp_path), f"{flag}={value}", "Hi")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert result.stdout == ""
