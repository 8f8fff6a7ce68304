"""The headless CLI, run as a user runs it: in a fresh process."""

import json
import subprocess
import sys

import pytest
from engine_fixtures import tiny_corpus

TINY_SCENARIO = """
name = "tiny"
[model]
d_model = 32
n_layer = 2
n_head = 2
context = 32
vocab_size = 300
[pretrain]
steps = 20
batch_size = 8
warmup_steps = 2
eval_every = 5
"""


def trainterm(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "scenario.toml").write_text(TINY_SCENARIO)
    (folder / "corpus.txt").write_text(tiny_corpus())
    return folder


def losses(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


def test_train_writes_metrics_and_a_checkpoint_that_resumes_exactly(scenario, tmp_path):
    straight = trainterm("train", "--scenario", str(scenario), "--out", str(tmp_path / "a"))
    assert straight.returncode == 0, straight.stderr
    assert "saved" in straight.stderr
    expected = losses(tmp_path / "a")
    assert len(expected) == 20 and expected[-1] < expected[0]

    out = str(tmp_path / "b")
    first = trainterm("train", "--scenario", str(scenario), "--stop-at", "8", "--out", out)
    assert first.returncode == 0, first.stderr
    resumed = trainterm(
        "train", "--scenario", str(scenario), "--resume", str(tmp_path / "b" / "checkpoint")
    )
    assert resumed.returncode == 0, resumed.stderr
    assert losses(tmp_path / "b") == expected  # 8 + 12 steps in two processes == 20 straight


def test_bench_prints_its_figures(scenario):
    result = trainterm("bench", "--scenario", str(scenario), "--steps", "5", "--tokenizer-kb", "30")
    assert result.returncode == 0, result.stderr
    for label in ["params", "steps/s", "tokens/s", "matmul peak", "MFU", "→ 1024 tokens in"]:
        assert label in result.stdout


def _bad_inputs(tmp_path, scenario):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("A short corpus. " * 4)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    s = str(scenario)
    return {
        "missing corpus": ["train", "--corpus", str(tmp_path / "nope.txt")],
        "empty corpus": ["train", "--corpus", str(empty)],
        "binary corpus": ["train", "--corpus", str(binary)],
        "directory as corpus": ["train", "--corpus", str(tmp_path)],
        "corpus shorter than a window": ["train", "--corpus", str(tiny)],
        "vocabulary too small": ["train", "--scenario", s, "--vocab", "100"],
        "unknown stage": ["train", "--scenario", s, "--stage", "pretraining"],
        "stage not built yet": ["train", "--scenario", s, "--stage", "sft"],
        "out not writable": ["train", "--scenario", s, "--out", str(blocked / "sub")],
        "zero steps": ["train", "--scenario", s, "--steps", "0"],
        "negative steps": ["train", "--scenario", s, "--steps", "-5"],
        "corrupt resume": ["train", "--scenario", s, "--resume", str(tmp_path)],
        "no command": ["frobnicate"],
    }


def test_bad_input_is_one_line_exit_2_and_writes_nothing(scenario, tmp_path):
    cases = _bad_inputs(tmp_path, scenario)
    before = sorted(p.name for p in tmp_path.iterdir())
    for label, args in cases.items():
        result = trainterm(*args, cwd=tmp_path)
        assert result.returncode == 2, (label, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("trainterm: error:"), (label, lines)
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no runs/ folder appeared


def test_exploding_learning_rate_exits_with_one_line(scenario, tmp_path):
    result = trainterm("train", "--scenario", str(scenario), "--lr", "1e6", "--out", str(tmp_path))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("trainterm: error: training diverged")
    assert not (tmp_path / "checkpoint").exists()
