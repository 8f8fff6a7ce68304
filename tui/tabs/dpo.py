"""Tab 3, preference tuning by DPO: the hand-off from the fine-tuned model (with β and the
method chosen before the run), then the run live: one pair of the batch token by token,
DPO's metrics in TRL's names and in plain words, the loss, the evals and the probes."""

from __future__ import annotations

from textual.app import ComposeResult

from model import protocol as p
from tui.runs import RUNS
from tui.tabs.methods import MethodView


class PreferenceView(MethodView):
    runs = ("dpo",)
    BETAS = (0.01, 0.03, 0.1, 0.3, 1.0)

    DEFAULT_CSS = """
    PreferenceView .-top { height: 12; }
    PreferenceView PairPane { width: 1fr; }
    PreferenceView MetricsPane { width: 42%; }
    """

    def compose_top(self) -> ComposeResult:
        from tui.widgets.later.dpo_metrics import MetricsPane
        from tui.widgets.later.pair_view import PairPane

        yield PairPane(id="dpo-pair")
        yield MetricsPane(id="dpo-metrics")

    def show_choices(self) -> None:
        if not self.panes_ready:
            return
        plain = "plain DPO (sigmoid loss)" if self.method == "dpo" else "DPO + NLL on the chosen"
        choices = f"method {self.method}: {plain} · β {self.beta:g}"
        self.pane("handoff").query_one("HandoffBody").choices = choices

    def ready_panes(self, ready: p.EngineReady) -> None:
        from tui.widgets.common.lines import set_title

        metrics = self.pane("metrics")
        metrics.batch = ready.batch_size
        metrics.metrics = ()
        self.pane("pair").pairs = ()
        settings = ready.settings
        if settings is not None and hasattr(settings, "beta"):
            subtitle = f"── train · ● val · {settings.method} β {settings.beta:g}"
            set_title(self.pane("loss"), subtitle=subtitle)

    def report_panes(self, report: p.StepReport) -> None:
        if report.metrics:
            self.pane("metrics").metrics = report.metrics
        if report.pairs:
            self.pane("pair").pairs = report.pairs

    def action_cursor(self, delta: int) -> None:
        self.pane("pair").move(delta)

    def start(self) -> None:
        self.send(p.StartStage("dpo", beta=self.beta, method=self.method))
        self.notify(f"{RUNS['dpo'].words} starts: the evals run first…", timeout=4)
