"""Where fine-tuning starts from: the base model on offer, what the stage will train on, and
fast-forwarding stage 1 with a progress bar when it has not trained enough yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ProgressBar

from model.stages import FIRST, REWARD_MODEL, needs_of, parent_of
from tui.runs import RUNS

if TYPE_CHECKING:  # the later stages' messages load after the first frame
    from model.protocol import BaseModel


def describe_base(base: BaseModel) -> tuple[str, str]:
    """(where the base model comes from, what pressing enter does) in plain words."""
    val = f", validation loss {base.val_loss:.3f}" if base.val_loss is not None else ""
    if parent_of(base.stage) != FIRST:
        return _describe_preference_base(base, val)
    if base.source == "cache":
        return (
            f"the finished pretraining run (step {base.step}/{base.total_steps}{val}), "
            "cached on this machine",
            "enter starts fine-tuning from it",
        )
    if base.source == "tab":
        short = base.step < base.total_steps
        where = f"the model in tab 1, at step {base.step}/{base.total_steps}{val}"
        if short:
            return (
                where + ": not trained enough yet",
                "f fast-forwards stage 1 to its end first (headless, cached) · "
                "enter starts from it as it is",
            )
        return where, "enter starts fine-tuning from it"
    return "no base model yet", "stage 1 must train first"


def _describe_preference_base(base: BaseModel, val: str) -> tuple[str, str]:
    keys = RUNS[base.stage].offer
    if REWARD_MODEL in needs_of(base.stage) and not base.reward_model:
        keys = "enter trains the reward model first (live), then RL · m method · [ ] β"
    if base.source == "cache":
        where = f"the finished fine-tuning run (step {base.step}/{base.total_steps}{val}), cached"
        return where, keys
    if base.source == "tab":
        where = f"the fine-tuned model in tab 2, at step {base.step}/{base.total_steps}{val}"
        if base.step < base.total_steps:
            where += ": not fine-tuned to its end yet"
        return where, keys
    return "no fine-tuned model yet", "fine-tune in tab 2 first (2, then enter)"


def describe_reward_model(base: BaseModel) -> str:
    known = base.reward_accuracy is not None
    accuracy = f", held-out accuracy {base.reward_accuracy:.0%}" if known else ""
    if base.reward_model == "cache":
        return f"the finished reward model, cached on this machine{accuracy}"
    if base.reward_model == "tab":
        return f"the reward model trained in this tab{accuracy}"
    return "none yet: it trains here first, on the preference pairs (Bradley–Terry)"


class HandoffBody(Widget):
    DEFAULT_CSS = """
    HandoffBody { height: auto; }
    """

    base: reactive[BaseModel | None] = reactive(None, layout=True)
    lacking: reactive[str] = reactive("", layout=True)
    # Choices made before a preference run starts (shown; sent with the start command).
    choices: reactive[str] = reactive("", layout=True)

    def __init__(self, stage: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stage = stage

    def render(self):
        b = self.base
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        if self.lacking:
            table.add_row(Text("This scenario", "bold yellow"), self.lacking)
        elif b is None:
            table.add_row("Base model", Text("asking the trainer…", "dim"))
        else:
            where, what = describe_base(b)
            table.add_row("Starts from", where)
            if REWARD_MODEL in needs_of(b.stage):
                table.add_row("Reward model", describe_reward_model(b))
            table.add_row("Trains on", b.trains_on or "—")
            if b.fast_forwarding:
                table.add_row("", Text("fast-forwarding stage 1 … (esc cancels)", "bold yellow"))
            else:
                table.add_row("Keys", Text(what, "bold"))
            if self.choices:
                table.add_row("Settings", self.choices)
        card = RUNS[self.stage].card
        table.add_row("", "")
        table.add_row("Objective", card.objective)
        table.add_row("Produces", card.produces)
        table.add_row("In a sentence", Text(card.sentence, "italic"))
        return table


class HandoffPane(Vertical):
    """Shown in a later stage's tab until its run starts."""

    DEFAULT_CSS = """
    HandoffPane { height: auto; padding: 0 1; }
    HandoffPane ProgressBar { display: none; margin: 1 0 0 0; }
    HandoffPane.-forwarding ProgressBar { display: block; }
    """

    def __init__(self, stage: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stage = stage

    def compose(self) -> ComposeResult:
        yield HandoffBody(self.stage)
        yield ProgressBar(total=1, show_eta=True, id="forward")

    def show(self, base: BaseModel) -> None:
        self.query_one(HandoffBody).base = base
        self.set_class(base.fast_forwarding, "-forwarding")

    def missing(self, sentence: str) -> None:
        self.query_one(HandoffBody).lacking = sentence

    def progress(self, step: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(1, total), progress=step)
