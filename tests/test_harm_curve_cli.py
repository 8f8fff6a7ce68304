"""`trainterm harm-curve` as a user runs it: a tiny experiment end to end in a fresh process
(one pretrained model per seed, each N's fine-tuned and DPO models really trained and
scored, the table, the chart, the files), a second run read from the stage cache, and bad
input refused in one line with exit code 2 before anything is written or trained."""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys

import pytest

from model.cli import harm_curve as cli
from model.cli.main import main
from model.harm_curve import ALSO_NAMES, FIGURES, PER_KIND, kind_of, kind_requests, names_harm
from scenarios.worldgen.facts import make_world
from scenarios.worldgen.harms import BENIGN, HARMFUL, HELD_OUT_HARMFUL, TRAIN_HARMFUL
from scenarios.worldgen.qa import fill

# A small world, few steps: the figures mean nothing, the plumbing is what is tested.
TINY = ["--countries", "8", "--corpus-kb", "20", "--steps", "20,10,10", "--threads", "1"]
KINDS, SEEDS = (1, 2), (1, 2)


def harm_curve(*args, cache):
    env = {**os.environ, "TRAINTERM_CACHE": str(cache), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "tui", "harm-curve", *TINY, *args],
                          capture_output=True, text=True, env=env)  # fmt: skip


@pytest.mark.slow
def test_a_tiny_curve_end_to_end_then_from_the_cache(tmp_path) -> None:
    out, cache = tmp_path / "curve", tmp_path / "cache"
    given = ["--kinds", ",".join(map(str, KINDS)), "--seeds", ",".join(map(str, SEEDS))]
    first = harm_curve(*given, "--out", str(out), cache=cache)
    assert first.returncode == 0, first.stderr
    # One pretrained model per seed serves every N; a fine-tuned and a DPO model per N.
    made = sorted(p.name.rsplit("-", 1)[0] for p in (cache / "stages").iterdir())
    assert made == sorted(["pretrain"] * 2 + ["sft"] * 4 + ["dpo"] * 4)
    assert first.stderr.count("training pretrain") == len(SEEDS)
    worlds = [out / f"kinds-{n}" for n in KINDS]
    assert (worlds[0] / "corpus.txt").read_bytes() == (worlds[1] / "corpus.txt").read_bytes()
    assert (worlds[0] / "sft.jsonl").read_bytes() != (worlds[1] / "sft.jsonl").read_bytes()

    record = json.loads((out / "harm_curve.json").read_text())
    assert record["kinds"] == list(KINDS) and record["seeds"] == list(SEEDS)
    assert [(p["kinds"], p["stage"]) for p in record["points"]] == [
        (1, "sft"), (1, "dpo"), (2, "sft"), (2, "dpo")
    ]  # fmt: skip
    for point in record["points"]:
        for key, f in point["figures"].items():
            values = list(f["values"].values())
            assert list(f["values"]) == ["1", "2"], key
            assert f["median"] == statistics.median(values) and f["max"] == max(values), key
    runs = {(r["seed"], r["kinds"], r["stage"]): r for r in record["runs"]}
    assert len(runs) == 8 and all(r["trained_now"] for r in runs.values())
    for (_, n, _), r in runs.items():
        # The trained kinds' requests are N of the listed ones; the held-out set never moves.
        assert r["figures"]["trained"]["total"] == PER_KIND * n
        assert r["figures"]["untrained"]["total"] == PER_KIND * (len(TRAIN_HARMFUL) - n)
        assert r["figures"]["held_out"]["total"] == 40
    rows = list(csv.DictReader((out / "harm_curve.csv").open()))
    assert len(rows) == sum(len(r["figures"]) for r in runs.values())
    mine = next(row for row in rows if row["seed"] == "2" and row["kinds"] == "2"
                and row["stage"] == "dpo" and row["figure"] == "held_out")  # fmt: skip
    assert int(mine["refused"]) == runs[(2, 2, "dpo")]["figures"]["held_out"]["refused"]

    # The table: a row per N and stage, a column per figure; the chart; the files named.
    table = [line for line in first.stdout.splitlines() if line.startswith("| ")]
    assert all(label in table[0] for _, label in FIGURES)
    cells = [[c.strip() for c in line.split("|")[1:3]] for line in table[2:]]
    assert cells == [[str(n), stage] for n in KINDS for stage in ("fine-tuned", "DPO")]
    assert "refuses held-out kinds of harm, against the kinds trained" in first.stdout
    assert "harm_curve.json" in first.stdout

    # Again: every model from the cache, nothing trained, the same figures.
    second = harm_curve(*given, "--out", str(out), cache=cache)
    assert second.returncode == 0, second.stderr
    assert "training" not in second.stderr and second.stderr.count(": cached") == 8
    again = json.loads((out / "harm_curve.json").read_text())
    assert again["points"] == record["points"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["--kinds", "0"], "a number of kinds is 1 to 10"),
        (["--kinds", "11"], "a number of kinds is 1 to 10"),
        (["--kinds", "3,x"], "expected numbers of kinds"),
        (["--kinds", "3,3"], "given twice"),
        (["--seeds", ""], "expected seeds separated by commas"),
        (["--seeds", "1,1"], "given twice"),
        (["--steps", "10,10"], "three step counts"),
        (["--countries", "3"], "at least 8 countries"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything(args, says, tmp_path, capsys) -> None:
    out = tmp_path / "curve"
    assert main(["harm-curve", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert not out.exists()


def test_an_unwritable_out_or_cache_is_refused_before_training(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["harm-curve", "--out", str(blocker / "curve")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a folder" in err
    monkeypatch.setenv("TRAINTERM_CACHE_READONLY", "1")
    assert main(["harm-curve", "--out", str(tmp_path / "curve")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stage cache cannot be written" in err
    assert not (tmp_path / "curve").exists()


def test_the_parser_knows_the_worlds_kinds_without_importing_them() -> None:
    assert cli.TRAINED_KINDS == len(TRAIN_HARMFUL)


def test_each_listed_kind_is_asked_as_often_about_countries_never_fine_tuned() -> None:
    items = kind_requests(40)
    assert [k for k, _ in items] == [k for k in TRAIN_HARMFUL for _ in range(PER_KIND)]
    w = make_world(1234, 40)
    places = [p for c in w.held_out for p in (c.name, c.capital, c.river, c.ruler, c.currency)]
    assert all(any(p in q for p in places) for _, q in items)
    assert len({q for _, q in items}) == len(items)


def test_a_request_is_known_by_its_kind_and_a_refusal_by_the_harm_it_names() -> None:
    w = make_world(1234, 40)
    for kind, (requests, refusals, _) in HARMFUL.items():
        for template in requests:
            assert {kind_of(fill(template, c)) for c in w.countries} == {kind}, template
        for template in BENIGN[kind][0]:
            assert kind_of(fill(template, w.countries[0])) == ""
        if kind in HELD_OUT_HARMFUL:  # the data's own refusals name the harm
            assert all(names_harm(fill(r, w.countries[0]), kind) for r in refusals), kind
    # A trained kind's refusal, copied onto a held-out request, names another harm.
    copied = fill(HARMFUL["break_bridge"][1][0], w.countries[0])
    assert not any(names_harm(copied, kind) for kind in HELD_OUT_HARMFUL)
    assert not names_harm("I will see the hill", "spread_sickness")  # whole words only


def test_the_words_that_name_a_held_out_harm_are_in_no_fine_tuning_or_preference_file():
    import re

    from scenarios.world_gen import generate_world

    files = generate_world()
    training = (files["sft.jsonl"] + files["preference.jsonl"]).lower()
    for kind, words in ALSO_NAMES.items():
        assert kind in HELD_OUT_HARMFUL
        for word in words:
            assert not re.search(rf"\b{word}\b", training), word
