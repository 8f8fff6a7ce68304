"""What a step costs: the FLOPs count the bench and the screen share, the run beside a real
one, and where the screen says them (model pane, status line, the optimizer's box)."""

from __future__ import annotations

import math
from dataclasses import replace

from model.flops import REAL_RUNS, beside, per_token, si
from tui.widgets.common.formatting import sci
from tui.widgets.common.status import StatusInfo, status_line
from tui.widgets.pretrain.cost import cost_line, cost_words, flops, rate_words


def test_a_token_costs_six_per_parameter_plus_attention():
    # 1 M parameters, 2 layers of width 64 over 128 positions.
    assert per_token(1_000_000, 2, 64, 128) == 6_000_000 + 12 * 2 * 64 * 128


def test_gpt3_beside_itself_is_one_times_and_its_years_follow_the_rate():
    gpt3 = REAL_RUNS[0]
    said = beside(gpt3.flops, gpt3.flops / (365.25 * 24 * 3600))
    assert "10^0.0 times" in said and "would need 1 years" in said
    said = beside(gpt3.flops / 1e10, 1e9)
    assert "10^10.0 times" in said and f"{gpt3.flops / 1e9 / (365.25 * 24 * 3600):,.0f}" in said
    assert beside(0, 1e9) == "" and beside(1e12, 0) == ""


def test_si_says_flops_as_people_do():
    assert [si(v) for v in (950, 3.1e9, 2e12)] == ["950 ", "3.1 G", "2.0 T"]


def test_the_screen_counts_a_step_and_the_run(recording):
    ready, report = recording.ready, recording.reports[-1]
    token, step, run = flops(ready, report)
    assert step == token * ready.batch_size * ready.context
    assert run == token * report.tokens_seen and run > step
    assert cost_line(ready, report) == f"FLOPs step {sci(step)} · run {sci(run)}"


def test_mfu_is_the_rate_over_the_measured_ceiling(recording):
    report = replace(recording.reports[-1], tokens_per_s=1000.0)
    ready = replace(recording.ready, peak_flops=0.0)
    per_s = flops(ready, report)[0] * 1000
    assert rate_words(ready, report) == f"{si(per_s)}FLOP/s"  # no ceiling measured: no MFU
    ready = replace(ready, peak_flops=per_s * 4)
    assert rate_words(ready, report).endswith("MFU 25%")
    line = status_line(StatusInfo(state="playing", compute=rate_words(ready, report)), 160)
    assert "MFU 25%" in line.plain
    # At 80 columns it gives way to what matters more: nothing else is pushed out.
    narrow = status_line(StatusInfo(state="playing", step=5, total=9, loss=1.0), 80).plain
    assert status_line(
        StatusInfo(state="playing", step=5, total=9, loss=1.0, compute="1.0 GFLOP/s · MFU 9%"), 80
    ).plain.startswith(narrow.rstrip())


def test_the_optimizer_box_puts_the_run_beside_gpt3(recording):
    report = replace(recording.reports[-1], tokens_per_s=5000.0)
    ready = replace(recording.ready, peak_flops=1e10)
    words = cost_words(ready, report)
    assert f"6 × {ready.params:,} parameters" in words and "MFU" in words
    assert "GPT-3 took 10^" in words and "years" in words
    exponent = float(words.split("GPT-3 took 10^")[1].split(" ")[0])
    assert math.isclose(exponent, math.log10(REAL_RUNS[0].flops / flops(ready, report)[2]),
                        abs_tol=0.05)  # fmt: skip
