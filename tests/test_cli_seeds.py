"""`report --seeds`: the pipeline per seed, each seed's runs its own cache entries, every eval
as a median and a range over the seeds; a second report reads the caches, trains nothing."""

from __future__ import annotations

import json
import statistics

import pytest
from stage_fixtures import trainterm, write_preference, write_sft_scenario

from model import protocol as p
from model.evals import over_seeds
from model.stages import ORDER, answers, lacking
from scenarios import load_scenario

SEEDS = (1, 2)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-seeds")
    write_sft_scenario(path)
    write_preference(path)
    return path


def entries(cache) -> list[str]:
    return sorted(path.name for path in (cache / "stages").iterdir())


@pytest.mark.slow
def test_seeds_train_once_each_then_a_second_report_reads_the_caches(folder, tmp_path):
    cache = tmp_path / "cache"
    seeds = ",".join(map(str, SEEDS))
    # Whatever the registry lists, as far as the scenario has the data: read, not written here.
    stages = [stage for stage in ORDER if not lacking(load_scenario(folder), stage)]
    assert {"pretrain", "sft", "dpo", "reward-model", "rlhf"} <= set(stages)
    first = trainterm("report", "--scenario", str(folder), "--seeds", seeds, "--json", cache=cache)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["seeds"] == list(SEEDS) and list(result["stages"]) == stages
    # Each seed's runs are cache entries of their own: one per stage per seed.
    made = entries(cache)
    assert sorted(name.rsplit("-", 1)[0] for name in made) == sorted(stages * len(SEEDS))
    for seed in SEEDS:
        for stage in stages:
            assert any(f"seed {seed} · {stage}" in line and "trained" in line
                       for line in first.stderr.splitlines()), (seed, stage)  # fmt: skip
    for stage, figures in result["stages"].items():
        for key, f in figures.items():
            values = list(f["values"].values())
            assert list(f["values"]) == [str(s) for s in SEEDS], (stage, key)
            assert f["median"] == statistics.median(values), (stage, key)
            assert (f["min"], f["max"]) == (min(values), max(values)), (stage, key)
        if answers(stage):
            assert figures["well_formed"]["label"] == "well-formed", stage
    loss = result["stages"]["pretrain"]["val_loss"]
    assert loss["min"] < loss["max"], "the seed changes the run"

    # Seed 2's fine-tuned model, asked by `eval`, gives the figure the report took for it.
    sft = next(cache / "stages" / name for name in made if name.startswith("sft-")
               and json.loads((cache / "stages" / name / "meta.json").read_text())
               ["settings"]["seed"] == 2)  # fmt: skip
    said = trainterm("eval", "--scenario", str(folder), "--model", str(sft), "--json", cache=cache)
    assert said.returncode == 0, said.stderr
    asked = json.loads(said.stdout)["evals"]
    assert set(asked["well_formed"]["broken"]) == {"words", "repeat", "end"}
    for key, figure in asked.items():
        mine = result["stages"]["sft"][key]["values"]["2"]
        assert mine == figure.get("score", figure["rate"]), key

    second = trainterm("report", "--scenario", str(folder), "--seeds", seeds, cache=cache)
    assert second.returncode == 0, second.stderr
    assert entries(cache) == made, "nothing trained again"
    lines = [line for line in second.stderr.splitlines() if " · " in line]
    assert len(lines) == len(SEEDS) * len(stages)
    assert all("cached · scores cached" in line for line in lines), second.stderr
    table = second.stdout.splitlines()
    header = next(line for line in table if line.startswith("| metric"))
    assert [c.strip() for c in header.split("|")[2:-1]] == stages
    well_formed = next(line for line in table if line.startswith("| well-formed "))
    cells = [c.strip() for c in well_formed.split("|")[2:-1]]
    for stage, shown in zip(stages, cells, strict=True):
        f = result["stages"][stage].get("well_formed")
        assert shown == ("–" if f is None else over_seeds.cell(_spread(f), "rate")), stage

    # `train --seed 2` trains seed 2's recipe: it caches its run under the key the report's
    # seed 2 already holds, so no entry is added (`train --stage all --seed 2` chains on).
    out = tmp_path / "pretrain"
    again = trainterm("train", "--scenario", str(folder), "--seed", "2", "--out", str(out),
                      cache=cache)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert entries(cache) == made
    fresh = trainterm("train", "--scenario", str(folder), "--seed", "3", "--out", str(out),
                      cache=cache)  # fmt: skip
    assert fresh.returncode == 0 and len(entries(cache)) == len(made) + 1, "another seed, another"
    # A later stage with --seed starts from that seed's parent: seed 3's base model, just
    # cached, not the default seed's (which would be trained and cached as well).
    sft = trainterm("train", "--scenario", str(folder), "--stage", "sft", "--seed", "3",
                    "--out", str(tmp_path / "sft"), cache=cache)  # fmt: skip
    assert sft.returncode == 0, sft.stderr
    assert len(entries(cache)) == len(made) + 2 and "training the pretrain" not in sft.stderr


def _spread(figure: dict) -> over_seeds.Spread:
    values = figure["values"]
    return over_seeds.Spread(tuple(map(int, values)), tuple(values.values()))


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--seeds", "1,x"], "got 'x'"),
        (["--seeds", ""], "e.g. 1,2,3"),
        (["--seeds", "1,1"], "seed 1 is given twice"),
        (["--seeds", "1,,2"], "got ''"),
        (["--seeds", "1", "somewhere"], "not both"),
        (["--seeds", "1", "--seed", "3"], "drop --seed"),
        ([], "--seeds 1,2,3"),
    ],
)
def test_bad_seeds_are_one_line_exit_2(args, expected, folder, tmp_path):
    result = trainterm("report", "--scenario", str(folder), *args, cache=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "stages").exists(), "nothing trained"


def _column(stage: str, rate: float, val: float, score: float | None = None) -> p.ReportColumn:
    row = p.EvalRow("well_formed", "well-formed", round(rate * 20), 20, score=score)
    return p.ReportColumn(stage, 10, 10, val, 1.5, 100, (row,))


def test_a_stage_the_registry_adds_gets_its_column_and_a_median_with_its_range():
    cards = {
        seed: p.ReportCard("tiny", (_column("sft", rate, val), _column("rlvr", 1.0, 2.0)))
        for seed, rate, val in ((1, 0.5, 1.0), (2, 0.9, 1.2), (3, 0.6, 1.1))
    }
    rows = dict(over_seeds.rows(cards))
    assert over_seeds.stages(cards) == ["sft", "rlvr"]
    assert rows["well-formed"] == ["60 % (50–90)", "100 %"]
    assert rows["validation loss"] == ["1.100 (1.000–1.200)", "2.000"]
    figure = over_seeds.as_json(cards)["stages"]["sft"]["well_formed"]
    assert (figure["median"], figure["min"], figure["max"]) == (0.6, 0.5, 0.9)
    assert figure["values"] == {"1": 0.5, "2": 0.9, "3": 0.6}
    scored = {s: p.ReportCard("t", (_column("rlhf", 0.5, 1.0, score=v),))
              for s, v in ((1, -0.2), (2, 0.1))}  # fmt: skip
    assert dict(over_seeds.rows(scored))["well-formed"] == ["-0.05 (-0.20 … +0.10)"]
