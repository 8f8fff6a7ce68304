"""Bad input to `trainterm train` writes nothing to the stage cache either: the one-line error
comes before any parent stage is trained (and cached) for a run that cannot start."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
from stage_fixtures import write_preference, write_sft_scenario

pytestmark = pytest.mark.slow


# Where a check regresses, a case goes on to train with a batch of 65,536: tens of GB on a
# shared machine. Under this cap the allocation fails in the child alone.
MEMORY_CAP = 3 * 1024**3


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def trainterm(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=cwd,
        preexec_fn=_capped,
    )  # fmt: skip


def listing(folder) -> list[tuple[str, int]]:
    """Every file under ``folder`` with its size: what a write would change."""
    if not folder.exists():
        return []
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def _cases(tmp_path, scenario) -> dict[str, list[str]]:
    s = str(scenario)
    latin = tmp_path / "latin"
    latin.mkdir()
    write_sft_scenario(latin)
    with (latin / "corpus.txt").open("ab") as f:
        f.write("Le café.".encode("latin-1"))  # one é not in UTF-8, at the very end
    broken_toml = tmp_path / "broken-toml"
    broken_toml.mkdir()
    write_sft_scenario(broken_toml)
    (broken_toml / "scenario.toml").write_text('name = "unclosed\n')
    no_answer = tmp_path / "no-answer"
    no_answer.mkdir()
    write_sft_scenario(no_answer)
    (no_answer / "sft.jsonl").write_text(json.dumps({"prompt": "Capital of Tarsk?"}) + "\n")
    # The loader refuses a batch that needs more than 4 GB a step; the command line must too.
    too_big = str(65_536)
    return {
        # Each fine-tunes or aligns: without the error first, the stages before it would be
        # trained into the cache.
        "non-UTF-8 corpus": ["train", "--scenario", str(latin), "--stage", "sft"],
        "malformed scenario.toml": ["train", "--scenario", str(broken_toml), "--stage", "sft"],
        "conversation without an answer": ["train", "--scenario", str(no_answer), "--stage", "sft"],
        "zero lr": ["train", "--scenario", s, "--stage", "sft", "--lr", "0"],
        "nan lr": ["train", "--scenario", s, "--stage", "sft", "--lr", "nan"],
        "negative β": ["train", "--scenario", s, "--stage", "dpo", "--beta", "-1"],
        "β on fine-tuning": ["train", "--scenario", s, "--stage", "sft", "--beta", "0.1"],
        "vocabulary too small": ["train", "--scenario", s, "--stage", "sft", "--vocab", "100"],
        "vocabulary of another base": [
            "train", "--scenario", s, "--stage", "sft", "--vocab", "400",
        ],
        "batch past the memory limit": [
            "train", "--scenario", s, "--stage", "sft", "--batch-size", too_big,
        ],
        "missing reward model": [
            "train", "--scenario", s, "--stage", "rlhf", "--reward-model", str(tmp_path / "no"),
        ],
        "missing base": ["train", "--scenario", s, "--stage", "dpo", "--from", str(tmp_path)],
    }  # fmt: skip


def test_bad_input_leaves_the_stage_cache_as_it_was(tmp_path, monkeypatch):
    scenario = tmp_path / "tiny"
    scenario.mkdir()
    write_sft_scenario(scenario)
    write_preference(scenario)
    wrong = []
    for n, (label, args) in enumerate(_cases(tmp_path, scenario).items()):
        # A cache of its own each (so no case finds a parent another case trained), holding
        # one entry to leave alone.
        cache = tmp_path / f"cache-{n}"
        (cache / "stages" / "pretrain-0").mkdir(parents=True)
        (cache / "stages" / "pretrain-0" / "meta.json").write_text("{}")
        monkeypatch.setenv("TRAINTERM_CACHE", str(cache))
        before = listing(cache)
        result = trainterm(*args, cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        one_line = len(lines) == 1 and lines[0].startswith("trainterm: error:")
        if result.returncode != 2 or not one_line:
            wrong.append(f"{label}: exit {result.returncode}, {result.stderr[-300:]!r}")
        if listing(cache) != before:
            wrong.append(f"{label}: the stage cache changed")
    assert not wrong, "\n".join(wrong)
