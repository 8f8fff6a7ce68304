"""The sampler as the keys move it: a few values per setting, stepped through, and the few
characters the status line says it in. The sampling itself happens in the engine."""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from textual.binding import Binding

from model.protocol import Sampler

# Each ladder goes from the narrowest draw to the widest; off (None) keeps every token.
TEMPERATURES: tuple[float | None, ...] = (0.0, 0.2, 0.5, 0.8, 1.0, 1.5, 2.0)
TOP_KS: tuple[int | None, ...] = (1, 3, 10, 40, None)
TOP_PS: tuple[float | None, ...] = (0.5, 0.8, 0.9, 0.95, None)
SEEDS = 100  # d walks seeds 0..99: two digits, so the status line's width stays put


def _step(values: tuple, now, direction: int):
    """The next rung up or down the ladder, stopping at its ends. A value that is not on
    it (one given elsewhere) moves to the nearest rung in that direction."""
    if now in values:
        i = values.index(now) + direction
        return values[max(0, min(len(values) - 1, i))]

    def rank(v) -> float:
        return float("inf") if v is None else v

    if direction > 0:
        return next((v for v in values if rank(v) > rank(now)), values[-1])
    return next((v for v in reversed(values) if rank(v) < rank(now)), values[0])


def temperature(s: Sampler, direction: int) -> Sampler:
    return replace(s, temperature=_step(TEMPERATURES, s.temperature, direction))


def top_k(s: Sampler, direction: int) -> Sampler:
    return replace(s, top_k=_step(TOP_KS, s.top_k, direction))


def top_p(s: Sampler, direction: int) -> Sampler:
    return replace(s, top_p=_step(TOP_PS, s.top_p, direction))


def seed(s: Sampler, direction: int) -> Sampler:
    return replace(s, seed=(s.seed + direction) % SEEDS)


def label(s: Sampler) -> str:
    """Greedy, or e.g. "T0.8 k40 p0.9 seed 3": the parts that are on."""
    if s.greedy:
        return "greedy"
    parts = [f"T{s.temperature:.1f}"]
    if s.top_k is not None:
        parts.append(f"k{s.top_k}")
    if s.top_p is not None:
        parts.append(f"p{s.top_p:g}")
    parts.append(f"seed {s.seed}")
    return " ".join(parts)


def words(s: Sampler) -> str:
    """The same, spelled out, for the help and the "why this token" view."""
    if s.greedy:
        return "greedy (temperature 0: always the most likely token)"
    parts = [f"temperature {s.temperature:g}"]
    parts.append(f"top-k {s.top_k}" if s.top_k is not None else "top-k off")
    parts.append(f"top-p {s.top_p:g}" if s.top_p is not None else "top-p off")
    parts.append(f"seed {s.seed}")
    return " · ".join(parts)


WIDEST_LABEL = max(
    cell_len(label(Sampler(t, k, p, SEEDS - 1)))
    for t in TEMPERATURES
    for k in TOP_KS
    for p in TOP_PS
)

# The App's; the "why this token" view binds the same keys to the App's actions.
SAMPLER_BINDINGS = [
    Binding("t", "sampler('temperature', 1)", "hotter", show=False),
    Binding("T,shift+t", "sampler('temperature', -1)", "cooler", show=False),
    Binding("k", "sampler('top_k', 1)", "more top-k", show=False),
    Binding("K,shift+k", "sampler('top_k', -1)", "less top-k", show=False),
    Binding("u", "sampler('top_p', 1)", "more top-p", show=False),
    Binding("U,shift+u", "sampler('top_p', -1)", "less top-p", show=False),
    Binding("d", "sampler('seed', 1)", "next seed", show=False),
    Binding("D,shift+d", "sampler('seed', -1)", "previous seed", show=False),
    Binding("0", "sampler('greedy')", "greedy", show=False),
]
