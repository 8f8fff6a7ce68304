"""Tab 2, fine-tuning: the hand-off from a base model, then the run itself live.

The batch pane shows exactly what the loss sees (template and prompt tokens dimmed, "no
loss"); the loss chart puts the pretraining validation loss beside fine-tuning's own, so
forgetting shows; the evals table fills in; the probes are answered by the base model and
by the model now, side by side.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding

from model import protocol as p
from tui.tabs.later import LaterStageView

if TYPE_CHECKING:
    from tui.widgets.common.token_stream import TokenStream


class SFTView(LaterStageView):
    BINDINGS = [
        Binding("f", "fast_forward", "fast-forward", show=False),
        Binding("escape", "cancel", "cancel", show=False),
    ]
    number = 2
    runs = ("sft",)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.row: tuple[p.Position, ...] = ()

    def compose_top(self) -> ComposeResult:
        from tui.widgets.common.prediction import PredictionPane
        from tui.widgets.common.token_stream import TokenStream

        yield TokenStream(id="sft-stream")
        yield PredictionPane(id="sft-prediction")

    def panes_mounted(self) -> None:
        super().panes_mounted()
        stream = self.pane("stream")
        stream.border_subtitle = "dim = prompt, no loss · answer: ▁ low … █ high loss · ←→"
        self.pane("loss").border_subtitle = "── train · ● val · ◆ pretraining val"

    def ready_panes(self, ready: p.EngineReady) -> None:
        self.row = ()
        max_loss = math.log(max(2, ready.vocab_size))
        self.pane("stream").max_loss = max_loss
        self.pane("prediction").max_loss = max_loss

    def report_panes(self, report: p.StepReport) -> None:
        if report.row:
            self.row = report.row

    def cleared(self) -> None:
        super().cleared()
        self.row = ()

    def draw_panes(self) -> None:
        stream = self.pane("stream")
        if stream.row is not self.row:
            stream.row = self.row
            prediction = self.pane("prediction")
            prediction.row = self.row
            prediction.cursor = stream.cursor

    def on_token_stream_cursor_moved(self, message: TokenStream.CursorMoved) -> None:
        message.stop()
        self.pane("prediction").cursor = message.index

    def action_cursor(self, delta: int) -> None:
        self.pane("stream").move(delta)

    # --- the base model, from tab 1 ------------------------------------------------------

    def action_fast_forward(self) -> None:
        base = self.base
        if base is None:
            return
        if base.source == "cache" or base.step >= base.total_steps:
            self.notify("the base model is trained already: enter starts fine-tuning", timeout=4)
            return
        self.send(p.FastForward())

    def action_cancel(self) -> None:
        if self.base is not None and self.base.fast_forwarding:
            self.send(p.Cancel())
