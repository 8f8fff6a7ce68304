"""The app's plain parts: loss history, speed caps, chip layout, colours, schedule, imports."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.protocol import Alternative, Position
from model.settings import TrainSettings
from tui.bounded_series import LossSeries, RateMeter, thin
from tui.speeds import SPEEDS, next_speed, speed_label
from tui.widgets.common.formatting import bar, count, loss_rgb, sci, token_display
from tui.widgets.common.token_stream import chips_for, layout
from tui.widgets.pretrain.lr_schedule import Schedule


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("module", ["tui.app", "tui.cli", "tui.bench.ui"])
def test_the_ui_never_imports_torch(module):
    result = run(f"import sys, {module}; assert 'torch' not in sys.modules, 'torch'")
    assert result.returncode == 0, result.stderr


def test_headless_commands_do_not_load_textual():
    code = (
        "import sys, tui.cli\n"
        "assert tui.cli.main(['bench', '--steps', 'x']) == 2\n"
        "assert 'textual' not in sys.modules and 'torch' not in sys.modules\n"
    )
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert "trainterm: error:" in result.stderr


def test_a_malformed_scenario_is_refused_before_the_screen_opens(tmp_path, capsys):
    from tui.cli import main

    (tmp_path / "scenario.toml").write_text('[pretrain]\nlr = "fast"\n')
    (tmp_path / "corpus.txt").write_text("Cats sleep in the sun. " * 40)
    assert main(["--scenario", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'lr: must be a positive number, got "fast"' in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads", "0"], "--threads"),
        (["--corpus", "/nonexistent/x.txt"], "no such file"),
        (["--scenario", "a", "--corpus", "b"], "not allowed with"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(argv, message, capsys):
    from tui.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("trainterm: error:") and message in err and err.count("\n") == 1


@settings(deadline=None)  # a loaded machine's slow example is not a wrong one
@given(st.lists(st.floats(0, 20, allow_nan=False), max_size=5000), st.integers(2, 300))
def test_thinning_keeps_the_shape_and_never_touches_the_store(losses, limit):
    series = LossSeries()
    points = [(i + 1, v) for i, v in enumerate(losses)]
    series.extend(points)
    xs, ys = series.chart_train(limit)
    assert series.train == points  # stored points are never dropped
    assert len(xs) == len(ys) == min(len(points), limit)
    if points:
        assert (xs[-1], ys[-1]) == (points[-1][0], points[-1][1])
        assert min(losses) - 1e-9 <= min(ys) and max(ys) <= max(losses) + 1e-9
        assert xs == sorted(xs)


def test_thin_short_series_is_unchanged():
    assert thin([(1, 2.0), (2, 1.5)], 10) == ([1.0, 2.0], [2.0, 1.5])


def test_speed_caps_step_through_and_stop_at_the_ends():
    assert SPEEDS == (1, 2, 5, 10, 20, None)
    assert next_speed(None, 1) is None and next_speed(None, -1) == 20
    assert next_speed(1, -1) == 1 and next_speed(5, 1) == 10
    assert speed_label(None) == "max" and speed_label(5) == "5/s"


def test_rate_meter():
    meter = RateMeter(window=2.0)
    for i in range(11):
        meter.add(100 + i * 0.1, 10 + i)
    assert meter.rate(101.0) == pytest.approx(10.0)
    assert meter.rate(104.0) is None  # nothing for longer than the window: no rate


def _position(text: str, target: str, token_id: int = 7, loss: float = 1.0) -> Position:
    return Position(
        token_id,
        text,
        token_id + 1,
        target,
        0.3,
        loss,
        True,
        (Alternative(token_id + 1, target, 0.3),),
    )


def test_chips_are_the_first_token_then_every_target():
    row = (_position("The", " cap"), _position(" cap", "ital"), _position("ital", "\\n"))
    chips = chips_for(row)
    assert [c.text for c in chips] == ["The", " cap", "ital", "↵"]
    assert chips[0].position is None and chips[3].position is row[2]


@settings(deadline=None)
@given(st.lists(st.text(min_size=0, max_size=15), min_size=1, max_size=80), st.integers(0, 200))
def test_layout_fits_every_chip_inside_the_width(texts, width):
    row = tuple(_position(t, t, token_id=i * 37) for i, t in enumerate(texts))
    chips = chips_for(row)
    lines = layout(chips, width)
    assert [i for line in lines for i, _, _ in line] == list(range(len(chips)))
    for line in lines:
        for _, x, w in line:
            assert w >= 1 and (x + w + 1 <= max(2, width) or len(line) == 1)


def test_formatting():
    assert count(1234) == "1.2k" and count(2_500_000) == "2.5M" and count(12) == "12"
    assert sci(3e-3) == "3.0e-3" and sci(0.00123) == "1.2e-3"
    assert bar(0.5, 4) == "██" and bar(0, 4) == "" and bar(1, 3) == "███"
    assert token_display("  ") == "··" and token_display("\\n\\n") == "↵↵"
    green, red = loss_rgb(0.0, 6.0), loss_rgb(6.0, 6.0)
    assert green[1] > green[0] and red[0] > red[1]
    assert loss_rgb(float("nan"), 6.0) == red


def test_schedule_matches_the_trainers():
    from model.settings import lr_at

    settings = TrainSettings(steps=300, lr=2e-3, warmup_steps=20, min_lr_ratio=0.1)
    schedule = Schedule(settings)
    for step in (0, 5, 19, 20, 21, 150, 299, 400):
        assert math.isclose(schedule.lr(step), lr_at(step, settings))
        assert schedule.matches(step + 1, lr_at(step, settings))
    curve = schedule.curve(30)
    assert len(curve) == 30 and curve[0] == "▁" and "█" in curve


def test_app_options_reach_the_engine():
    from tui.start import build_parser, engine_options

    args = build_parser().parse_args(
        ["--corpus", "a.txt", "--threads", "2", "--seed", "9", "--no-mouse", "--resume", "c"]
    )
    options = engine_options(args)
    assert (options.corpus, options.threads, options.seed, options.resume) == ("a.txt", 2, 9, "c")
    assert args.no_mouse and options.scenario is None
    # No --threads: the trainer process takes the default (tests/test_engine.py checks it).
    assert engine_options(build_parser().parse_args([])).threads is None


def test_bench_ui_argument_errors_are_one_line(capsys):
    from tui.cli import main

    assert main(["bench-ui", "--seconds", "soon"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trainterm: error:") and err.count("\n") == 1


def test_preference_evals_put_what_the_stage_changes_first():
    from model.protocol import EvalRow
    from tui.widgets.later.eval_table import _ordered

    keys = ["format", "finetuned", "pretrain_only", "refusals", "false_refusals", "preference"]
    rows = [EvalRow(k, k, 1, 2) for k in keys]
    first = [r.key for r in _ordered(rows, "dpo")][:3]
    assert first == ["preference", "refusals", "false_refusals"]
    assert [r.key for r in _ordered(rows, "sft")] == keys, "other stages keep the eval order"


def test_sampler_keys_step_through_their_ladders_and_stop_at_the_ends():
    from model.protocol import APP_SAMPLER, Sampler
    from tui import sampler as s

    assert s.temperature(APP_SAMPLER, 1).temperature == 1.0
    assert s.temperature(Sampler(0.0), -1).temperature == 0.0
    assert s.temperature(Sampler(2.0), 1).temperature == 2.0
    assert s.temperature(Sampler(0.7), 1).temperature == 0.8, "off the ladder: the next rung"
    assert s.top_k(APP_SAMPLER, 1).top_k is None and s.top_k(Sampler(1, 1), -1).top_k == 1
    assert s.top_p(Sampler(1), -1).top_p == 0.95 and s.top_p(Sampler(1), 1).top_p is None
    assert s.seed(Sampler(1, seed=99), 1).seed == 0 and s.seed(Sampler(1), -1).seed == 99
    assert s.label(APP_SAMPLER) == "T0.8 k40 seed 0"
    assert s.label(Sampler(0.0, 40, 0.9, 3)) == "greedy"
    assert s.label(Sampler(1.5, None, 0.9, 3)) == "T1.5 p0.9 seed 3"


@pytest.mark.parametrize("width", [80, 120])
def test_the_status_line_keeps_the_sampler_at_80_columns(width):
    from model.protocol import Sampler
    from tui.sampler import label
    from tui.widgets.common.status import StatusInfo, status_line

    widest = label(Sampler(0.8, 40, 0.95, 99))
    for sampler in ("greedy", widest):
        info = StatusInfo("world", step=1200, total=1200, loss=1.5, state="paused", sampler=sampler)
        line = status_line(info, width).plain
        assert sampler in line and len(line) <= width
        # Whatever the sampler says, the parts after it stay or go together.
        assert ("speed max" in line) == (width >= 100)
