"""The one path from a scenario to a running stage, used by the CLI, the engine and bench.

Every default is written once, in scenarios/schema.py; here settings are only overridden by
what the user asked for on the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from model.checkpoint import CheckpointError, save_checkpoint
from model.gpt import GPTConfig
from model.loaded_model import load_model
from model.loop import Trainer
from model.protocol import Divergence
from model.settings import DEFAULT_THREADS, StageSettings
from model.stage_cache import cache_path, cached, read_only, stage_key
from model.stages import (
    FIRST,
    REGISTRY,
    REWARD_MODEL,
    needs_of,
    parent_of,
    settings_section,
    stage_class,
)
from model.stages.base import StageDataError
from model.tokenizer import Tokenizer
from scenarios.schema import warmup_for


class PipelineError(ValueError):
    """A stage cannot start as asked; the message is one line for a person."""


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


def stage_settings(scenario, stage: str = FIRST, **overrides) -> StageSettings:
    """The scenario's settings for ``stage``, with command-line overrides (None means unset).

    A shorter ``steps`` without a ``warmup_steps`` gets the loader's warm-up rule.
    """
    base = scenario.settings(settings_section(stage))
    given = {k: v for k, v in overrides.items() if v is not None}
    if "steps" in given and "warmup_steps" not in given:
        default = type(base)().warmup_steps
        given["warmup_steps"] = warmup_for(given["steps"], default)
    return dataclasses.replace(base, **given)


def scenario_tokenizer(scenario, vocab_size: int, cache_dir: Path | None = None) -> Tokenizer:
    return Tokenizer.for_corpus(scenario.corpus, vocab_size, cache_dir)


def make_stage(
    name: str, source, tokenizer: Tokenizer, config: GPTConfig, settings, reference=None,
    reward_model=None,
):  # fmt: skip
    """The stage plug-in's data for ``source``: a scenario, or a corpus text for pretraining.
    ``reference``: the model a later stage starts from (kept frozen by those that measure
    against it); ``reward_model``: what a stage that needs one optimises (None when
    resuming: the checkpoint holds its own copy)."""
    if name not in REGISTRY:
        raise StageDataError(f"unknown stage {name!r}")
    return stage_class(name).build(
        source, tokenizer, config.context, settings, reference=reference,
        reward_model=reward_model,
    )  # fmt: skip


def build_trainer(
    corpus: str,
    config: GPTConfig,
    settings: StageSettings,
    scenario: str = "built-in",
    cache_dir: Path | None = None,
    threads: int = DEFAULT_THREADS,
) -> Trainer:
    """A pretraining run on a bare corpus (tests and benchmarks)."""
    tokenizer = Tokenizer.for_corpus(corpus, config.vocab_size, cache_dir)
    # The BPE may stop short of the asked size on a small corpus; the model follows it.
    config = dataclasses.replace(config, vocab_size=tokenizer.n_vocab)
    data = make_stage(FIRST, corpus, tokenizer, config, settings)
    return Trainer(data, tokenizer, config, settings, scenario, threads=threads)


def check_base(base, scenario, config: GPTConfig, tokenizer: Tokenizer) -> None:
    """A base model must have the scenario's model shape and tokenizer to be fine-tuned on it."""
    shape = dataclasses.replace(base.config, vocab_size=config.vocab_size, dropout=config.dropout)
    if shape != config:
        c = base.config
        raise PipelineError(
            f"{base.path} is a model of another shape (d {c.d_model}, {c.n_layer} layers, "
            f"{c.n_head} heads, context {c.context}) than the scenario's ({config.d_model}, "
            f"{config.n_layer}, {config.n_head}, {config.context})"
        )
    if base.tokenizer.hash != tokenizer.hash:
        raise PipelineError(
            f"{base.path} uses another tokenizer than the scenario {scenario.name!r} "
            "(it was trained on another corpus)"
        )


def new_trainer(
    scenario,
    stage: str = FIRST,
    *,
    settings: StageSettings | None = None,
    config: GPTConfig | None = None,
    base=None,
    parent: dict | None = None,
    threads: int = DEFAULT_THREADS,
    cache_dir: Path | None = None,
    reward=None,
) -> Trainer:
    """A fresh run of ``stage``; a later stage starts from ``base`` (a LoadedModel). RLHF
    also needs ``reward``, a LoadedModel of a reward model."""
    settings = settings or stage_settings(scenario, stage)
    config = config or model_config(scenario)
    try:
        tokenizer = scenario_tokenizer(scenario, config.vocab_size, cache_dir)
        config = dataclasses.replace(config, vocab_size=tokenizer.n_vocab)
        model = None
        if parent_of(stage):
            if base is None:
                raise PipelineError(f"stage {stage} needs a base model to start from")
            check_base(base, scenario, config, tokenizer)
            model = base.model
            parent = parent or base_record(base)
        reward_model = None
        if REWARD_MODEL in needs_of(stage):
            if reward is None:
                raise PipelineError(f"stage {stage} needs a reward model")
            if reward.stage != REWARD_MODEL:
                raise PipelineError(f"{reward.path} is a {reward.stage} model, not a reward model")
            check_base(reward, scenario, config, tokenizer)
            reward_model = reward.model
        data = make_stage(
            stage, scenario, tokenizer, config, settings, reference=model,
            reward_model=reward_model,
        )  # fmt: skip
        if reward is not None and hasattr(data, "reward_key"):
            data.reward_key = reward.meta.get("cache_key", "")
        if model is not None:
            model = data.network(model)
    except StageDataError as e:
        raise PipelineError(str(e)) from None
    return Trainer(
        data, tokenizer, config, settings, scenario.name, model=model, threads=threads,
        parent=parent,
    )  # fmt: skip


def base_record(base) -> dict:
    return {
        "stage": base.stage,
        "path": str(base.path),
        "step": base.step,
        "total_steps": base.total_steps,
        "key": base.meta.get("cache_key", ""),
    }


# --- the cache of finished stages -------------------------------------------------------


def stage_recipe(scenario, stage: str) -> tuple[str, StageSettings]:
    """The cache key of the scenario's default run of ``stage`` (its parents' included)."""
    settings = stage_settings(scenario, stage)
    config = model_config(scenario)
    parent = parent_of(stage)
    keys = [stage_recipe(scenario, s)[0] for s in (parent, *needs_of(stage)) if s]
    return stage_key(scenario, stage, config, settings, "+".join(keys)), settings


def cached_stage(scenario, stage: str) -> Path | None:
    key, _ = stage_recipe(scenario, stage)
    return cached(stage, key)


def trainer_key(trainer: Trainer, scenario) -> str:
    """The cache key a trainer's run earns once finished, if it is the scenario's recipe."""
    parent = parent_of(trainer.stage)
    parent_key = ""
    if parent:
        parent_key = (trainer.parent or {}).get("key", "")
        if not parent_key:
            return ""  # started from an unfinished or foreign model: not a cacheable recipe
    if needs_of(trainer.stage):
        reward_key = getattr(trainer.data, "reward_key", "")
        if not reward_key:
            return ""
        parent_key += "+" + reward_key
    config = model_config(scenario)
    return stage_key(scenario, trainer.stage, config, trainer.settings, parent_key)


def store_finished(trainer: Trainer, scenario, *, rebuild: bool = False) -> Path | None:
    """Save a finished run in the cache under its recipe's key; None if it cannot be cached.
    ``rebuild`` (--fresh) replaces an entry already there."""
    key = trainer_key(trainer, scenario)
    path = cache_path(trainer.stage, key) if key and trainer.done else None
    if path is None or read_only():
        return None
    trainer.cache_key = key
    try:
        # Write-once: a run of the same recipe that got there first stays (see stage_cache),
        # unless --fresh asked for this run rather than the cache's.
        return save_checkpoint(trainer, path, if_absent=not rebuild)
    except CheckpointError:
        return None  # a cache that cannot be written only means no caching


Progress = Callable[[Trainer], bool]


def ensure_stage(
    scenario,
    stage: str,
    *,
    threads: int = DEFAULT_THREADS,
    fresh: bool = False,
    progress: Progress | None = None,
) -> Path:
    """The checkpoint of the scenario's default ``stage`` run: from the cache, or trained now
    (its parents first). ``progress(trainer)`` is called after every step; False cancels."""
    if not fresh and (path := cached_stage(scenario, stage)) is not None:
        return path
    parent = parent_of(stage)
    base = reward = None
    if parent:
        base = load_model(ensure_stage(scenario, parent, threads=threads, fresh=fresh,
                                       progress=progress))  # fmt: skip
    if REWARD_MODEL in needs_of(stage):
        reward = load_model(ensure_stage(scenario, REWARD_MODEL, threads=threads, fresh=fresh,
                                         progress=progress))  # fmt: skip
    trainer = new_trainer(scenario, stage, base=base, threads=threads, reward=reward)
    run_headless(trainer, progress)
    # --fresh: the cache's entry may be what the user distrusts; the run just trained is
    # the one to start from, so it takes the entry's place.
    path = store_finished(trainer, scenario, rebuild=fresh)
    if path is None:
        raise PipelineError(f"cannot write the {stage} checkpoint to the cache")
    return path


class Cancelled(Exception):
    pass


def run_headless(trainer: Trainer, progress: Progress | None = None, stop_at: int = 0) -> None:
    """Step without display figures until the run (or ``stop_at``) is done."""
    end = stop_at or trainer.settings.steps
    while trainer.state.step < end:
        report = trainer.step(display=False)
        if isinstance(report, Divergence):
            raise PipelineError(report.message)
        if progress is not None and progress(trainer) is False:
            raise Cancelled
