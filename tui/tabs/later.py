"""What the tabs of the stages after pretraining share: a hand-off until the run starts,
then the run's own state (reports, loss series, evals, probes), drawn from its messages,
and the keys that start, step and reset it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding

from model import protocol as p
from model.stages import FIRST, parent_of
from tui.runs import RUNS
from tui.tabs.base import StageTab

if TYPE_CHECKING:
    from tui.widgets.common.status import StatusInfo

SHARED_CSS = """
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


class LaterStageView(StageTab):
    """Subclasses set ``runs`` (the engine's names; tui.runs has the rest), and compose
    the top row of their run; the card line, the hand-off, the loss and the
    evals ⇄ probes side pane are the same for every later stage."""

    BINDINGS = [
        Binding("enter", "start_stage", "start", show=False),
        Binding("e", "evals", "evals", show=False),
        Binding("v", "side", "evals/probes", show=False),
    ]
    DEFAULT_CSS = SHARED_CSS

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base: p.BaseModel | None = None
        self.before: p.EvalTable | None = None
        self.missing_data = ""  # the scenario has no data for this stage: what it would need

    @property
    def stage(self) -> str:
        return self.runs[0]

    def compose_panes(self) -> ComposeResult:
        from textual.containers import Horizontal, Vertical
        from textual.widgets import ContentSwitcher

        from tui.widgets.common.loss_chart import LossPane
        from tui.widgets.common.stage_card import CardLine
        from tui.widgets.later.eval_table import EvalPane
        from tui.widgets.later.handoff import HandoffPane
        from tui.widgets.later.probes import ProbePane

        s = self.stage
        yield CardLine(RUNS[s].card, id=f"{s}-card")
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

    def pane(self, name: str) -> Any:
        """A pane of this tab's run by its short name ("loss", "evals", "handoff", …)."""
        return self.query_one(f"#{self.stage}-{name}")

    @property
    def running(self) -> bool:
        return self.ready is not None

    def panes_mounted(self) -> None:
        if self.missing_data:
            self.pane("handoff").missing(self.missing_data)

    # --- the run's messages -----------------------------------------------------------------

    def receive(self, m: Any) -> None:
        match m:
            case p.EngineReady():
                self.on_ready(m)
            case p.StepReport():
                self.on_report(m, self.host.clock())
                if m.alarm:
                    self.notify(m.alarm, title="Run paused", severity="warning", timeout=30)
                    self.host.show_status()
                self.host.request_draw()
                return
            case p.LossHistory() if not RUNS[m.stage].score:  # RL's chart is of its scores
                self.series.replace(m.points)
            case p.EvalTable():
                self.on_evals(m)
            case p.ProbeAnswers():
                self.on_probes(m)
            case p.BaseModel():
                self.on_base(m)
            case p.StageCleared():
                self.cleared()
            case p.Divergence():
                self.state = "diverged"
                title = f"{RUNS[m.stage].words.capitalize()} diverged"
                self.notify(m.message, title=title, severity="error", timeout=30)
            case p.Saved():
                title = f"Saved {RUNS[m.stage].words} @ step {m.step}"
                self.notify(m.path, title=title, timeout=8)
            case p.SampleText():
                if not self.sampling.received(m):
                    self.notify(m.text or "(nothing)", title=f"{m.prompt} @ step {m.step}",
                                timeout=15)  # fmt: skip
                return
            case _:
                return
        self.draw()
        self.host.show_status()

    def on_ready(self, ready: p.EngineReady) -> None:
        self.ready = ready
        self.latest = None
        self.series.clear()
        self.rate.clear()
        self.before = None
        self.state = "done" if ready.step >= ready.total_steps else "paused"
        self.add_class("-running")
        evals = self.pane("evals")
        evals.before = evals.now = None
        self.pane("loss").show(self.series)
        self.ready_panes(ready)

    def on_report(self, report: p.StepReport, now: float) -> None:
        self.series.extend(report.losses, report.val_losses, report.series)
        self.rate.add(now, report.step)
        self.latest = report
        if report.step >= report.total_steps:
            self.state = "done"
        self.report_panes(report)

    def on_evals(self, table: p.EvalTable) -> None:
        pane = self.pane("evals")
        if self.before is None:
            self.before = table
            pane.before = table
        pane.now = table

    def on_probes(self, answers: p.ProbeAnswers) -> None:
        self.pane("probes").answers = answers

    def on_base(self, base: p.BaseModel) -> None:
        self.base = base
        self.pane("handoff").show(base)

    def heard(self, m: Any) -> None:
        match m:
            case p.EngineReady(stage=stage) if stage == FIRST:
                self.scenario_data(dict(m.stage_data))
            case p.StepReport(stage=stage) if stage == parent_of(self.stage):
                self.parent_progress(m.step, m.total_steps)

    def scenario_data(self, sentences: dict[str, str]) -> None:
        """What the scenario holds for this stage, in a sentence (the first run's ready)."""
        sentence = sentences.get(RUNS[self.stage].section)
        if sentence is not None and not sentence.endswith("are ready for it."):
            self.missing_data = sentence
            if self.panes_ready:
                self.pane("handoff").missing(sentence)

    def parent_progress(self, step: int, total: int) -> None:
        if self.base is not None and self.base.source == "tab":
            # The offer follows the parent's tab as it trains (fast-forwarded or played).
            self.base = replace(self.base, step=step, total_steps=total)
            if self.panes_ready:
                pane = self.pane("handoff")
                pane.show(self.base)
                pane.progress(step, total)

    def cleared(self) -> None:
        self.ready = None
        self.latest = None
        self.series.clear()
        self.state = "waiting"
        self.remove_class("-running")

    # --- drawing ------------------------------------------------------------------------------

    def draw(self) -> None:
        if not self.running or not self.panes_ready:
            return
        from tui.widgets.common.lines import set_title

        loss = self.pane("loss")
        loss.show(self.series)
        title = "Loss"
        if self.ready is not None and self.ready.starts_from:
            title += f" · from {self.ready.starts_from}"
        pretrain_val = self.series.last_other("pretrain val")
        if pretrain_val is not None:
            title += f" · pretraining val {pretrain_val:.3f}"
        set_title(loss, title)
        self.draw_panes()

    def status(self, line: StatusInfo) -> StatusInfo:
        report, ready = self.latest, self.ready
        state = self.state if self.running else "waiting"
        run = self.shown_run()
        rl = bool(RUNS[run].score) and self.running  # RL's loss says nothing: its score does
        return replace(
            line,
            stage=RUNS[run].status,
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=self.series.last if rl else report.loss if report else self.series.last,
            loss_label=RUNS[run].score if rl else "loss",
            state=state,
            rate=self.rate.rate(self.host.clock()) if state == "playing" else None,
        )

    # --- hooks --------------------------------------------------------------------------------

    def ready_panes(self, ready: p.EngineReady) -> None:
        pass

    def report_panes(self, report: p.StepReport) -> None:
        pass

    def draw_panes(self) -> None:
        pass

    # --- keys ---------------------------------------------------------------------------------

    def not_trainable(self) -> str:
        if not self.running:
            return RUNS[self.stage].not_started
        if self.state in ("done", "diverged"):
            what = "finished" if self.state == "done" else "diverged"
            return f"{RUNS[self.shown_run()].words} has {what}: r starts it again"
        return ""

    def resample(self) -> bool:
        if not self.running:
            return False
        self.send(p.Sample(sampler=self.sampling.sampler))
        return True

    def action_sample(self) -> None:
        if self.running:
            self.send(p.RunEvals())
            self.notify("asking the probes and the evals…", timeout=3)

    def action_evals(self) -> None:
        self.action_sample()

    def action_save(self) -> None:
        if self.running:
            self.send(p.Save())

    def action_reset(self) -> None:
        if self.running:
            self.send(p.Reset())

    def action_side(self) -> None:
        if self.running:
            side = self.pane("side")
            ids = [child.id for child in side.children]
            side.current = ids[(ids.index(side.current) + 1) % len(ids)]

    def action_start_stage(self) -> None:
        if self.running:
            self.notify(f"{RUNS[self.shown_run()].words} is running: r resets it to start again")
            return
        if self.base is None or not self.base.source:
            self.notify("no model to start from yet", timeout=4)
            return
        if self.base.fast_forwarding:
            self.notify("stage 1 is fast-forwarding: wait, or esc to cancel", timeout=4)
            return
        self.start()

    def start(self) -> None:
        self.send(p.StartStage(self.stage))
        self.notify(f"{RUNS[self.stage].words} starts: the evals run first…", timeout=4)
