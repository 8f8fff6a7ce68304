"""The arithmetic of a scaling experiment, on plain numbers (numpy, no torch): a power law
L(N) = a·N^(−α) + c fitted to losses, a bootstrap range for α, and which model size wins at
a fixed compute C ≈ 6·N·D read from the runs' validation curves."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Kaplan et al. (2020) and Hoffmann et al. (2022): a training step costs about 6 FLOPs per
# parameter per token (2 forward, 4 backward), attention's own term left out.
FLOPS_PER_PARAM_TOKEN = 6
# Hoffmann et al. 2022 ("Chinchilla"): compute-optimal models see about 20 tokens per
# parameter (Table 3: 1.4 T tokens for 70 B parameters).
CHINCHILLA_TOKENS_PER_PARAM = 20

# α is searched over this range: real language models sit near 0.07 (Kaplan, N without
# embeddings) to 0.34 (Chinchilla, all parameters); tiny ones can be steeper.
_ALPHAS = np.geomspace(1e-3, 4.0, 800)


class FitError(ValueError):
    """The points admit no decreasing power law (too few, or the loss does not fall)."""


@dataclass(frozen=True)
class PowerLaw:
    a: float
    alpha: float
    c: float
    rmse: float

    def __call__(self, n):
        return self.a * np.asarray(n, dtype=float) ** -self.alpha + self.c


def _best_linear(u: np.ndarray, loss: np.ndarray):
    """For rows of u = N^(−α), least squares of loss = a·u + c with c ≥ 0: (a, c, sse) rows.

    Given α the law is a straight line in u, so a and c have a closed form: the fit is a
    one-dimensional search over α (variable projection), exact least squares in L.
    """
    um, lm = u.mean(axis=-1, keepdims=True), loss.mean()
    du = u - um
    var = (du * du).sum(axis=-1)
    a = (du * (loss - lm)).sum(axis=-1) / np.where(var > 0, var, np.inf)
    c = lm - a * um[..., 0]
    # An entropy floor below 0 is impossible: there the best law has no floor at all.
    negative = c < 0
    a = np.where(negative, (u * loss).sum(axis=-1) / (u * u).sum(axis=-1), a)
    c = np.where(negative, 0.0, c)
    sse = ((a[..., None] * u + c[..., None] - loss) ** 2).sum(axis=-1)
    return a, c, sse


def fit_power_law(n: Sequence[float], loss: Sequence[float]) -> PowerLaw:
    """Least-squares L(N) = a·N^(−α) + c with a > 0, α > 0 and 0 ≤ c."""
    n, loss = np.asarray(n, dtype=float), np.asarray(loss, dtype=float)
    if n.shape != loss.shape or len(n) < 3 or len(np.unique(n)) < 3:
        raise FitError("a power law with a floor needs losses at 3 or more model sizes")
    if not (np.all(np.isfinite(n)) and np.all(n > 0) and np.all(np.isfinite(loss))):
        raise FitError("sizes must be positive and losses finite")
    # Scaled so N^(−α) stays within floating point for any α searched.
    x = np.log(n / n.min())
    u = np.exp(-_ALPHAS[:, None] * x[None, :])
    a, c, sse = _best_linear(u, loss)
    sse = np.where(a > 0, sse, np.inf)
    i = int(np.argmin(sse))
    if not math.isfinite(sse[i]) or i == 0:
        raise FitError("the loss does not fall as the model grows: no power law to fit")
    alpha = _refine(x, loss, _ALPHAS[max(i - 1, 0)], _ALPHAS[min(i + 1, len(_ALPHAS) - 1)])
    a, c, sse = _best_linear(np.exp(-alpha * x)[None, :], loss)
    # Back from N / N_min to N: a·(N/N_min)^(−α) = a·N_min^α · N^(−α).
    scale = float(a[0]) * n.min() ** alpha
    return PowerLaw(float(scale), float(alpha), float(c[0]), math.sqrt(float(sse[0]) / len(n)))


def _refine(x: np.ndarray, loss: np.ndarray, lo: float, hi: float, rounds: int = 30) -> float:
    """Golden-section search of α between two grid points around the grid's best."""

    def sse(alpha: float) -> float:
        a, _, s = _best_linear(np.exp(-alpha * x)[None, :], loss)
        return float(s[0]) if a[0] > 0 else math.inf

    ratio = (math.sqrt(5) - 1) / 2
    p, q = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fp, fq = sse(p), sse(q)
    for _ in range(rounds):
        if fp <= fq:
            hi, q, fq = q, p, fp
            p = hi - ratio * (hi - lo)
            fp = sse(p)
        else:
            lo, p, fp = p, q, fq
            q = lo + ratio * (hi - lo)
            fq = sse(q)
    return (lo + hi) / 2


@dataclass(frozen=True)
class AlphaRange:
    low: float
    high: float
    fits: int  # resamples that admitted a fit
    resamples: int
    level: float  # e.g. 0.9 for the 5th to 95th percentile


def bootstrap_alpha(
    n: Sequence[float], loss: Sequence[float], resamples: int = 1000, seed: int = 0,
    level: float = 0.9,
) -> AlphaRange | None:  # fmt: skip
    """α's percentile range over fits to the points resampled with replacement. Resamples
    with fewer than 3 distinct sizes, or no decreasing law, are skipped; None if none fits,
    or if there are only 3 points (every usable resample would be the points themselves)."""
    n, loss = np.asarray(n, dtype=float), np.asarray(loss, dtype=float)
    if len(np.unique(n)) < 4:
        return None
    rng = np.random.default_rng(seed)
    alphas = []
    for _ in range(resamples):
        pick = rng.integers(0, len(n), len(n))
        if len(np.unique(pick)) < 3:
            continue
        try:
            alphas.append(fit_power_law(n[pick], loss[pick]).alpha)
        except FitError:
            continue
    if not alphas:
        return None
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return AlphaRange(float(low), float(high), len(alphas), resamples, level)


# --- equal compute ------------------------------------------------------------------------


def flops(params: float, tokens: float) -> float:
    return FLOPS_PER_PARAM_TOKEN * params * tokens


@dataclass(frozen=True)
class Curve:
    """One size's validation loss against tokens seen, tokens increasing."""

    label: str
    params: int
    points: tuple[tuple[float, float], ...]

    @property
    def final_compute(self) -> float:
        return flops(self.params, self.points[-1][0])


def loss_at_tokens(points: Sequence[tuple[float, float]], tokens: float) -> float | None:
    """The curve's loss after ``tokens``, linear in log tokens between its measured points;
    None outside them (before the first measurement, or past the end of the run)."""
    if not points or not points[0][0] <= tokens <= points[-1][0]:
        return None
    xs = [t for t, _ in points]
    j = bisect.bisect_left(xs, tokens)
    if xs[j] == tokens:
        return points[j][1]
    (t0, l0), (t1, l1) = points[j - 1], points[j]
    w = (math.log(tokens) - math.log(t0)) / (math.log(t1) - math.log(t0))
    return l0 + w * (l1 - l0)


@dataclass(frozen=True)
class AtCompute:
    label: str
    params: int
    tokens: float
    loss: float | None  # None: this run never measured its loss at that compute


@dataclass(frozen=True)
class Optimum:
    compute: float
    entries: tuple[AtCompute, ...]  # by size
    winner: int  # index into entries
    # The parabola's minimum in log N through the winner and its neighbours (Hoffmann et
    # al.'s "IsoFLOP profiles"), when the winner is not the smallest or largest size.
    n_opt: float | None

    @property
    def best(self) -> AtCompute:
        return self.entries[self.winner]

    @property
    def tokens_per_param(self) -> float:
        return self.best.tokens / self.best.params


def shared_compute(curves: Sequence[Curve]) -> float:
    """The largest compute every run reached: the smallest model's whole run."""
    return min(c.final_compute for c in curves)


def compute_optimal(curves: Sequence[Curve], compute: float) -> Optimum:
    """Which size has the lowest loss after ``compute`` FLOPs, read from each size's curve
    where its compute reaches that much (mid-run for all but the run that ends there)."""
    if not compute > 0:
        raise ValueError(f"compute must be positive, got {compute}")
    entries = []
    for curve in sorted(curves, key=lambda c: c.params):
        tokens = compute / (FLOPS_PER_PARAM_TOKEN * curve.params)
        loss = loss_at_tokens(curve.points, tokens)
        entries.append(AtCompute(curve.label, curve.params, tokens, loss))
    return pick(compute, entries)


def pick(compute: float, entries: Sequence[AtCompute]) -> Optimum:
    """The entry with the lowest loss; ``entries`` by size, a None loss never measured."""
    entries = tuple(sorted(entries, key=lambda e: e.params))
    measured = [i for i, e in enumerate(entries) if e.loss is not None]
    if len(measured) < 2:
        raise ValueError(f"fewer than 2 sizes measured their loss at {compute:.3g} FLOPs")
    winner = min(measured, key=lambda i: entries[i].loss)
    return Optimum(compute, entries, winner, _parabola_min(entries, measured, winner))


def _parabola_min(entries, measured: list[int], winner: int) -> float | None:
    k = measured.index(winner)
    if k == 0 or k == len(measured) - 1:
        return None  # at the edge of the sizes tried: the optimum may lie beyond them
    trio = [entries[i] for i in measured[k - 1 : k + 2]]
    x = np.log([e.params for e in trio])
    p2, p1, _ = np.polyfit(x, [e.loss for e in trio], 2)
    return float(math.exp(-p1 / (2 * p2))) if p2 > 0 else None


def eval_steps(total: int, points: int = 16) -> list[int]:
    """Steps at which to measure the validation loss: spaced evenly in log steps, so the
    small models' early stretch, where the larger ones meet them in compute, is measured."""
    steps = np.unique(np.round(np.geomspace(1, total, points)).astype(int))
    return sorted({int(s) for s in steps if s >= 1} | {total})
