"""Load a model from any stage's checkpoint: for the next stage, for sampling, for comparing.

Only the weights, the tokenizer and what meta.json says are read; no training data is needed,
so a fine-tuned model can be asked questions anywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_model as load_weights

from model.checkpoint import CheckpointError, checkpoint_folder, read_meta
from model.gpt import GPT, GPTConfig
from model.settings import StageSettings
from model.stages import REGISTRY, is_chat, settings_section, stage_class
from model.tokenizer import Tokenizer, TokenizerError
from scenarios.schema import PRETRAIN_DEFAULTS, STAGE_DEFAULTS


@dataclass
class LoadedModel:
    path: Path
    stage: str
    model: GPT
    tokenizer: Tokenizer
    config: GPTConfig
    settings: StageSettings
    meta: dict

    @property
    def step(self) -> int:
        return int(self.meta["state"]["step"])

    @property
    def total_steps(self) -> int:
        return int(self.meta["settings"]["steps"])

    @property
    def last_val_loss(self) -> float | None:
        val = self.meta["state"].get("val_losses") or []
        return float(val[-1][1]) if val else None

    @property
    def scenario(self) -> str:
        return str(self.meta.get("scenario", ""))

    @property
    def is_chat(self) -> bool:
        """Fine-tuned (or later): it answers through the chat template."""
        return is_chat(self.stage)


def network_class(stage: str):
    """The network a checkpoint of ``stage`` holds; a plain GPT for a stage not known."""
    return stage_class(stage).network_class if stage in REGISTRY else GPT


def settings_from(stage: str, values: dict) -> StageSettings:
    """A checkpoint's settings, as the type of its stage's scenario section."""
    cls = type(STAGE_DEFAULTS.get(settings_section(stage), PRETRAIN_DEFAULTS))
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})


def load_model(path: str | Path) -> LoadedModel:
    path = checkpoint_folder(path)
    meta = read_meta(path)
    try:
        tokenizer = Tokenizer.load(
            path / "tokenizer.tiktoken", expected_hash=meta["tokenizer_hash"]
        )
        config = GPTConfig(**meta["config"])
        stage = str(meta["stage"])
        settings = settings_from(stage, meta["settings"])
        model = network_class(stage)(config)
        missing, unexpected = load_weights(model, str(path / "model.safetensors"))
    except TokenizerError as e:
        raise CheckpointError(f"checkpoint {path} is corrupt: {e}") from None
    except Exception as e:  # noqa: BLE001 — any failure to read means the files are damaged
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or incomplete: {reason}") from None
    if missing or unexpected:
        raise CheckpointError(f"checkpoint {path} does not match its model config")
    if tokenizer.n_vocab != config.vocab_size:
        raise CheckpointError(f"checkpoint {path}: its tokenizer does not fit its model")
    with torch.no_grad():
        if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
            raise CheckpointError(f"checkpoint {path} holds non-finite weights")
    return LoadedModel(path, stage, model, tokenizer, config, settings, meta)
