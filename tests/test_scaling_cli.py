"""`trainterm scaling` as a user runs it: a tiny experiment end to end in a fresh process
(three sizes really trained, the table, the fit, the charts, the files), and bad input
refused in one line with exit code 2 before anything trains or is written."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from engine_fixtures import tiny_corpus

from model.cli.main import main

TINY = """
name = "tiny"
[model]
d_model = 32
n_layer = 2
n_head = 2
context = 32
vocab_size = 300
[pretrain]
batch_size = 8
"""
SIZES = "8x1,16x1,32x2"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "scenario.toml").write_text(TINY)
    (folder / "corpus.txt").write_text(tiny_corpus())
    return folder


@pytest.mark.slow
def test_a_tiny_experiment_end_to_end(scenario, tmp_path):
    out = tmp_path / "scaling"
    result = subprocess.run(
        [
            sys.executable, "-m", "tui", "scaling", "--scenario", str(scenario),
            "--sizes", SIZES, "--tokens", "3000", "--threads", "1", "--out", str(out),
        ],
        capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "100"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # 3,000 tokens at 8 × 32 a step: 11 whole steps, 2,816 tokens for every size.
    rows = list(csv.DictReader((out / "scaling.csv").open()))
    assert [r["size"] for r in rows] == ["8x1x1", "16x1x1", "32x2x1"]
    assert all(r["steps"] == "11" and r["tokens"] == "2816" for r in rows)
    params = [int(r["params"]) for r in rows]
    assert params == sorted(params) and params[0] < params[-1] / 5
    record = json.loads((out / "scaling.json").read_text())
    assert record["tokens_per_size"] == 2816 and record["threads"] == 1
    for run, row in zip(record["runs"], rows, strict=True):
        assert run["val_loss"] == pytest.approx(float(row["val_loss"]), abs=1e-6)
        assert run["curve"][-1]["step"] == 11 and run["curve"][-1]["val_loss"] == run["val_loss"]
        assert run["curve"][0]["step"] == 1
        # Eleven steps of training bring every size below a uniform guess (ln 300 = 5.7).
        assert run["val_loss"] < 5.7
    # The biggest of these sizes learns fastest per token: the losses fall with N, so a law
    # fits, and three points admit no bootstrap range.
    assert record["fit"] is not None and record["fit"]["alpha"] > 0
    assert record["alpha_range"] is None
    best, read = record["compute_optimal"], record["compute_optimal_read_mid_run"]
    assert best["compute_flops"] == pytest.approx(6 * params[0] * 2816)
    # Trained to C: the smallest size's own run, the others' shorter runs of their own, each
    # about C / 6N tokens in whole steps of 256.
    for at, n in zip(best["at_compute"], params, strict=True):
        assert at["params"] == n and at["val_loss"] is not None
        assert at["tokens"] == 256 * round(2816 * params[0] / n / 256)
    assert best["at_compute"][0]["val_loss"] == record["runs"][0]["val_loss"]
    losses = [at["val_loss"] for at in best["at_compute"]]
    assert best["winner"] == rows[losses.index(min(losses))]["size"]
    assert read["winner"] in [r["size"] for r in rows]
    assert "to C" in result.stderr  # the runs to C had progress bars of their own
    assert len(record["caveats"]) >= 4
    # The same report for the app's scaling screen: plain text, the table and the charts.
    text = (out / "scaling.txt").read_text()
    assert "\x1b[" not in text and "fit" in text and "caveats" in text
    assert all(size in text for size in ("8x1x1", "16x1x1", "32x2x1"))
    assert text.splitlines()[0] in result.stdout
    text = result.stdout
    for words in ["val loss", "α ", "L(N) = ", "log–log", "Chinchilla", "caveats", "wall time"]:
        assert words in text, words
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--tokens", "0"], "--tokens: must be at least 1"),
        (["--tokens", "-5"], "--tokens: must be at least 1"),
        (["--tokens", "100"], "less than one batch"),
        (["--tokens", "100000"], "too few for the sizes' budget"),
        (["--sizes", "8x1,16x1"], "3 to 8 sizes"),
        (["--sizes", "8x1,16x1,30x1x4"], "30x1x4: d_model (30) must be divisible by n_head (4)"),
        (["--sizes", "8x1,16x1,big"], "'big' is not WIDTHxLAYERS"),
        (["--compute", "1e10"], "size 8x1x1 would need 470,272 tokens, more than 4 passes"),
        (["--compute", "1e3"], "fewer than 2 sizes get a whole step"),
        (["--compute", "0"], "--compute: must be a positive number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(scenario, tmp_path, capsys, args, words):
    out = tmp_path / "never"
    argv = ["scaling", "--scenario", str(scenario), "--sizes", SIZES, "--tokens", "2000"]
    code = main([*argv, "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("trainterm: error: ") and err.count("\n") == 1, err
    assert words in err, err
    assert not out.exists()  # refused before anything was trained or written


@pytest.mark.parametrize("where", ["file", "proc"])
def test_an_unwritable_out_is_refused_before_training(scenario, tmp_path, capsys, where):
    if where == "file":
        (tmp_path / "plain").write_text("")
        out, words = tmp_path / "plain" / "scaling", "is not a folder"
    else:
        out, words = "/proc/trainterm-scaling", "cannot write there"
    code = main(["scaling", "--scenario", str(scenario), "--sizes", SIZES, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_help_names_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["scaling", "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    for words in ["--sizes", "--tokens", "--compute", "--out", "L(N) = a·N^(−α) + c"]:
        assert words in help_text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "scaling" in capsys.readouterr().out
    from tui.start import build_parser

    assert "scaling" in build_parser().format_help()
