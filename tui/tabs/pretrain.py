"""Tab 1, pretraining: the run that is there from the start. Its batch token by token, the
model's guess against the token that came next, the loss, the model's figures, the
training loop's ring and a live patch of weights; a sample pane on tall terminals."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding

from model import protocol as p
from model.stages import FIRST, parent_of
from tui.stage_cards import CARDS
from tui.tabs.base import StageTab
from tui.tabs.pretrain_attention import AttentionWatch
from tui.tabs.pretrain_loop import TrainingLoop
from tui.widgets.common.stage_card import CardLine
from tui.widgets.pretrain.cost import cost_words, rate_words
from tui.widgets.pretrain.lr_schedule import schedule_for

if TYPE_CHECKING:
    from tui.widgets.common.status import StatusInfo
    from tui.widgets.common.token_stream import TokenStream
    from tui.widgets.pretrain.loop_diagram import LoopDiagram
    from tui.widgets.pretrain.model_pane import ModelPane

NOT_READY = ("starting", "resetting", "stopped")


class PretrainTab(StageTab):
    BINDINGS = [
        Binding("p", "step_phase", "phase"),
        # In help and the palette: the footer has no room left at 80 columns.
        Binding("a", "attention(1)", "attention head", show=False),
        Binding("A,shift+a", "attention(-1)", "previous head", show=False),
    ]
    number = 1
    runs = (FIRST,)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.state = "starting"
        self.drawn: p.StepReport | None = None  # the report the panes show now
        self.samples: tuple[p.SampleText, ...] = ()
        self._schedule_told = False
        self.schedule = None  # the default learning-rate schedule, while the run follows it
        self.forwarding = False  # tab 2 is training this run headless to its end
        self.loop = TrainingLoop(self)
        self.attention = AttentionWatch(self)

    def compose_head(self) -> ComposeResult:
        yield CardLine(CARDS[0], id="card-line")

    def compose_panes(self) -> ComposeResult:
        from textual.containers import Horizontal

        from tui.widgets.common.loss_chart import LossPane
        from tui.widgets.common.prediction import PredictionPane
        from tui.widgets.common.token_stream import TokenStream
        from tui.widgets.pretrain.attention_pane import AttentionPane
        from tui.widgets.pretrain.loop_diagram import LoopDiagram
        from tui.widgets.pretrain.model_pane import ModelPane
        from tui.widgets.pretrain.sample_log import SamplePane
        from tui.widgets.pretrain.weight_patch import WeightPatchView

        yield LoopDiagram(id="loop")
        yield Horizontal(TokenStream(id="stream"), PredictionPane(id="prediction"), id="top-row")
        yield Horizontal(LossPane(id="loss"), ModelPane(id="model"), id="bottom-row")
        yield Horizontal(
            SamplePane(id="samples"),
            AttentionPane(id="attention"),
            WeightPatchView(id="weights"),
            id="tall-row",
        )

    def panes_mounted(self) -> None:
        if self.ready is not None:
            self._ready_panes(self.ready)

    # --- the run's messages -----------------------------------------------------------------

    def take(self, m: Any) -> None:
        # The run's state does not wait for the panes: a key pressed before they are there
        # (within the first tenth of a second) acts on the run as it is. The panes show it
        # when they come (panes_mounted, draw).
        self.receive(m)

    def receive(self, m: Any) -> None:
        match m:
            case p.StepReport() if self.state not in ("resetting", "stopped"):
                self.series.extend(m.losses, m.val_losses)
                self.rate.add(self.host.clock(), m.step)
                self.latest = m
                if m.step >= m.total_steps:
                    self.state = "done"
                self._check_schedule(m)
                self.loop.report(m)
                self.attention.take(m.figures)
                self.host.request_draw()
            case p.LoopFigures() if self.state not in ("resetting", "stopped"):
                self.loop.phase(m, show=self.panes_ready)
                self.attention.take(m)
                if self.panes_ready:
                    self.attention.draw()
            case p.EngineReady():
                self._ready(m)
            case p.LossHistory():
                self.series.replace(m.points)
                self.host.draw_now()
            case p.Divergence():
                self.state = "diverged"
                self.notify(m.message, title="Training diverged", severity="error", timeout=30)
                self.host.draw_now()
            case p.SampleText():
                self._sample(m)
            case p.Saved():
                self.notify(f"{m.path}", title=f"Saved checkpoint @ step {m.step}", timeout=8)

    def _ready(self, ready: p.EngineReady) -> None:
        self.ready = ready
        self.latest = None
        self.series.clear()
        self.rate.clear()
        self.state = "done" if ready.step >= ready.total_steps else "paused"
        self.schedule, self._schedule_told = schedule_for(ready)
        self.loop.ready(ready)
        self.attention.ready()
        if self.panes_ready:
            self._ready_panes(ready)
        self.host.draw_now()

    def _ready_panes(self, ready: p.EngineReady) -> None:
        max_loss = math.log(max(2, ready.vocab_size))
        self.query_one("#stream").max_loss = max_loss
        self.query_one("#prediction").max_loss = max_loss
        model: ModelPane = self.query_one("#model")
        model.ready = ready
        model.schedule = self.schedule
        self.loop.ready_panes(ready)

    def _check_schedule(self, report: p.StepReport) -> None:
        """Draw the default schedule only while the reported learning rates agree with it."""
        schedule = self.schedule
        if schedule and not self._schedule_told and not schedule.matches(report.step, report.lr):
            self.schedule = None

    def _sample(self, sample: p.SampleText) -> None:
        self.samples = (*self.samples, sample)[-4:]
        if self.panes_ready:
            self.query_one("#samples").samples = self.samples
        if self.sampling.received(sample):
            return  # it went to the "why this token" view
        if not self.app.has_class("-tall") or self.host.tab is not self:
            title = f"Sample @ step {sample.step}"
            self.notify(sample.text or "(nothing yet)", title=title, timeout=15)

    def heard(self, m: Any) -> None:
        if isinstance(m, p.BaseModel) and parent_of(m.stage) == FIRST:
            self._offered(m)

    def _offered(self, base: p.BaseModel) -> None:
        """A later tab's offer of this run changed. Fast-forwarding trains this run
        headless: this tab shows it playing meanwhile, and what it came to after."""
        if base.fast_forwarding:
            self.forwarding = True
            self.state = "playing"
        elif self.forwarding:
            self.forwarding = False
            if self.state == "playing":
                self.state = "done" if base.step >= base.total_steps else "paused"
                if base.source == "cache":
                    self.notify(
                        "stage 1 finished and is cached: enter starts fine-tuning from it",
                        title="Base model ready",
                        timeout=8,
                    )

    def session_stopped(self) -> None:
        self.state = "stopped"

    def session_restarted(self) -> None:
        self.ready = None
        self.state = "starting"

    # --- drawing ------------------------------------------------------------------------------

    def draw(self) -> None:
        if not self.panes_ready:
            return
        self.loop.draw()
        self.attention.draw()
        row = self.latest.row if self.latest else ()
        stream = self.query_one("#stream")
        if stream.row is not row:
            stream.row = row
            prediction = self.query_one("#prediction")
            prediction.row = row
            prediction.cursor = stream.cursor
        self.drawn = self.latest
        model = self.query_one("#model")
        model.report = self.latest
        if model.schedule is not self.schedule:
            model.schedule = self.schedule
        samples = self.query_one("#samples")
        if samples.samples is not self.samples:
            samples.samples = self.samples
        self.query_one("#loss").show(self.series)

    def status(self, line: StatusInfo) -> StatusInfo:
        # The drawn report, not the latest: a key pressed between a report and its draw
        # must not put a newer step in the status line than the panes below show.
        from dataclasses import replace

        ready, report = self.ready, self.drawn
        return replace(
            line,
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=report.loss if report else self.series.last,
            state=self.state,
            rate=self.rate.rate(self.host.clock()) if self.state == "playing" else None,
            compute=rate_words(ready, report) if ready and self.state == "playing" else "",
        )

    def shown_report(self) -> p.StepReport | None:
        return self.drawn

    def cost_words(self) -> str:
        return cost_words(self.ready, self.drawn) if self.ready is not None else ""

    def on_resize(self) -> None:
        # The attention pane shows or folds with the terminal's height (the App's -tall).
        if self.panes_ready:
            self.attention.draw()

    def on_token_stream_cursor_moved(self, message: TokenStream.CursorMoved) -> None:
        self.query_one("#prediction").cursor = message.index
        self.loop.cursor(message.index)
        self.attention.cursor(message.index)

    def on_loop_diagram_selected(self, message: LoopDiagram.Selected) -> None:
        self.loop.select(message.node)

    def on_loop_diagram_asked(self, message: LoopDiagram.Asked) -> None:
        self.loop.explain(message.node)

    # --- keys ---------------------------------------------------------------------------------

    def not_trainable(self) -> str:
        if self.state in NOT_READY:
            return "the trainer is not ready yet"
        if self.state in ("done", "diverged"):
            what = "finished" if self.state == "done" else "diverged"
            return f"this stage has {what}: r resets it"
        return ""

    def action_step_phase(self) -> None:
        if self.state == "playing" or self.can_train():
            self.send(p.StepPhase())
            self.state = "paused"
            self.host.show_status()

    def action_cursor(self, delta: int) -> None:
        self.query_one("#stream").move(delta)

    def action_attention(self, delta: int) -> None:
        self.attention.step(delta)

    def sample_on_screen(self) -> bool:
        return bool(self.samples)

    def resample(self) -> bool:
        if self.state in NOT_READY:
            return False
        self.send(p.Sample(sampler=self.sampling.sampler))
        return True

    def action_sample(self) -> None:
        self.resample()

    def action_why(self) -> None:
        if self.resample():
            self.sampling.why_wanted = True
        else:
            self.notify("the trainer is not ready yet", timeout=3)

    def action_save(self) -> None:
        if self.state not in NOT_READY:
            self.send(p.Save())

    def action_reset(self) -> None:
        if self.state in NOT_READY:
            return
        step = self.latest.step if self.latest else self.ready.step if self.ready else 0

        def answered(yes: bool | None) -> None:
            if yes:
                self.send(p.Reset())
                self.state = "resetting"
                self.latest = None
                self.series.clear()
                self.rate.clear()
                self.host.draw_now()

        from tui.screens.confirm import ConfirmReset

        self.app.push_screen(ConfirmReset(CARDS[0].tab_label, step), answered)
