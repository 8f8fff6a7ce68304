"""Resume a checkpoint exactly: the trainer rebuilt on the data it was trained on, with its
optimizer, random generators, data order and history as they were saved (model/checkpoint.py
has the layout). Above both the checkpoint files and the pipeline: it needs the one to read
and the other to rebuild the stage's data."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from model.checkpoint import CheckpointError
from model.loaded_model import load_model
from model.loop import RunState, Trainer
from model.pipeline import make_stage
from model.settings import DEFAULT_THREADS
from model.stages.base import StageDataError


def load_checkpoint(path: str | Path, source, threads: int | None = None) -> Trainer:
    """Rebuild the trainer exactly as it was saved, on the data it was trained on.

    ``source``: the scenario (or, for a pretraining run, the corpus text) it trained on.
    """
    loaded = load_model(path)
    path, meta = loaded.path, loaded.meta
    try:
        data = make_stage(
            loaded.stage, source, loaded.tokenizer, loaded.config, loaded.settings,
            reference=loaded.model,  # overwritten by the saved reference (load_extra)
        )  # fmt: skip
    except StageDataError as e:
        raise CheckpointError(f"cannot resume {path}: {e}") from None
    if data.digest() != meta.get("data_digest"):
        raise CheckpointError(f"checkpoint {path} was trained on different data")
    try:
        trainer = Trainer(
            data,
            loaded.tokenizer,
            loaded.config,
            loaded.settings,
            meta["scenario"],
            model=data.network(loaded.model),
            threads=threads or DEFAULT_THREADS,
            parent=meta.get("parent"),
        )
        trainer.cache_key = meta.get("cache_key", "")
        data.load_extra(path)
        state = _load_state(path)
        trainer.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        trainer.data_rng.set_state(state["data_rng"])
        run = meta["state"]
        trainer.state = RunState(
            step=run["step"],
            tokens_seen=run["tokens_seen"],
            seconds=float(run.get("seconds", 0.0)),
            losses=[tuple(p) for p in run["losses"]],
            val_losses=[tuple(p) for p in run["val_losses"]],
            series={k: [tuple(p) for p in v] for k, v in run.get("series", {}).items()},
        )
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 — any failure to read means the files are damaged
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or incomplete: {reason}") from None
    return trainer


def _load_state(path: Path) -> dict:
    try:
        return torch.load(path / "state.pt", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's own message is a paragraph inviting the user to load it unsafely.
        if "weights only load failed" not in str(e).lower():
            raise
        raise CheckpointError(
            f"checkpoint {path} refused: state.pt holds more than tensors "
            "(loading it would run code), so it was not loaded"
        ) from None
