"""Scenarios: what trainterm trains on, stage by stage (see FORMAT.md).

A scenario is a folder with a ``scenario.toml`` manifest and data files. This package reads
and validates it; it imports nothing heavy (no torch, no textual) so every process may use it.
"""

from .errors import ScenarioError
from .loader import corpus_scenario, default_scenario, load_scenario
from .schema import (
    STAGES,
    Conversation,
    EvalItem,
    Message,
    ModelSettings,
    PreferencePair,
    PreferenceSettings,
    Probe,
    RLHFSettings,
    Scenario,
    StageSettings,
)

__all__ = [
    "STAGES",
    "Conversation",
    "EvalItem",
    "Message",
    "ModelSettings",
    "PreferencePair",
    "PreferenceSettings",
    "RLHFSettings",
    "Probe",
    "Scenario",
    "ScenarioError",
    "StageSettings",
    "corpus_scenario",
    "default_scenario",
    "load_scenario",
]
