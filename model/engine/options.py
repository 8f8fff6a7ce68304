"""What the engine process is started with: plain data the screen's process builds and the
trainer's reads (it crosses the process boundary once, at the spawn)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    scenario: str | None = None
    corpus: str | None = None
    # None: model.settings.DEFAULT_THREADS, looked up in the trainer process (the settings
    # bring the scenario loader, which the screen need not import before its first frame).
    threads: int | None = None
    seed: int | None = None
    save_dir: str = "runs/app"
    resume: str | None = None
    # Ignore the cache of finished stages: later stages start from tab 1's own run.
    fresh: bool = False
