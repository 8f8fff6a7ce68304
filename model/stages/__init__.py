"""The stage plug-ins: one module per stage, each registered here by one line.

A line says what a stage is in the lesson, as plain data: its name, the class that trains it,
the stage it starts from, the finished stages it uses besides, the scenario section it reads
and what its model does. Everything that needs torch (its data, digest, objective, evals,
how it loads from a scenario) is in its module, which loads when the stage is asked for.

Light at import time (no torch): the screen's process reads this list too (the Compare
tab's columns), and the CLI checks a stage's name before torch loads.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class StageEntry:
    name: str
    # "module:Class" of its plug-in in model/stages/ (a model.stages.base.Stage).
    plugin: str
    # The stage whose model it starts from ("" for training from scratch).
    parent: str = ""
    # Other finished stages it uses besides its parent (RLHF: the reward model).
    needs: tuple[str, ...] = ()
    # The scenario.toml section of its settings and data, when it is not the stage's name.
    section: str = ""
    # Its model is asked through the chat template (a base model only continues text).
    chat: bool = True
    # Its model writes answers (a Compare column, probes); a reward model only scores them.
    answers: bool = True


# In the order the stages build on each other; `train --stage all` runs them in it, each
# from its own parent (DPO and the reward model both start from the fine-tuned model).
STAGES = (
    StageEntry("pretrain", "pretrain:PretrainStage", chat=False),
    StageEntry("sft", "sft:SFTStage", parent="pretrain"),
    StageEntry("dpo", "dpo:DPOStage", parent="sft", section="preference"),
    StageEntry("reward-model", "reward:RewardStage", parent="sft", section="reward", answers=False),
    StageEntry("rlhf", "rlhf:RLHFStage", parent="sft", needs=("reward-model",)),
    StageEntry("rlvr", "rlvr:RLVRStage", parent="sft", section="rlhf"),
)

REGISTRY = {s.name: s for s in STAGES}
ORDER = tuple(REGISTRY)
# The stage trained from scratch, the base every other builds on: the app's tab 1, whose
# run is there from the start, is reset in place and is what fast-forward trains.
FIRST = ORDER[0]
# The stage whose models score answers: what a stage that `needs` it is given to optimise.
REWARD_MODEL = "reward-model"


def entry(name: str) -> StageEntry:
    """The registry's line for ``name``; a stage not known is a plain chat stage of its own."""
    return REGISTRY.get(name) or StageEntry(name, "base:Stage")


def stage_class(name: str):
    module, cls = REGISTRY[name].plugin.split(":")
    return getattr(importlib.import_module(f"model.stages.{module}"), cls)


def parent_of(name: str) -> str:
    """The stage ``name`` starts from; "" for the first stage (or a name not known)."""
    return entry(name).parent


def needs_of(name: str) -> tuple[str, ...]:
    """The finished stages ``name`` uses besides its parent."""
    return entry(name).needs


def settings_section(name: str) -> str:
    """The scenario's settings section a stage reads ("dpo" reads [preference])."""
    return entry(name).section or name


def is_chat(name: str) -> bool:
    """A model of stage ``name`` is asked through the chat template (fine-tuned, or later)."""
    return entry(name).chat


def answers(name: str) -> bool:
    """A model of stage ``name`` writes answers (a reward model does not: it scores them)."""
    return entry(name).answers


def depth(name: str) -> int:
    """How many stages ``name`` builds on: 0 for pretraining; its tab is depth + 1."""
    parent = parent_of(name)
    return 0 if not parent else 1 + depth(parent)


def lacking(scenario, name: str, built_on: bool = True) -> str:
    """What the scenario lacks to make ``name``'s model, in a sentence (first the data of
    the stages it builds on, unless not ``built_on``: their models are given); "" when it
    has it all. A stage's data is its settings section's, and whatever else its plug-in's
    ``scenario_lacks`` asks for (RLVR: a gold judge); that loads the plug-ins' modules."""
    stages, todo = set(), [name]
    while todo:
        stage = todo.pop()
        if stage and stage not in stages:
            stages.add(stage)
            todo += [parent_of(stage), *needs_of(stage)] if built_on else []
    for stage in [s for s in ORDER if s in stages] + [name] * (name not in REGISTRY):
        said = _section_lacks(scenario, settings_section(stage))
        if not said and stage in REGISTRY:
            said = stage_class(stage).scenario_lacks(scenario)
        if said:
            return said
    return ""


def _section_lacks(scenario, section: str) -> str:
    try:
        return scenario.missing_for(section)
    except ValueError:
        return ""  # a section the scenario format does not know: nothing to check
