"""Tab 3, preference tuning by DPO: the hand-off from the fine-tuned model (with β and the
method chosen before the run), then the run live: one pair of the batch token by token,
DPO's metrics in TRL's names and in plain words, the loss, the evals and the probes."""

from __future__ import annotations

from textual.app import ComposeResult

from model import protocol as p
from tui.views.later import LaterStageView
from tui.widgets.dpo_metrics import MetricsPane
from tui.widgets.handoff import HandoffBody
from tui.widgets.lines import set_title
from tui.widgets.loss_chart import LossPane
from tui.widgets.pair_view import PairPane

METHODS = ("dpo+nll", "dpo")
BETAS = (0.01, 0.03, 0.1, 0.3, 1.0)


class PreferenceView(LaterStageView):
    stage = "dpo"
    card = "preference"

    DEFAULT_CSS = """
    PreferenceView .-top { height: 12; }
    PreferenceView PairPane { width: 1fr; }
    PreferenceView MetricsPane { width: 42%; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.method = METHODS[0]
        self.beta = 0.1

    def compose_top(self) -> ComposeResult:
        yield PairPane(id="dpo-pair")
        yield MetricsPane(id="dpo-metrics")

    def on_mount(self) -> None:
        self._show_choices()

    def choose_method(self) -> None:
        self.method = METHODS[(METHODS.index(self.method) + 1) % len(METHODS)]
        self._show_choices()

    def choose_beta(self, direction: int) -> None:
        nearest = min(range(len(BETAS)), key=lambda i: abs(BETAS[i] - self.beta))
        self.beta = BETAS[max(0, min(len(BETAS) - 1, nearest + direction))]
        self._show_choices()

    def _show_choices(self) -> None:
        plain = "plain DPO (sigmoid loss)" if self.method == "dpo" else "DPO + NLL on the chosen"
        self.query_one(HandoffBody).choices = f"method {self.method}: {plain} · β {self.beta:g}"

    def ready_panes(self, ready: p.EngineReady) -> None:
        self.query_one(MetricsPane).batch = ready.batch_size
        self.query_one(MetricsPane).metrics = ()
        self.query_one(PairPane).pairs = ()
        settings = ready.settings
        if settings is not None and hasattr(settings, "beta"):
            subtitle = f"── train · ● val · {settings.method} β {settings.beta:g}"
            set_title(self.query_one(LossPane), subtitle=subtitle)

    def report_panes(self, report: p.StepReport) -> None:
        if report.metrics:
            self.query_one(MetricsPane).metrics = report.metrics
        if report.pairs:
            self.query_one(PairPane).pairs = report.pairs

    def move_cursor(self, delta: int) -> None:
        self.query_one(PairPane).move(delta)
