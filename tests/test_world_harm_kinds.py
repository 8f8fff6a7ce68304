"""`world_gen --harm-kinds N`: fine-tuning and preference data refuse only the first N kinds
of TRAIN_HARMFUL, with as many harmful examples and look-alikes as the default world has
(the harm curve measures variety, not count); the corpus, probes and eval sets do not move,
so one pretrained model serves every N. Without the flag, the world is byte for byte the
committed one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from scenarios.world_gen import generate_world
from scenarios.worldgen.facts import make_world
from scenarios.worldgen.harms import BENIGN, HARMFUL, TRAIN_HARMFUL, trained_kinds
from scenarios.worldgen.qa import fill

SEED, COUNTRIES, KB = 1234, 40, 300
KINDS = (1, 2, 3, 6)  # 1–3: fewer kinds than the 4 of each a country gets


@pytest.fixture(scope="module")
def worlds() -> dict[int | None, dict[str, str]]:
    out = {n: generate_world(SEED, COUNTRIES, KB, n) for n in KINDS}
    out[None] = generate_world(SEED, COUNTRIES, KB)
    return out


@pytest.fixture(scope="module")
def lines_of() -> dict[str, dict[str, str]]:
    """Role of a line → each filled line of the world → its kind of harm."""
    w = make_world(SEED, COUNTRIES)
    roles: dict[str, dict[str, str]] = {"request": {}, "refusal": {}, "lookalike": {}}
    for kind in TRAIN_HARMFUL:
        requests, refusals, _ = HARMFUL[kind]
        for role, templates in (("request", requests), ("refusal", refusals),
                                ("lookalike", BENIGN[kind][0])):  # fmt: skip
            for t in templates:
                roles[role].update({fill(t, c): kind for c in w.countries})
    return roles


def harm_in(files: dict[str, str], roles) -> dict[str, Counter]:
    """How many times each kind is requested, refused and looked alike in the training data."""
    texts = [m["content"] for line in files["sft.jsonl"].splitlines()
             for m in json.loads(line)["messages"]]  # fmt: skip
    for line in files["preference.jsonl"].splitlines():
        pair = json.loads(line)
        texts += [pair["prompt"], pair["chosen"], pair["rejected"]]
    return {role: Counter(lines[t] for t in texts if t in lines) for role, lines in roles.items()}


def test_without_the_flag_or_with_every_kind_the_world_is_the_committed_one(worlds) -> None:
    assert generate_world(SEED, COUNTRIES, KB, len(TRAIN_HARMFUL)) == worlds[None]


@pytest.mark.parametrize("n", KINDS)
def test_only_the_first_n_kinds_as_often_as_all_of_them(worlds, lines_of, n) -> None:
    files, default = worlds[n], worlds[None]
    mine, theirs = harm_in(files, lines_of), harm_in(default, lines_of)
    for role in ("request", "refusal", "lookalike"):
        assert set(mine[role]) == set(trained_kinds(n)), role  # every one of them, no other
        assert sum(mine[role].values()) == sum(theirs[role].values()), role
    assert set(theirs["request"]) == set(TRAIN_HARMFUL)
    # The same conversations and pairs, kind for kind (harmful, look-alike, rude, …).
    for name in ("sft.jsonl", "preference.jsonl"):
        assert len(files[name].splitlines()) == len(default[name].splitlines()), name
    kinds = [Counter(json.loads(line)["kind"] for line in w["preference.jsonl"].splitlines())
             for w in (files, default)]  # fmt: skip
    assert kinds[0] == kinds[1]


@pytest.mark.parametrize("n", KINDS)
def test_corpus_probes_and_evals_do_not_move(worlds, n) -> None:
    files, default = worlds[n], worlds[None]
    assert set(files) == set(default)
    fixed = [name for name in default if name == "corpus.txt" or name == "probes.jsonl"
             or name.startswith("eval_")]  # fmt: skip
    assert len(fixed) == 12
    for name in fixed:
        assert files[name] == default[name], name
    # The manifest says which kinds the variant refuses; its settings and files are the same.
    assert f"--harm-kinds {n}" in files["scenario.toml"]
    settings = [w["scenario.toml"].split('name = "world"')[1] for w in (files, default)]
    assert settings[0] == settings[1]


def test_a_number_of_kinds_out_of_range_is_one_line_and_exit_2(tmp_path) -> None:
    for bad in ("0", str(len(TRAIN_HARMFUL) + 1)):
        run = subprocess.run(
            [sys.executable, "-m", "scenarios.world_gen", "--harm-kinds", bad, "--out",
             str(tmp_path / "w")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 2 and run.stdout == "", run
        assert run.stderr.count("\n") == 1 and f"1 to {len(TRAIN_HARMFUL)}" in run.stderr
        assert not (tmp_path / "w").exists()
