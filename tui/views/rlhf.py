"""Tab 3 by RLHF: first a reward model learns the preferences (live, unless this machine has
one), then the fine-tuned model samples answers and RLOO pushes it toward what the reward
model scores highly, with a gold judge's line beside the reward model's.

One view holds both runs, one after the other: the engine names them "reward-model" and
"rlhf"; the keys act on the one shown.
"""

from __future__ import annotations

from textual.app import ComposeResult

from model import protocol as p
from tui.views.later import LaterStageView
from tui.widgets.handoff import HandoffBody
from tui.widgets.lines import set_title
from tui.widgets.loss_chart import LossPane
from tui.widgets.rl_metrics import RLMetricsPane
from tui.widgets.rl_samples import SamplesPane

BETAS = (0.0, 0.01, 0.05, 0.1, 0.3)
# The one-key experiment (o), found by measurement on the default scenario: RL pushed three
# times as hard (lr 1e-4 for 3e-5) with nothing holding it near the fine-tuned model (β 0).
# The reward model's held-out score climbs while the gold judge's falls (docs/measured.md).
OVEROPTIMISE_BETA = 0.0
OVEROPTIMISE_LR = 1e-4


class RLHFView(LaterStageView):
    stage = "rlhf"
    card = "rlhf"
    stages = ("reward-model", "rlhf")

    DEFAULT_CSS = """
    RLHFView .-top { height: 12; }
    RLHFView SamplesPane { width: 1fr; }
    RLHFView RLMetricsPane { width: 42%; }
    RLHFView SamplesPane, RLHFView RLMetricsPane {
        border: round $primary 60%; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; padding: 0 1; height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.method = "rlhf"
        self.beta = 0.05
        self.lr: float | None = None  # None: the scenario's; the experiment sets its own
        # The run shown: the reward model's while it trains, then the policy's.
        self.phase = ""
        self.alarm = ""

    def compose_top(self) -> ComposeResult:
        yield SamplesPane(id="rl-samples")
        yield RLMetricsPane(id="rl-metrics")

    def on_mount(self) -> None:
        self._show_choices()

    @property
    def current_stage(self) -> str:
        return self.phase or "rlhf"

    @property
    def reward_ready(self) -> bool:
        """A finished reward model exists: RL can start."""
        if self.phase == "reward-model":
            return self.state == "done"
        return self.base is not None and bool(self.base.reward_model)

    def choose_beta(self, direction: int) -> None:
        nearest = min(range(len(BETAS)), key=lambda i: abs(BETAS[i] - self.beta))
        self.beta = BETAS[max(0, min(len(BETAS) - 1, nearest + direction))]
        self._show_choices()

    def _show_choices(self) -> None:
        words = " (nothing holds it near the fine-tuned model)" if self.beta == 0 else ""
        self.query_one(
            HandoffBody
        ).choices = f"method rlhf: a reward model, then RLOO · β {self.beta:g}{words}"
        self._hint()

    def _hint(self) -> None:
        """Until RL runs, the answers pane says what comes next."""
        samples = self.query_one(SamplesPane)
        if self.phase != "reward-model":
            samples.hint = "the policy's answers appear after the first step"
        elif self.state != "done":
            samples.hint = (
                "the reward model is learning to score answers; then RL samples answers to "
                "the prompts, and they appear here with the scores they earn"
            )
        else:
            samples.hint = (
                f"the reward model is trained: enter starts RL from the fine-tuned model with "
                f"β {self.beta:g} ([ ] change it) · o the over-optimisation experiment "
                f"(β 0, lr ×3)"
            )

    def on_base(self, base: p.BaseModel) -> None:
        if base.stage == "rlhf":
            super().on_base(base)

    def on_ready(self, ready: p.EngineReady) -> None:
        self.phase = ready.stage
        self.alarm = ""
        super().on_ready(ready)

    def ready_panes(self, ready: p.EngineReady) -> None:
        metrics = self.query_one(RLMetricsPane)
        metrics.phase = ready.stage
        metrics.metrics = ()
        metrics.note = ""
        settings = ready.settings
        metrics.beta = getattr(settings, "beta", None)
        self.query_one(SamplesPane).view = None
        self._hint()
        loss = self.query_one(LossPane)
        loss.value_label = "RM score" if ready.stage == "rlhf" else "loss"
        loss.placeholder = (
            "the reward model's score and the gold judge's\nappear here as RL runs"
            if ready.stage == "rlhf"
            else "the reward model's loss\nappears here as it trains"
        )
        if ready.stage == "rlhf":
            beta = f"β {settings.beta:g} lr {settings.lr:g}" if settings is not None else ""
            set_title(loss, subtitle=f"── batch RM score · ● held-out RM · ◆ gold · {beta}")
        else:
            set_title(loss, subtitle="── train · ● held-out Bradley–Terry loss")

    def on_report(self, report: p.StepReport, now: float) -> None:
        if report.stage != "rlhf":
            super().on_report(report, now)
            return
        # RL's loss (−A · log π) swings round 0 whatever happens: the chart shows rewards.
        metrics = dict(report.metrics)
        train = ((report.step, metrics["score"]),) if "score" in metrics else ()
        gold = tuple(s for s in report.series if s[0] == "gold")
        self.series.extend(train, report.val_losses, gold)
        self.rate.add(now, report.step)
        self.latest = report
        if report.step >= report.total_steps:
            self.state = "done"
        if report.alarm:
            self.alarm = report.alarm
            self.state = "paused"
        self.report_panes(report)

    def report_panes(self, report: p.StepReport) -> None:
        if report.stage == "reward-model":
            self._hint()
        if report.metrics:
            self.query_one(RLMetricsPane).metrics = report.metrics
        if report.rl is not None:
            self.query_one(SamplesPane).view = report.rl

    def draw(self) -> None:
        super().draw()
        if not self.running:
            return
        loss = self.query_one(LossPane)
        if self.phase == "rlhf":
            title, parted = reward_title(self.series)
            set_title(loss, title)
            self.query_one(RLMetricsPane).note = self.alarm or parted
        else:
            set_title(loss, "Reward model · loss")

    def cleared(self) -> None:
        self.phase = ""
        self.alarm = ""
        super().cleared()


# The held-out reward-model score must climb this much, and the gold score fall this much,
# from their first measurement before the chart says the two have parted.
PARTED_RM, PARTED_GOLD = 1.0, 0.2


def reward_title(series) -> tuple[str, str]:
    """The chart's title (the two held-out scores now) and, once they have parted, what
    that means in words."""
    title = "Reward"
    rm, gold = series.val, series.other.get("gold", [])
    if rm:
        title += f" · held-out RM {rm[-1][1]:+.2f}"
    if gold:
        title += f" · gold {gold[-1][1]:+.2f}"
    parted = ""
    if len(rm) >= 2 and len(gold) >= 2:
        climbed = rm[-1][1] - rm[0][1] >= PARTED_RM
        fell = gold[0][1] - gold[-1][1] >= PARTED_GOLD
        if climbed and fell:
            parted = (
                f"Over-optimised: the reward model's score went {rm[0][1]:+.1f} → "
                f"{rm[-1][1]:+.1f} while the gold judge's fell {gold[0][1]:+.1f} → "
                f"{gold[-1][1]:+.1f}. The model found what the reward model likes, not what "
                "it was trained to stand for: read the answers on the left."
            )
    return title, parted
