"""Finished stage checkpoints, cached by content: the second start on a machine is instant.

The key is a hash of everything the result depends on: the stage, the data it trains on,
the model shape, the stage's settings (the seed among them) and, for a later stage, the key
of the model it starts from. One changed corpus byte is another key. Threads are not part
of it: they change speed, not the weights' recipe.

An entry, once there, is never replaced (the same key is the same recipe): a reader never
sees a folder swapped under it, and two processes finishing the same stage at once write it
once, in turns, under the checkpoint folder lock (model.checkpoint). The one exception is
`train --fresh`, which retrains the stage because the entry is not trusted: its run takes
the entry's place (renamed in, under the same lock).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

CACHE_FORMAT = 1


def cache_root() -> Path | None:
    """`$TRAINTERM_CACHE`, else `~/.cache/trainterm`; None if there is no home."""
    root = os.environ.get("TRAINTERM_CACHE")
    if root:
        return Path(root)
    try:
        return Path.home() / ".cache" / "trainterm"
    except RuntimeError:
        return None


def data_fingerprint(scenario, stage: str) -> str:
    """A hash of the data ``stage`` trains on: the corpus (pretraining's, and fine-tuning's
    measure of forgetting) and what the stage's plug-in says it reads besides."""
    from model.stages import REGISTRY, stage_class

    h = hashlib.sha256(stage.encode())
    h.update(scenario.corpus.encode("utf-8", "replace"))
    items = stage_class(stage).fingerprint_data(scenario) if stage in REGISTRY else []
    for item in items:
        h.update(json.dumps(item).encode())
    return h.hexdigest()


def stage_key(scenario, stage: str, config, settings, parent_key: str = "") -> str:
    recipe_settings = asdict(settings)
    if recipe_settings.get("optimizer") == "adamw":
        # The setting came after AdamW runs were cached: those runs keep their keys.
        del recipe_settings["optimizer"]
    recipe = {
        "format": CACHE_FORMAT,
        "stage": stage,
        "data": data_fingerprint(scenario, stage),
        "config": asdict(config),
        "settings": recipe_settings,
        "parent": parent_key,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def read_only() -> bool:
    """`$TRAINTERM_CACHE_READONLY` set: use the caches, never write them (a served session,
    whose server filled the cache before the visitors came)."""
    return os.environ.get("TRAINTERM_CACHE_READONLY", "") not in ("", "0")


def cache_path(stage: str, key: str) -> Path | None:
    root = cache_root()
    return None if root is None else root / "stages" / f"{stage}-{key[:24]}"


def cached(stage: str, key: str) -> Path | None:
    """The cached checkpoint for this key, if one is there and complete."""
    path = cache_path(stage, key)
    if path is not None and (path / "meta.json").is_file():
        return path
    return None
