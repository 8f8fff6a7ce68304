"""The training speed as the keys set it: the caps "+" and "-" step through, and the few
characters the status line says a cap in. The engine keeps to the cap."""

from __future__ import annotations

# The "+"/"-" keys step through these caps on steps per second; None runs flat out.
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, None)


def speed_label(cap: float | None) -> str:
    return "max" if cap is None else f"{cap:g}/s"


def next_speed(cap: float | None, direction: int) -> float | None:
    """The next cap up (+1) or down (-1) from ``cap``, stopping at the ends."""
    index = SPEEDS.index(cap) if cap in SPEEDS else len(SPEEDS) - 1
    return SPEEDS[max(0, min(len(SPEEDS) - 1, index + direction))]
