"""The learning-rate schedule, drawn in the model pane with the current step marked.

The formula is model.trainer.lr_at's (linear warmup, cosine decay to a floor), repeated here
because model.trainer imports torch and the UI process must not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.settings import TrainSettings

BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Schedule:
    peak: float
    warmup: int
    total: int
    min_ratio: float

    def lr(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return self.peak * (step + 1) / self.warmup
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        floor = self.peak * self.min_ratio
        return floor + 0.5 * (self.peak - floor) * (1 + math.cos(math.pi * progress))

    def matches(self, step: int, lr: float) -> bool:
        """Whether a report of ``step`` (counted after the step) carried this schedule's lr."""
        return math.isclose(self.lr(step - 1), lr, rel_tol=1e-6, abs_tol=1e-12)

    def curve(self, width: int) -> str:
        if width <= 0 or self.peak <= 0:
            return ""
        steps = [round(c * (self.total - 1) / max(1, width - 1)) for c in range(width)]
        return "".join(BLOCKS[min(7, int(self.lr(s) / self.peak * 7.999))] for s in steps)

    def column(self, step: int, width: int) -> int:
        return max(0, min(width - 1, round(step * (width - 1) / max(1, self.total - 1))))


def schedule_for(ready) -> tuple[Schedule, bool]:
    """The schedule an EngineReady announces, and whether it said so. An engine that does not
    send lr/warmup_steps/min_lr_ratio gets the default settings' schedule, which the caller
    must check against the learning rates the reports carry (``Schedule.matches``)."""
    defaults = TrainSettings()
    peak = getattr(ready, "lr", None)
    warmup = getattr(ready, "warmup_steps", None)
    ratio = getattr(ready, "min_lr_ratio", None)
    told = None not in (peak, warmup, ratio)
    return (
        Schedule(
            peak=peak if peak is not None else defaults.lr,
            warmup=warmup if warmup is not None else defaults.warmup_steps,
            total=ready.total_steps,
            min_ratio=ratio if ratio is not None else defaults.min_lr_ratio,
        ),
        told,
    )
