"""Checkpoints that resume exactly and never leave a half-written directory behind.

Layout of a checkpoint directory:
  model.safetensors   weights (safetensors: no code runs on load)
  state.pt            optimizer, RNG and data-order state (loaded with weights_only=True)
  tokenizer.tiktoken  the BPE ranks, so a resume does not depend on retraining them
  meta.json           stage, model config, settings, data digest, step counters, loss history,
                      and the model the stage started from

Any stage's checkpoint loads as a model (model/loaded_model.py) for the next stage, for
sampling and for comparing; model/resume.py rebuilds the whole trainer to resume it exactly.

A save writes a temporary folder beside the checkpoint (`.NAME.tmp-*`), moves the old one
aside (`.NAME.old`), renames the new one into place and removes the old. Saves into one
folder hold a lock on it, so two processes saving the same checkpoint take turns. A save
killed half-way leaves at most those two names behind: the next save or load under the lock
puts a moved-aside checkpoint back if the new one never arrived, and removes the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import save_model

if TYPE_CHECKING:
    from model.loop import Trainer

try:
    import fcntl
except ImportError:  # not POSIX: saves do not take turns, nor runs into one folder
    fcntl = None

FORMAT_VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message is one line."""


def save_checkpoint(trainer: Trainer, path: str | Path, *, if_absent: bool = False) -> Path:
    """Save ``trainer`` at ``path``, replacing what is there; with ``if_absent``, a whole
    checkpoint already there (seen under the lock) is kept and nothing is written."""
    path = Path(path)
    if trainer.divergence is not None or not trainer.weights_finite():
        raise CheckpointError(f"not saving {path}: the weights are not finite")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked_folder(path.parent):
            _tidy(path)
            if if_absent and (path / "meta.json").is_file():
                return path
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
            try:
                _write(trainer, tmp)
                if path.exists():
                    old = _old(path)
                    path.rename(old)
                    tmp.rename(path)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    tmp.rename(path)
                _fsync(path.parent)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e}") from None
    return path


def _write(trainer: Trainer, folder: Path) -> None:
    save_model(trainer.model, str(folder / "model.safetensors"))
    torch.save(
        {
            "optimizer": trainer.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "data_rng": trainer.data_rng.get_state(),
        },
        folder / "state.pt",
    )
    trainer.tokenizer.save(folder / "tokenizer.tiktoken")
    trainer.data.save_extra(folder)
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
    (folder / "meta.json").write_text(json.dumps(meta))
    for f in folder.iterdir():
        _fsync(f)


def _old(path: Path) -> Path:
    return path.with_name(f".{path.name}.old")


@contextlib.contextmanager
def locked_folder(folder: Path, wait: bool = True):
    """Hold the folder's lock: the kernel drops it when its holder dies, however it dies.
    With ``wait`` False, a folder another process holds raises BlockingIOError at once."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def _tidy(path: Path) -> None:
    """With the lock held: finish what a killed save of ``path`` left half-done.

    Every save removes its own temporary folder, so one that is still there is a dead
    save's; so is a moved-aside old checkpoint, which goes back if nothing replaced it.
    """
    old = _old(path)
    if old.is_dir():
        if not path.exists() and (old / "meta.json").is_file():
            old.rename(path)
        else:
            shutil.rmtree(old, ignore_errors=True)
    temp = re.compile(rf"\.{re.escape(path.name)}\.tmp-[a-z0-9_]+")
    for entry in path.parent.iterdir():
        if temp.fullmatch(entry.name) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def checkpoint_folder(path: str | Path) -> Path:
    """The folder to read ``path`` from: itself, or, if a save was killed after moving it
    aside, the moved-aside copy (put back in place when the folder can be written)."""
    path = Path(path)
    old = _old(path)
    if path.exists() or not (old / "meta.json").is_file():
        return path
    try:
        with locked_folder(path.parent):
            _tidy(path)
    except OSError:
        pass
    return path if path.exists() else old


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(path: str | Path) -> dict:
    path = checkpoint_folder(path)
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
