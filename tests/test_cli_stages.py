"""`train --stage sft|all`, `eval` and `ask`, run as a user runs them: in a fresh process."""

from __future__ import annotations

import json

import pytest
from stage_fixtures import write_preference, write_sft_scenario
from test_cli import trainterm

from model.stages import ORDER


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-sft")
    write_sft_scenario(path)
    write_preference(path)
    return path


def greedy_answers(checkpoint, prompts: list[str], chat: bool = True) -> list[str]:
    """The checkpoint's greedy answers, worked out in this process: what `ask` must print."""
    from model.generate import answer_many, continue_many
    from model.loaded_model import load_model

    loaded = load_model(checkpoint)
    ask = answer_many if chat else continue_many
    out = ask(loaded.model, loaded.tokenizer, prompts, 60)  # `ask`'s default --max-tokens
    return [loaded.tokenizer.decode(g.ids) for g in out]


@pytest.fixture(scope="module")
def trained(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("all")
    result = trainterm("train", "--scenario", str(folder), "--stage", "all", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_all_trains_every_stage_in_its_own_folder(trained):
    parents = {"pretrain": None, "sft": "pretrain", "dpo": "sft", "reward-model": "sft",
               "rlhf": "sft"}  # fmt: skip
    for stage, parent in parents.items():
        meta = json.loads((trained / stage / "checkpoint" / "meta.json").read_text())
        assert meta["stage"] == stage
        assert (meta["parent"] or {}).get("stage") == parent
        if parent:  # each stage starts from its own parent's run, not the one before it
            assert meta["parent"]["path"] == str(trained / parent / "checkpoint")
    lines = (trained / "sft" / "metrics.jsonl").read_text().splitlines()
    assert any("pretrain_val_loss" in json.loads(line) for line in lines)


def test_a_second_run_of_all_into_the_same_folder_is_refused_in_one_line(folder, tmp_path):
    """Each stage of `--stage all` starts from its parent's checkpoint in --out: two runs
    into one folder (two seeds, say) would start stages from each other's models."""
    import fcntl
    import os

    out = tmp_path / "busy"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)  # what a first run holds while it trains
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = trainterm("train", "--scenario", str(folder), "--stage", "all", "--out",
                           str(out))  # fmt: skip
    finally:
        os.close(held)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "another `train --stage all`" in result.stderr and "--out" in result.stderr
    assert list(out.iterdir()) == [], "nothing written"


def test_rlhf_uses_the_reward_model_named(folder, trained, tmp_path):
    rm = trained / "reward-model" / "checkpoint"
    out = tmp_path / "rl"
    result = trainterm(
        "train", "--scenario", str(folder), "--stage", "rlhf", "--from",
        str(trained / "sft" / "checkpoint"), "--reward-model", str(rm), "--beta", "0",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "checkpoint" / "meta.json").read_text())
    assert meta["stage"] == "rlhf" and meta["settings"]["beta"] == 0
    said = _eval_json(folder, out / "checkpoint")
    assert {"gold", "reward", "format", "finetuned"} <= set(said["evals"])
    answer = trainterm("ask", "--model", str(out / "checkpoint"), "Hi")
    assert answer.returncode == 0, answer.stderr
    (expected,) = greedy_answers(out / "checkpoint", ["Hi"])
    assert expected and answer.stdout == f"> Hi\n{expected}\n\n"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--stage", "rlhf", "--reward-model", "SFT"], "is a sft model, not a reward model"),
        (["--stage", "rlhf", "--reward-model", "NOWHERE"], "no checkpoint at"),
        (["--stage", "dpo", "--beta", "0"], "beta: must be a positive number, got 0"),
        (["--stage", "sft", "--reward-model", "SFT"], "--reward-model is RLHF's, not sft's"),
        (["--stage", "rlhf", "--method", "dpo"], "--beta and --method are preference-tuning"),
        (["--stage", "rlhf", "--beta", "-1"], "--beta: must be 0 or a positive number"),
    ],
)
def test_rlhf_bad_input_is_one_line(folder, trained, tmp_path, args, expected):
    args = [str(trained / "sft" / "checkpoint") if a == "SFT" else a for a in args]
    args = [str(tmp_path / "nowhere") if a == "NOWHERE" else a for a in args]
    result = trainterm(
        "train", "--scenario", str(folder), "--from", str(trained / "sft" / "checkpoint"),
        "--out", str(tmp_path / "out"), *args,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, lines


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
    assert all(r["template"] and r["stage"] == "sft" for r in rows)
    expected = greedy_answers(model, ["Capital of Tarsk?", "Hi"])
    assert [r["answer"] for r in rows] == expected and all(expected)
    raw = json.loads(trainterm("ask", "--model", model, "--raw", "--json", "The capital of").stdout)
    assert raw["template"] is False
    assert [raw["answer"]] == greedy_answers(model, ["The capital of"], chat=False)


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
        # Tab 3's title and a scenario section: said which stages train them.
        (["train", "--stage", "preference"], "'preference' is trained as dpo, or reward-model"),
        (["train", "--stage", "reward"], "'reward' is trained as reward-model"),
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


def _eval_json(folder, checkpoint) -> dict:
    result = trainterm("eval", "--scenario", str(folder), "--model", str(checkpoint), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _figures(evals: dict) -> dict:
    return {k: (v["correct"], v["total"], v["rate"], v.get("score")) for k, v in evals.items()}


def test_report_card_has_evals_figures_for_every_stage(folder, trained):
    result = trainterm("report", "--scenario", str(folder), str(trained))
    assert result.returncode == 0, result.stderr
    card = json.loads((trained / "report.json").read_text())
    stages = list(ORDER)  # every stage trained by --stage all on a scenario with all data
    assert stages[:5] == ["pretrain", "sft", "dpo", "reward-model", "rlhf"]
    assert list(card["stages"]) == stages
    for stage, column in card["stages"].items():
        checkpoint = trained / stage / "checkpoint"
        said = _eval_json(folder, checkpoint)
        assert _figures(column["evals"]) == _figures(said["evals"]), stage
        assert (column["val_loss"], column["step"]) == (said["val_loss"], said["step"])
        state = json.loads((checkpoint / "meta.json").read_text())["state"]
        assert column["tokens_seen"] == state["tokens_seen"] > 0
        assert column["seconds"] == state["seconds"] > 0
    assert "preference" in card["stages"]["dpo"]["evals"]
    rlhf = card["stages"]["rlhf"]["evals"]
    assert {"gold", "reward"} <= set(rlhf) and "score" in rlhf["gold"]
    assert "gold" in card["stages"]["sft"]["evals"]  # the judge scores every chat model
    markdown = (trained / "report.md").read_text()
    assert markdown in result.stdout  # printed as written
    header = next(line for line in markdown.splitlines() if line.startswith("| metric"))
    assert [c.strip() for c in header.split("|")[2:-1]] == stages
    for label in ("validation loss", "facts: fine-tuned", "preference accuracy", "wall time",
                  "tokens seen", "steps"):  # fmt: skip
        assert any(line.startswith(f"| {label}") for line in markdown.splitlines()), label


def test_train_records_tokens_seen_and_wall_time_every_step(trained):
    lines = [json.loads(x) for x in (trained / "dpo" / "metrics.jsonl").read_text().splitlines()]
    seen = [r["tokens_seen"] for r in lines]
    seconds = [r["seconds"] for r in lines]
    assert seen == sorted(seen) and len(set(seen)) == len(seen) and seconds == sorted(seconds)
    assert "rewards/margins" in lines[0]  # a stage's own metrics go into the file too


def test_the_engines_report_card_equals_eval(folder, trained, tmp_path):
    """The app's card (computed by the engine from its live trainers) on the same models."""
    from types import SimpleNamespace

    from model.evals.live_report import live_card
    from model.resume import load_checkpoint
    from scenarios import load_scenario

    scenario = load_scenario(folder)
    stages = ("pretrain", "dpo", "reward-model", "rlhf")
    runs = {s: load_checkpoint(trained / s / "checkpoint", scenario) for s in stages}
    engine = SimpleNamespace(
        runs=runs, scenario=scenario, options=SimpleNamespace(save_dir=tmp_path)
    )
    card = live_card(engine)
    assert [c.stage for c in card.columns] == list(stages)
    for column in card.columns:
        said = _eval_json(folder, trained / column.stage / "checkpoint")
        mine = {r.key: (r.correct, r.total, r.rate, r.score) for r in column.rows}
        assert mine == _figures(said["evals"]) and column.val_loss == said["val_loss"]
    assert card.written and (tmp_path / "report.md").is_file()
    written = json.loads((tmp_path / "report.json").read_text())
    assert list(written["stages"]) == list(stages)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda tmp, trained: tmp / "nothing", "no such folder"),
        (lambda tmp, trained: _touch(tmp / "file.txt"), "is not a folder"),
        (lambda tmp, trained: tmp, "has no stage folders"),
        (lambda tmp, trained: _damaged(trained, tmp), "corrupt"),
        (lambda tmp, trained: _copy(trained, tmp), "was not trained on the scenario 'world'"),
    ],
)
def test_bad_report_input_is_one_line_exit_2(make, expected, folder, trained, tmp_path):
    target = make(tmp_path, trained)
    # The last case names no scenario: the default one is not the models'.
    scenario = [] if "'world'" in expected else ["--scenario", str(folder)]
    result = trainterm("report", *scenario, str(target))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "report.md").exists() and not (tmp_path / "copy" / "report.md").exists()


def _touch(path):
    path.write_text("not a run")
    return path


def _copy(trained, tmp):
    import shutil

    copy = tmp / "copy"
    shutil.copytree(trained, copy, ignore=shutil.ignore_patterns("report.*"))
    return copy


def _damaged(trained, tmp):
    copy = _copy(trained, tmp)
    (copy / "sft" / "checkpoint" / "model.safetensors").write_bytes(b"\0garbage" * 100)
    return copy
