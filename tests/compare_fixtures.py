"""Three real tiny checkpoints for the Compare tab's tests: the tiny scenario of
stage_fixtures pretrained, fine-tuned and preference-tuned, each stored in a stage cache of
its own, as the app's own runs are."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from stage_fixtures import write_preference, write_sft_scenario


@contextmanager
def cache_at(folder: Path):
    """TRAINTERM_CACHE set to ``folder`` for the duration (module fixtures cannot use
    monkeypatch)."""
    before = os.environ.get("TRAINTERM_CACHE")
    os.environ["TRAINTERM_CACHE"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TRAINTERM_CACHE", None)
        else:
            os.environ["TRAINTERM_CACHE"] = before


def trained_scenario(folder: Path) -> Path:
    """The tiny scenario written into ``folder``, its pretraining, fine-tuning and DPO runs
    trained (a few seconds) into ``folder/cache``. Returns the scenario folder."""
    from model.pipeline import ensure_stage
    from scenarios import load_scenario

    write_sft_scenario(folder)
    write_preference(folder)
    probes = folder / "probes.jsonl"
    probes.write_text(
        probes.read_text()
        + '{"name": "story", "kind": "story", "prompt": "The capital of Mirel"}\n'
        + '{"name": "harmful", "kind": "harmful", "prompt": "Burn Orinth?"}\n'
    )
    with cache_at(folder / "cache"):
        ensure_stage(load_scenario(folder), "dpo")  # its parents first, each cached
    return folder
