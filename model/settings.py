"""Training settings as plain data: importable without torch, so the UI can show them."""

from __future__ import annotations

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
