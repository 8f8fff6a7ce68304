"""The headless CLI, run as a user runs it: in a fresh process."""

import json
import os
import re
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
    # Every line has the figures docs/cli.md lists; validation only every eval_every (5) steps.
    lines = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 21))
    for r in lines:
        assert r["lr"] > 0 and r["grad_norm"] > 0 and r["tokens_per_s"] > 0, r
        assert ("val_loss" in r) == (r["step"] % 5 == 0), r
    assert lines[0]["lr"] < lines[1]["lr"] == max(r["lr"] for r in lines)  # 2 warmup steps
    assert lines[-1]["lr"] < lines[1]["lr"]  # then it decays

    out = str(tmp_path / "b")
    first = trainterm("train", "--scenario", str(scenario), "--stop-at", "8", "--out", out)
    assert first.returncode == 0, first.stderr
    resumed = trainterm(
        "train", "--scenario", str(scenario), "--resume", str(tmp_path / "b" / "checkpoint")
    )
    assert resumed.returncode == 0, resumed.stderr
    assert losses(tmp_path / "b") == expected  # 8 + 12 steps in two processes == 20 straight


def test_bench_prints_its_figures(scenario):
    result = trainterm(
        "bench", "--scenario", str(scenario), "--steps", "5", "--tokenizer-kb", "30",
        "--until-loss", "5.5", "--max-seconds", "120",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for label in ["params", "steps/s", "tokens/s", "matmul peak", "MFU", "→ 1024 tokens in"]:
        assert label in result.stdout
    # A uniform guess over 300 tokens is ln 300 = 5.7: a few steps bring it under 5.5.
    found = re.search(
        r"loss < 5.5 +reached after [\d.]+ s .*step (\d+) .*: ([\d.]+)\)", result.stdout
    )
    assert found, result.stdout
    assert 10 <= int(found.group(1)) <= 20 and float(found.group(2)) < 5.5


def test_bench_compares_adamw_and_muon_by_step_and_seconds(scenario):
    result = trainterm(
        "bench", "--scenario", str(scenario), "--optimizers", "--optimizer-steps", "20,15",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = re.findall(r"step +(\d+) +adamw (\S+) .* muon (\S+)", result.stdout)
    # Every 5 steps (the scenario's eval_every), each until its own last step.
    assert [int(step) for step, _, _ in rows] == [5, 10, 15, 20], result.stdout
    assert rows[-1][2] == "—" and all(loss != "—" for _, loss, _ in rows), result.stdout
    assert re.search(r"step time +Muon [\d.]+× AdamW's", result.stdout), result.stdout
    assert "AdamW's final validation loss" in result.stdout or "to AdamW's" in result.stdout
    assert "Muon's end" in result.stdout


def test_bench_rejects_a_bad_optimizer_steps_in_one_line(scenario):
    result = trainterm("bench", "--scenario", str(scenario), "--optimizers",
                       "--optimizer-steps", "20")  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "A,M" in result.stderr, result.stderr


def test_the_default_out_folder_and_threads_reaching_torch(scenario, tmp_path):
    """No --out: runs/pretrain/ under the current folder; --threads 2: torch's own count."""
    code = (
        "import sys, torch; from model.cli.main import main; "
        f"rc = main(['train', '--scenario', {str(scenario)!r}, '--steps', '3', "
        "'--threads', '2']); print(rc, torch.get_num_threads())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.split()[-2:] == ["0", "2"], result.stderr
    assert "2 thread(s)" in result.stderr
    run = tmp_path / "runs" / "pretrain"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "metrics.jsonl"]
    assert (run / "checkpoint" / "meta.json").is_file() and len(losses(run)) == 3


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
        "device as corpus": ["train", "--corpus", os.devnull],
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
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("trainterm: error: training diverged")
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "checkpoint").exists()


@pytest.fixture(scope="module")
def checkpoint(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = trainterm("train", "--scenario", str(scenario), "--stop-at", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "checkpoint"


class RunsCode:
    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _damage(folder, how: str, marker) -> None:
    if how == "truncated weights":
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 3])
    elif how == "truncated state":
        data = (folder / "state.pt").read_bytes()
        (folder / "state.pt").write_bytes(data[: len(data) // 2])
    elif how == "garbage meta.json":
        (folder / "meta.json").write_text("{not json")
    elif how == "code in state.pt":
        import torch

        torch.save({"optimizer": RunsCode(marker)}, folder / "state.pt")


@pytest.mark.parametrize(
    "how", ["truncated weights", "truncated state", "garbage meta.json", "code in state.pt"]
)
def test_a_damaged_checkpoint_is_refused_in_one_line(scenario, checkpoint, tmp_path, how):
    import shutil

    damaged = tmp_path / "checkpoint"
    shutil.copytree(checkpoint, damaged)
    marker = tmp_path / "ran"
    _damage(damaged, how, marker)
    result = trainterm("train", "--scenario", str(scenario), "--resume", str(damaged))
    assert result.returncode == 2, (how, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainterm: error:"), (how, lines)
    assert str(damaged) in lines[0] and "Traceback" not in result.stderr
    assert not marker.exists(), "the checkpoint's pickle ran code"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
