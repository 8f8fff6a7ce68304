"""Checkpoints that resume exactly and never leave a half-written directory behind.

Layout of a checkpoint directory:
  model.safetensors   weights (safetensors: no code runs on load)
  state.pt            optimizer, RNG and data-order state (loaded with weights_only=True)
  tokenizer.tiktoken  the BPE ranks, so a resume does not depend on retraining them
  meta.json           stage, model config, settings, data digest, step counters, loss history,
                      and the model the stage started from

Any stage's checkpoint loads as a model (model/models.py) for the next stage, for sampling
and for comparing; `load_checkpoint` rebuilds the whole trainer to resume it exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import save_model

from model.loop import RunState, Trainer

FORMAT_VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message is one line."""


def save_checkpoint(trainer: Trainer, path: str | Path) -> Path:
    path = Path(path)
    if trainer.divergence is not None or not trainer.weights_finite():
        raise CheckpointError(f"not saving {path}: the weights are not finite")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e}") from None
    try:
        save_model(trainer.model, str(tmp / "model.safetensors"))
        torch.save(
            {
                "optimizer": trainer.optimizer.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "data_rng": trainer.data_rng.get_state(),
            },
            tmp / "state.pt",
        )
        trainer.tokenizer.save(tmp / "tokenizer.tiktoken")
        trainer.data.save_extra(tmp)
        meta = {
            "format": FORMAT_VERSION,
            "stage": trainer.stage,
            "scenario": trainer.scenario,
            "config": asdict(trainer.config),
            "settings": asdict(trainer.settings),
            "tokenizer_hash": trainer.tokenizer.hash,
            "data_digest": trainer.data.digest(),
            "state": asdict(trainer.state),
            "parent": trainer.parent,
            "cache_key": trainer.cache_key,
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        for f in tmp.iterdir():
            _fsync(f)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
        _fsync(path.parent)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e}") from None
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_dir() or not (path / "meta.json").exists():
        what = "a folder" if path.is_dir() else "there"
        raise CheckpointError(f"no checkpoint at {path} ({what} without a meta.json)")
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        raise CheckpointError(f"checkpoint {path} is corrupt: meta.json unreadable") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path} is corrupt: meta.json unreadable")
    version = meta.get("format")
    if version == 1:
        raise CheckpointError(
            f"checkpoint {path} was written by an older trainterm (format 1): train it again"
        )
    if version != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has unknown format {version!r}")
    return meta


def load_checkpoint(path: str | Path, source, threads: int | None = None) -> Trainer:
    """Rebuild the trainer exactly as it was saved, on the data it was trained on.

    ``source``: the scenario (or, for a pretraining run, the corpus text) it trained on.
    """
    from model.models import load_model
    from model.pipeline import make_stage
    from model.settings import DEFAULT_THREADS
    from model.stages.base import StageDataError

    path = Path(path)
    loaded = load_model(path)
    meta = loaded.meta
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
            model=loaded.model,
            threads=threads or DEFAULT_THREADS,
            parent=meta.get("parent"),
        )
        trainer.cache_key = meta.get("cache_key", "")
        data.load_extra(path)
        state = torch.load(path / "state.pt", weights_only=True)
        trainer.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        trainer.data_rng.set_state(state["data_rng"])
        run = meta["state"]
        trainer.state = RunState(
            step=run["step"],
            tokens_seen=run["tokens_seen"],
            losses=[tuple(p) for p in run["losses"]],
            val_losses=[tuple(p) for p in run["val_losses"]],
            series={k: [tuple(p) for p in v] for k, v in run.get("series", {}).items()},
        )
    except Exception as e:  # noqa: BLE001 — any failure to read means the files are damaged
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or incomplete: {reason}") from None
    return trainer
