"""The stage plug-ins: one module per stage, each registered here by name.

Light at import time: the modules (and torch) load when a stage is asked for.
"""

from __future__ import annotations

import importlib

# name → (module, class). A new stage is a new module and one line here.
REGISTRY = {
    "pretrain": ("model.stages.pretrain", "PretrainStage"),
    "sft": ("model.stages.sft", "SFTStage"),
    "dpo": ("model.stages.dpo", "DPOStage"),
    "reward-model": ("model.stages.reward", "RewardStage"),
    "rlhf": ("model.stages.rlhf", "RLHFStage"),
}

# The order the stages build on each other; `train --stage all` runs them in it, each from
# its own parent (DPO and the reward model both start from the fine-tuned model).
ORDER = tuple(REGISTRY)


def stage_class(name: str):
    module, cls = REGISTRY[name]
    return getattr(importlib.import_module(module), cls)


def parent_of(name: str) -> str:
    return stage_class(name).parent


def needs_of(name: str) -> tuple[str, ...]:
    """The finished stages ``name`` uses besides its parent."""
    return stage_class(name).needs


def settings_section(name: str) -> str:
    """The scenario's settings section a stage reads ("dpo" reads [preference])."""
    return stage_class(name).settings_section or name


def network_class(name: str):
    """The network a checkpoint of stage ``name`` holds; a plain GPT for a stage not known."""
    from model.gpt import GPT

    return stage_class(name).network_class if name in REGISTRY else GPT
