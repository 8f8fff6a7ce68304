"""Turn a scenario (or a bare corpus) into a ready trainer: tokenizer, tokens, model."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from pathlib import Path

from model.gpt import GPTConfig
from model.settings import TrainSettings
from model.tokenizer import Tokenizer
from model.trainer import Trainer


def model_config(scenario) -> GPTConfig:
    m = scenario.model
    return GPTConfig(
        vocab_size=m.vocab_size,
        context=m.context,
        n_layer=m.n_layer,
        n_head=m.n_head,
        d_model=m.d_model,
        dropout=m.dropout,
    )


def stage_settings(scenario, stage: str = "pretrain", **overrides) -> TrainSettings:
    """The scenario's settings for one stage, with command-line overrides (None means unset)."""
    source = {"pretrain": scenario.pretrain, "sft": scenario.sft}.get(stage, scenario.preference)
    known = {f.name for f in fields(TrainSettings)}
    values = {k: v for k, v in asdict(source).items() if k in known}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainSettings(**values)


def build_trainer(
    corpus: str,
    config: GPTConfig,
    settings: TrainSettings,
    scenario: str = "built-in",
    cache_dir: Path | None = None,
) -> Trainer:
    tokenizer = Tokenizer.for_corpus(corpus, config.vocab_size, cache_dir)
    # The BPE may stop short of the asked size on a small corpus; the model follows it.
    config = replace(config, vocab_size=tokenizer.n_vocab)
    return Trainer(tokenizer.encode(corpus), tokenizer, config, settings, scenario)
