"""Training settings as plain data: importable without torch, so the UI can show them.

A stage's settings are the scenario's own settings object (validated once, in scenarios/),
passed down unchanged. Threads are a per-process option, never a stage setting.
"""

from __future__ import annotations

import math

from scenarios.schema import DEFAULT_SEED, PreferenceSettings, StageSettings

# The settings object of a training run: one name for the engine's side.
TrainSettings = StageSettings

# One torch thread holds its speed on a shared 2-core machine; two collapse when another
# process takes a core (measured; see docs/architecture.md).
DEFAULT_THREADS = 1

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THREADS",
    "PreferenceSettings",
    "StageSettings",
    "TrainSettings",
    "lr_at",
]


def lr_at(step: int, settings: StageSettings) -> float:
    """Linear warmup to the peak, then cosine decay to min_lr_ratio of it."""
    peak = settings.lr
    warmup = settings.warmup_steps
    if warmup and step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, settings.steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    floor = peak * settings.min_lr_ratio
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))
