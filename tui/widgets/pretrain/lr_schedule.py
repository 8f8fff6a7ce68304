"""The learning-rate schedule, drawn in the model pane with the current step marked.

The formula is model.settings.lr_at, the trainer's own (torch-free, so the UI may use it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first needed: the settings bring the scenario loader
    from model.settings import TrainSettings

BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Schedule:
    settings: TrainSettings

    @property
    def peak(self) -> float:
        return self.settings.lr

    @property
    def total(self) -> int:
        return self.settings.steps

    def lr(self, step: int) -> float:
        from model.settings import lr_at

        return lr_at(step, self.settings)

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
    """The schedule an EngineReady announces, and whether it said so. Without settings the
    default schedule is drawn, and the caller must check it against the learning rates the
    reports carry (``Schedule.matches``)."""
    from model.settings import TrainSettings

    settings = getattr(ready, "settings", None)
    if settings is not None:
        return Schedule(settings), True
    return Schedule(replace(TrainSettings(), steps=ready.total_steps)), False
