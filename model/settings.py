"""Training settings as plain data: importable without torch, so the UI can show them."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 3000
    batch_size: int = 16
    lr: float = 3e-3
    warmup_steps: int = 100
    # Cosine decay ends at this fraction of the peak learning rate.
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 100
    eval_batches: int = 4
    seed: int = 1234
    # One torch thread holds its speed on a shared 2-core machine; two collapse when
    # another process takes a core (measurements in shared/DESIGN.md).
    threads: int = 1
    val_fraction: float = 0.1


def lr_at(step: int, settings: TrainSettings) -> float:
    """Linear warmup to the peak, then cosine decay to min_lr_ratio of it.

    A short run (a quick `--steps 30`) would spend all of itself warming up, so warmup is
    capped at a fifth of the run.
    """
    peak = settings.lr
    warmup = min(settings.warmup_steps, settings.steps // 5)
    if warmup and step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, settings.steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    floor = peak * settings.min_lr_ratio
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))
