"""Tab 2, fine-tuning: the hand-off from a base model, then the run itself live.

The batch pane shows exactly what the loss sees (template and prompt tokens dimmed, "no
loss"); the loss chart puts the pretraining validation loss beside fine-tuning's own, so
forgetting shows; the evals table fills in; the probes are answered by the base model and
by the model now, side by side.
"""

from __future__ import annotations

import math
from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher

from model import protocol as p
from tui.history import LossSeries, RateMeter
from tui.stages import BY_KEY
from tui.widgets.eval_table import EvalPane
from tui.widgets.handoff import HandoffPane
from tui.widgets.loss_chart import LossPane
from tui.widgets.prediction import PredictionPane
from tui.widgets.probes import ProbePane
from tui.widgets.stage_card import CardLine
from tui.widgets.token_stream import TokenStream

STAGE = "sft"


class SFTView(Vertical):
    """The fine-tuning tab: its own run's state, drawn from the engine's messages."""

    DEFAULT_CSS = """
    SFTView { height: 1fr; }
    SFTView #sft-run { height: 1fr; display: none; }
    SFTView.-running #sft-run { display: block; }
    SFTView.-running HandoffPane { display: none; }
    SFTView .sft-top { height: 9; }
    SFTView .sft-bottom { height: 1fr; }
    SFTView #sft-side { width: 42%; height: 1fr; }
    SFTView EvalPane, SFTView ProbePane {
        border: round $primary 60%; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; padding: 0 1; height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ready: p.EngineReady | None = None
        self.latest: p.StepReport | None = None
        self.row: tuple[p.Position, ...] = ()
        self.series = LossSeries()
        self.rate = RateMeter()
        self.state = "waiting"  # waiting · paused · playing · done · diverged
        self.base: p.BaseModel | None = None
        self.before: p.EvalTable | None = None

    def compose(self) -> ComposeResult:
        yield CardLine(BY_KEY[STAGE], id="sft-card")
        yield HandoffPane(id="sft-handoff")
        with Vertical(id="sft-run"):
            with Horizontal(classes="sft-top"):
                yield TokenStream(id="sft-stream")
                yield PredictionPane(id="sft-prediction")
            with Horizontal(classes="sft-bottom"):
                yield LossPane(id="sft-loss")
                with ContentSwitcher(id="sft-side", initial="sft-evals"):
                    yield EvalPane(id="sft-evals")
                    yield ProbePane(id="sft-probes")

    def on_mount(self) -> None:
        stream = self.query_one(TokenStream)
        stream.border_subtitle = "dim = prompt, no loss · colour = loss on the answer · ←→"
        self.query_one(LossPane).border_subtitle = "── train · ● val · ◆ pretraining val"

    @property
    def running(self) -> bool:
        return self.ready is not None

    # --- messages from the engine ---------------------------------------------------------

    def on_ready(self, ready: p.EngineReady) -> None:
        self.ready = ready
        self.latest = None
        self.row = ()
        self.series.clear()
        self.before = None
        self.state = "done" if ready.step >= ready.total_steps else "paused"
        self.add_class("-running")
        max_loss = math.log(max(2, ready.vocab_size))
        self.query_one(TokenStream).max_loss = max_loss
        self.query_one(PredictionPane).max_loss = max_loss
        self.query_one(EvalPane).before = None
        self.query_one(EvalPane).now = None
        self.query_one(LossPane).show(self.series)

    def on_report(self, report: p.StepReport, now: float) -> None:
        self.series.extend(report.losses, report.val_losses, report.series)
        self.rate.add(now, report.step)
        self.latest = report
        if report.row:
            self.row = report.row
        if report.step >= report.total_steps:
            self.state = "done"

    def on_evals(self, table: p.EvalTable) -> None:
        pane = self.query_one(EvalPane)
        if self.before is None:
            self.before = table
            pane.before = table
        pane.now = table

    def on_probes(self, answers: p.ProbeAnswers) -> None:
        self.query_one(ProbePane).answers = answers

    def on_base(self, base: p.BaseModel) -> None:
        self.base = base
        self.query_one(HandoffPane).show(base)

    def missing(self, sentence: str) -> None:
        """The scenario has no data for this stage: say what it would need."""
        self.query_one(HandoffPane).missing(sentence)

    def on_pretrain_progress(self, step: int, total: int) -> None:
        if self.base is not None and self.base.source == "tab":
            # The offer follows tab 1 as it trains (fast-forwarded or played).
            self.base = replace(self.base, step=step, total_steps=total)
            pane = self.query_one(HandoffPane)
            pane.show(self.base)
            pane.progress(step, total)

    def cleared(self) -> None:
        self.ready = None
        self.latest = None
        self.row = ()
        self.series.clear()
        self.state = "waiting"
        self.remove_class("-running")

    # --- drawing --------------------------------------------------------------------------

    def draw(self) -> None:
        if not self.running:
            return
        stream = self.query_one(TokenStream)
        if stream.row is not self.row:
            stream.row = self.row
            prediction = self.query_one(PredictionPane)
            prediction.row = self.row
            prediction.cursor = stream.cursor
        self.query_one(LossPane).show(self.series)
        loss = self.query_one(LossPane)
        pretrain_val = self.series.last_other("pretrain val")
        title = "Loss"
        if self.ready is not None and self.ready.starts_from:
            title += f" · from {self.ready.starts_from}"
        if pretrain_val is not None:
            title += f" · pretraining val {pretrain_val:.3f}"
        loss.border_title = title

    def on_token_stream_cursor_moved(self, message: TokenStream.CursorMoved) -> None:
        message.stop()
        self.query_one(PredictionPane).cursor = message.index

    def move_cursor(self, delta: int) -> None:
        self.query_one(TokenStream).move(delta)

    def toggle_side(self) -> None:
        side = self.query_one("#sft-side", ContentSwitcher)
        side.current = "sft-probes" if side.current == "sft-evals" else "sft-evals"
