"""The app's side of the stage registry (model.stages): one record per run the engine
trains, with everything the screen says about it. A new stage is a line here, a view in
tui/tabs/ if it needs panes of its own, and its line in model/stages."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from model.stages import ORDER, settings_section
from tui.stage_cards import CARDS, RLHF_CARD, StageCard


@dataclass(frozen=True)
class RunUI:
    name: str  # the engine's name of the run (model.stages)
    tab: int
    # "module:Class" of the view that owns it, in tui/tabs/ ("" for tab 1's and tab 4's own).
    view: str
    card: StageCard  # what the stage is, in plain words: its tab's card line and hand-off
    words: str  # in a sentence: "fine-tuning has finished"
    status: str  # the status line's stage
    report: str  # the report card's column head
    compare: str = ""  # the Compare column's head ("" when its model writes no answers)
    # How to get the model while it does not exist: the Compare column's few words, its
    # first cell's sentence; and what space says before the run starts.
    untrained: tuple[str, str] = ("not trained", "not trained yet")
    not_started: str = ""
    # What enter does in the hand-off, once there is a model to start from.
    offer: str = ""
    # An RL run's chart shows this score, not the loss (RL's loss swings round 0 whatever).
    score: str = ""
    # The evals a run is about come first: at 80×24 its pane shows only half of them.
    first_evals: tuple[str, ...] = ()
    # Tab 3's methods, as m cycles them: (the method's name, the view's name for it).
    methods: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        """The scenario section of its data, as the engine's stage_data names it."""
        return settings_section(self.name)


RUN_LIST = (
    RunUI("pretrain", 1, "", CARDS[0], "pretraining", "1 Pretraining", "1 base", compare="1 Base",
          untrained=("tab 1 · space", "not trained yet: tab 1, space trains it (or tab 2, f "
                     "fast-forwards it to the end)")),
    RunUI("sft", 2, "tui.tabs.sft:SFTView", CARDS[1], "fine-tuning", "2 Fine-tuning",
          "2 fine-tuned", compare="2 Fine-tuned",
          untrained=("tab 2 · enter", "not trained yet: tab 2, enter starts fine-tuning from "
                     "the base model, then space trains it"),
          not_started="fine-tuning has not started: enter starts it (f fast-forwards stage 1 "
          "first)"),
    RunUI("dpo", 3, "tui.tabs.dpo:PreferenceView", CARDS[2], "preference tuning",
          "3 Preference (DPO)", "3 DPO", compare="3 DPO",
          untrained=("tab 3 · enter", "not trained yet: tab 3, enter starts DPO from the "
                     "fine-tuned model, then space trains it"),
          not_started="preference tuning has not started: enter starts it (m method, [ ] β)",
          offer="enter starts preference tuning · m method · [ ] β",
          first_evals=("preference", "refusals", "false_refusals", "rude_rambling",
                       "finetuned", "format"),
          methods=("dpo+nll", "dpo")),
    RunUI("reward-model", 3, "tui.tabs.rlhf:RLHFView", RLHF_CARD, "the reward model",
          "3 RLHF: reward model", "3 reward model", first_evals=("preference",)),
    RunUI("rlhf", 3, "tui.tabs.rlhf:RLHFView", RLHF_CARD, "RLHF", "3 RLHF: policy", "3 RLHF",
          compare="3 RLHF",
          untrained=("tab 3 · m", "not trained yet: tab 3, m picks RLHF, enter starts it, "
                     "then space trains it"),
          not_started="RLHF has not started: enter trains the reward model, then RL (m method, "
          "[ ] β)",
          offer="enter starts RL · o over-optimisation (β 0, lr ×3) · m method · [ ] β",
          score="RM score",
          first_evals=("gold", "reward", "refusals", "false_refusals", "finetuned",
                       "rude_rambling"),
          methods=("rlhf",)),
    RunUI("rlvr", 3, "tui.tabs.rlvr:RLVRView", StageCard("rlvr", 3, "Preference",
          "prompts alone, answered by the model; a gold judge checks each answer",
          "RL (RLOO) makes the model's own sampled answers score higher with the gold judge "
          "(right facts, refusals of harm), less β × their KL to the fine-tuned model",
          "an assistant trained against the truth, not against a learnt judge",
          "When the reward can be checked, RL needs no reward model, and there is no learnt "
          "judge to fool: the model gets better at what is actually right.",
          "RLVR: RL on the gold judge's verifiable score − β·KL"),
          "RLVR", "3 RLVR: policy", "3 RLVR", compare="3 RLVR",
          untrained=("tab 3 · m", "not trained yet: tab 3, m picks RLVR, enter starts it, "
                     "then space trains it"),
          not_started="RLVR has not started: enter starts RL against the gold judge (m method, "
          "[ ] β)",
          offer="enter starts RL against the gold judge · m method · [ ] β",
          score="gold score",
          first_evals=("gold", "refusals", "false_refusals", "finetuned", "rude_rambling"),
          methods=("rlvr",)),
)  # fmt: skip
RUNS = {run.name: run for run in RUN_LIST}
assert tuple(RUNS) == ORDER, "tui.runs and model.stages list the same stages, in order"


def views(tab: int) -> tuple[str, ...]:
    """The views of a tab's runs, in order, each once (tab 3: one per method family)."""
    found: list[str] = []
    for run in RUN_LIST:
        if run.tab == tab and run.view and run.view not in found:
            found.append(run.view)
    return tuple(found)


def method_names(tab: int = 3) -> list[str]:
    """A tab's methods as m cycles them, as people write them: ["DPO+NLL", "DPO", "RLHF"]."""
    return [m.upper() for run in RUN_LIST if run.tab == tab for m in run.methods]


def view_class(view: str) -> type:
    module, _, name = view.partition(":")
    return getattr(importlib.import_module(module), name)


def compare_name(stage: str) -> str:
    run = RUNS.get(stage)
    return run.compare if run and run.compare else stage
