"""What the tabs of the stages after pretraining share: a hand-off until the run starts,
then the run's own state (reports, loss series, evals, probes), drawn from its messages."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher

from model import protocol as p
from tui.history import LossSeries, RateMeter
from tui.stages import BY_KEY
from tui.widgets.eval_table import EvalPane
from tui.widgets.handoff import HandoffPane
from tui.widgets.lines import set_title
from tui.widgets.loss_chart import LossPane
from tui.widgets.probes import ProbePane
from tui.widgets.stage_card import CardLine

SHARED_CSS = """
    LaterStageView { height: 1fr; }
    LaterStageView .-run { height: 1fr; display: none; }
    LaterStageView.-running .-run { display: block; }
    LaterStageView.-running HandoffPane { display: none; }
    LaterStageView .-top { height: 9; }
    LaterStageView .-bottom { height: 1fr; }
    LaterStageView .-side { width: 42%; height: 1fr; }
    LaterStageView EvalPane, LaterStageView ProbePane, LaterStageView PairPane,
    LaterStageView MetricsPane {
        border: round $primary 60%; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; padding: 0 1; height: 1fr;
    }
"""


class LaterStageView(Vertical):
    """Subclasses set ``stage`` (the engine's name) and ``card`` (the tab's card), and
    compose the top row of their run; the card line, the hand-off, the loss and the
    evals ⇄ probes side pane are the same for every later stage."""

    DEFAULT_CSS = SHARED_CSS
    stage = ""
    card = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ready: p.EngineReady | None = None
        self.latest: p.StepReport | None = None
        self.series = LossSeries()
        self.rate = RateMeter()
        self.state = "waiting"  # waiting · paused · playing · done · diverged
        self.base: p.BaseModel | None = None
        self.before: p.EvalTable | None = None

    def compose(self) -> ComposeResult:
        s = self.stage
        yield CardLine(BY_KEY[self.card], id=f"{s}-card")
        yield HandoffPane(s, id=f"{s}-handoff")
        with Vertical(id=f"{s}-run", classes="-run"):
            with Horizontal(classes="-top"):
                yield from self.compose_top()
            with Horizontal(classes="-bottom"):
                yield LossPane(id=f"{s}-loss")
                with ContentSwitcher(id=f"{s}-side", classes="-side", initial=f"{s}-evals"):
                    yield EvalPane(id=f"{s}-evals")
                    yield ProbePane(id=f"{s}-probes")

    def compose_top(self) -> ComposeResult:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self.ready is not None

    def on_ready(self, ready: p.EngineReady) -> None:
        self.ready = ready
        self.latest = None
        self.series.clear()
        self.rate.clear()
        self.before = None
        self.state = "done" if ready.step >= ready.total_steps else "paused"
        self.add_class("-running")
        evals = self.query_one(EvalPane)
        evals.before = evals.now = None
        self.query_one(LossPane).show(self.series)
        self.ready_panes(ready)

    def on_report(self, report: p.StepReport, now: float) -> None:
        self.series.extend(report.losses, report.val_losses, report.series)
        self.rate.add(now, report.step)
        self.latest = report
        if report.step >= report.total_steps:
            self.state = "done"
        self.report_panes(report)

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

    def on_parent_progress(self, step: int, total: int) -> None:
        if self.base is not None and self.base.source == "tab":
            # The offer follows the parent's tab as it trains (fast-forwarded or played).
            self.base = replace(self.base, step=step, total_steps=total)
            pane = self.query_one(HandoffPane)
            pane.show(self.base)
            pane.progress(step, total)

    def cleared(self) -> None:
        self.ready = None
        self.latest = None
        self.series.clear()
        self.state = "waiting"
        self.remove_class("-running")

    def draw(self) -> None:
        if not self.running:
            return
        loss = self.query_one(LossPane)
        loss.show(self.series)
        title = "Loss"
        if self.ready is not None and self.ready.starts_from:
            title += f" · from {self.ready.starts_from}"
        pretrain_val = self.series.last_other("pretrain val")
        if pretrain_val is not None:
            title += f" · pretraining val {pretrain_val:.3f}"
        set_title(loss, title)
        self.draw_panes()

    def toggle_side(self) -> None:
        side = self.query_one(".-side", ContentSwitcher)
        ids = [child.id for child in side.children]
        side.current = ids[(ids.index(side.current) + 1) % len(ids)]

    # --- hooks ----------------------------------------------------------------------------

    def ready_panes(self, ready: p.EngineReady) -> None:
        pass

    def report_panes(self, report: p.StepReport) -> None:
        pass

    def draw_panes(self) -> None:
        pass

    def move_cursor(self, delta: int) -> None:
        pass
