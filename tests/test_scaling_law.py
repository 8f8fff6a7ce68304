"""The scaling experiment's arithmetic on synthetic points whose law is known: the power-law
fit recovers its exponent (with and without noise), the bootstrap brackets it, and the
compute-optimal picker finds the size a known L(N, D) says wins at a given compute."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.scaling.law import (
    Curve,
    FitError,
    bootstrap_alpha,
    compute_optimal,
    eval_steps,
    fit_power_law,
    flops,
    loss_at_tokens,
    shared_compute,
)
from model.scaling.runs import Size, SizeError, head_count, parse_sizes

SIZES = np.geomspace(2e4, 1.5e6, 6)


def test_the_fit_recovers_an_exact_law():
    law = fit_power_law(SIZES, 1.2 + 40 * SIZES**-0.35)
    assert law.alpha == pytest.approx(0.35, abs=1e-4)
    assert law.a == pytest.approx(40, rel=1e-3)
    assert law.c == pytest.approx(1.2, abs=1e-4)
    assert law.rmse < 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_the_fit_recovers_the_exponent_through_noise(seed):
    rng = np.random.default_rng(seed)
    loss = (1.2 + 40 * SIZES**-0.35) * (1 + rng.normal(0, 0.003, len(SIZES)))
    law = fit_power_law(SIZES, loss)
    assert law.alpha == pytest.approx(0.35, abs=0.06)
    spread = bootstrap_alpha(SIZES, loss, resamples=300, seed=seed)
    assert spread is not None and spread.low <= law.alpha <= spread.high
    assert spread.low < 0.35 + 0.02 and spread.high > 0.35 - 0.02  # the range holds the truth


@settings(max_examples=40, deadline=None)
@given(
    alpha=st.floats(0.05, 1.2),
    floor=st.floats(0.0, 3.0),
    reducible=st.floats(0.3, 5.0),  # the law's part above the floor at the smallest size
)
def test_the_fit_recovers_any_exponent_of_an_exact_law(alpha, floor, reducible):
    a = reducible * SIZES[0] ** alpha
    law = fit_power_law(SIZES, floor + a * SIZES**-alpha)
    assert law.alpha == pytest.approx(alpha, rel=0.02, abs=2e-3)
    assert law.c == pytest.approx(floor, abs=0.02 + 0.02 * reducible)


def test_the_bootstrap_is_seeded_and_needs_four_sizes():
    rng = np.random.default_rng(9)
    loss = (1 + 30 * SIZES**-0.3) * (1 + rng.normal(0, 0.004, len(SIZES)))
    assert bootstrap_alpha(SIZES, loss, 200, seed=3) == bootstrap_alpha(SIZES, loss, 200, seed=3)
    assert bootstrap_alpha(SIZES[:3], loss[:3], 200, seed=3) is None


@pytest.mark.parametrize(
    "n, loss",
    [
        (SIZES, 2 + 0.1 * np.log(SIZES)),  # larger models worse: no decreasing law
        (SIZES[:2], [3.0, 2.0]),  # two points cannot pin three numbers
        ([1e4, 1e4, 1e4], [3.0, 2.9, 2.8]),
        (SIZES, [math.nan] + [2.0] * 5),
    ],
)
def test_the_fit_refuses_what_has_no_power_law(n, loss):
    with pytest.raises(FitError):
        fit_power_law(n, loss)


# --- equal compute ------------------------------------------------------------------------


def chinchilla_loss(n, d):
    """Hoffmann et al. 2022's fitted law (approach 3), a stand-in for real curves."""
    return 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28


def synthetic_curves(sizes, tokens_max):
    tokens = np.geomspace(1e3, tokens_max, 40)
    return [
        Curve(f"s{i}", int(n), tuple((float(t), chinchilla_loss(n, t)) for t in tokens))
        for i, n in enumerate(sizes)
    ]


def test_the_picker_finds_the_size_the_law_says_wins():
    sizes = np.geomspace(1e4, 1e7, 7)
    curves = synthetic_curves(sizes, 1e11)
    compute = 1e14
    best = compute_optimal(curves, compute)
    truth = [chinchilla_loss(n, compute / (6 * n)) for n in sizes]
    assert best.winner == int(np.argmin(truth))
    assert 0 < best.winner < len(sizes) - 1  # an interior answer: the parabola applies
    for e, expected in zip(best.entries, truth, strict=True):
        assert e.loss == pytest.approx(expected, rel=2e-3)
    # The continuous optimum of the law at this compute, by brute force over N.
    grid = np.geomspace(1e3, 1e9, 20001)
    n_opt = grid[np.argmin(chinchilla_loss(grid, compute / (6 * grid)))]
    assert best.n_opt == pytest.approx(n_opt, rel=0.35)
    assert best.tokens_per_param == pytest.approx(best.best.tokens / best.best.params)


def test_the_picker_skips_runs_that_never_measured_that_compute():
    curves = synthetic_curves([1e4, 1e5, 1e6], 1e6)
    compute = shared_compute(curves)
    assert compute == pytest.approx(flops(1e4, 1e6))
    best = compute_optimal(curves, compute)
    assert all(e.loss is not None for e in best.entries)
    # Past the small run's end only the larger two are measured there...
    later = compute_optimal(curves, compute * 10)
    assert later.entries[0].loss is None and later.winner in (1, 2)
    # ...and a compute so small that the largest has not reached its first measurement.
    early = compute_optimal(curves, flops(1e5, 2e3))
    assert early.entries[2].loss is None
    with pytest.raises(ValueError, match="fewer than 2"):
        compute_optimal(curves, compute * 1000)


def test_losses_between_measurements_are_interpolated_in_log_tokens():
    points = ((100.0, 4.0), (10_000.0, 2.0))
    assert loss_at_tokens(points, 1000.0) == pytest.approx(3.0)
    assert loss_at_tokens(points, 100.0) == 4.0
    assert loss_at_tokens(points, 99.0) is None and loss_at_tokens(points, 10_001.0) is None


def test_eval_steps_are_log_spaced_and_end_at_the_run():
    steps = eval_steps(200, 16)
    assert steps[0] == 1 and steps[-1] == 200 and steps == sorted(set(steps))
    assert len([s for s in steps if s <= 20]) >= len([s for s in steps if s > 20]) - 2
    assert eval_steps(3) == [1, 2, 3]


def test_sizes_read_from_the_command_line():
    assert parse_sizes("24x1x2, 40×2,64X3x4") == [Size(24, 1, 2), Size(40, 2, 1), Size(64, 3, 4)]
    assert head_count(96) == 3 and head_count(64) == 2 and head_count(24) == 1
    for bad, words in [
        ("24x1", "3 to"),
        ("24x1,40x2,abc", "'abc'"),
        ("24x1,40x2,24x1", "twice"),
        ("24x0,40x2,64x3", "zero"),
        ("24x1,,64x3", "''"),
    ]:
        with pytest.raises(SizeError, match=words):
            parse_sizes(bad)
