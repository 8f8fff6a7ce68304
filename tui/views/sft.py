"""Tab 2, fine-tuning: the hand-off from a base model, then the run itself live.

The batch pane shows exactly what the loss sees (template and prompt tokens dimmed, "no
loss"); the loss chart puts the pretraining validation loss beside fine-tuning's own, so
forgetting shows; the evals table fills in; the probes are answered by the base model and
by the model now, side by side.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult

from model import protocol as p
from tui.views.later import LaterStageView
from tui.widgets.loss_chart import LossPane
from tui.widgets.prediction import PredictionPane
from tui.widgets.token_stream import TokenStream


class SFTView(LaterStageView):
    stage = "sft"
    card = "sft"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.row: tuple[p.Position, ...] = ()

    def compose_top(self) -> ComposeResult:
        yield TokenStream(id="sft-stream")
        yield PredictionPane(id="sft-prediction")

    def on_mount(self) -> None:
        stream = self.query_one(TokenStream)
        stream.border_subtitle = "dim = prompt, no loss · answer: ▁ low … █ high loss · ←→"
        self.query_one(LossPane).border_subtitle = "── train · ● val · ◆ pretraining val"

    def ready_panes(self, ready: p.EngineReady) -> None:
        self.row = ()
        max_loss = math.log(max(2, ready.vocab_size))
        self.query_one(TokenStream).max_loss = max_loss
        self.query_one(PredictionPane).max_loss = max_loss

    def report_panes(self, report: p.StepReport) -> None:
        if report.row:
            self.row = report.row

    def cleared(self) -> None:
        super().cleared()
        self.row = ()

    def draw_panes(self) -> None:
        stream = self.query_one(TokenStream)
        if stream.row is not self.row:
            stream.row = self.row
            prediction = self.query_one(PredictionPane)
            prediction.row = self.row
            prediction.cursor = stream.cursor

    def on_token_stream_cursor_moved(self, message: TokenStream.CursorMoved) -> None:
        message.stop()
        self.query_one(PredictionPane).cursor = message.index

    def move_cursor(self, delta: int) -> None:
        self.query_one(TokenStream).move(delta)
