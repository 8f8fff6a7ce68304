"""Checkpoints that resume exactly and never leave a half-written directory behind.

Layout of a checkpoint directory:
  model.safetensors   weights (safetensors: no code runs on load)
  state.pt            optimizer, RNG and data-order state (loaded with weights_only=True)
  tokenizer.tiktoken  the BPE ranks, so a resume does not depend on retraining them
  meta.json           model config, settings, step counters, loss history
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model

from model.gpt import GPTConfig
from model.settings import TrainSettings
from model.tokenizer import Tokenizer, TokenizerError
from model.trainer import RunState, Trainer

FORMAT_VERSION = 1


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
        meta = {
            "format": FORMAT_VERSION,
            "stage": trainer.stage,
            "scenario": trainer.scenario,
            "config": asdict(trainer.config),
            "settings": asdict(trainer.settings),
            "tokenizer_hash": trainer.tokenizer.hash,
            "corpus_digest": corpus_digest(trainer.all_tokens.tolist()),
            "state": asdict(trainer.state),
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


def corpus_digest(tokens: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, tokens)).encode()).hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        meta = json.loads((path / "meta.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise CheckpointError(f"checkpoint {path} has unknown format {meta.get('format')!r}")
        return meta
    except (OSError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"checkpoint {path} is corrupt: meta.json unreadable") from None


def load_checkpoint(path: str | Path, corpus: str, threads: int | None = None) -> Trainer:
    """Rebuild the trainer exactly as it was saved, on the corpus it was trained on."""
    path = Path(path)
    meta = read_meta(path)
    try:
        ranks_file = path / "tokenizer.tiktoken"
        tokenizer = Tokenizer.load(ranks_file, expected_hash=meta["tokenizer_hash"])
        config = GPTConfig(**meta["config"])
        settings = TrainSettings(**meta["settings"])
        if threads is not None:
            settings = TrainSettings(**{**asdict(settings), "threads": threads})
        tokens = tokenizer.encode(corpus)
        if corpus_digest(tokens) != meta["corpus_digest"]:
            raise CheckpointError(f"checkpoint {path} was trained on a different corpus")
        trainer = Trainer(tokens, tokenizer, config, settings, meta["scenario"])
        missing, unexpected = load_model(trainer.model, str(path / "model.safetensors"))
        if missing or unexpected:
            raise CheckpointError(f"checkpoint {path} does not match its model config")
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
        )
    except CheckpointError:
        raise
    except TokenizerError as e:
        raise CheckpointError(f"checkpoint {path} is corrupt: {e}") from None
    except Exception as e:  # noqa: BLE001 — any failure to read means the files are damaged
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or incomplete: {reason}") from None
    if not trainer.weights_finite():
        raise CheckpointError(f"checkpoint {path} holds non-finite weights")
    return trainer
