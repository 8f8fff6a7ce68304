"""Tab 3 by RLHF: first a reward model learns the preferences (live, unless this machine has
one), then the fine-tuned model samples answers and RLOO pushes it toward what the reward
model scores highly, with a gold judge's line beside the reward model's.

One view holds both runs, one after the other: the engine names them "reward-model" and
"rlhf"; the keys act on the one shown.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from model import protocol as p
from tui.runs import RUNS
from tui.tabs.methods import MethodView
from tui.widgets.common.lines import set_title

# The one-key experiment (o), found by measurement on the default scenario: RL pushed three
# times as hard (lr 1e-4 for 3e-5) with nothing holding it near the fine-tuned model (β 0).
# The reward model's held-out score climbs while the gold judge's falls (docs/measured.md).
OVEROPTIMISE_BETA = 0.0
OVEROPTIMISE_LR = 1e-4


class RLHFView(MethodView):
    BINDINGS = [Binding("o", "overoptimise", "over-optimise", show=False)]
    runs = ("rlhf", "reward-model")
    BETAS = (0.0, 0.01, 0.05, 0.1, 0.3)
    beta = 0.1  # until the engine says the scenario's (p.BaseModel.beta)

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
        self.lr: float | None = None  # None: the scenario's; the experiment sets its own
        # The run shown: the reward model's while it trains, then the policy's.
        self.phase = ""
        self.alarm = ""

    def compose_top(self) -> ComposeResult:
        from tui.widgets.later.rl_metrics import RLMetricsPane
        from tui.widgets.later.rl_samples import SamplesPane

        yield SamplesPane(id=f"{self.stage}-samples")
        yield RLMetricsPane(id=f"{self.stage}-metrics")

    def shown_run(self) -> str:
        """The reward model's run while it trains, then the policy's."""
        return self.phase or self.stage

    @property
    def reward_ready(self) -> bool:
        """A finished reward model exists: RL can start."""
        if self.phase == "reward-model":
            return self.state == "done"
        return self.base is not None and bool(self.base.reward_model)

    def beta_open(self) -> bool:
        # RLHF's β is RL's: it may change until RL starts (the reward model may have run).
        return not self.running or self.phase != self.stage

    def show_choices(self) -> None:
        if not self.panes_ready:
            return
        words = " (nothing holds it near the fine-tuned model)" if self.beta == 0 else ""
        choices = f"method rlhf: a reward model, then RLOO · β {self.beta:g}{words}"
        self.pane("handoff").query_one("HandoffBody").choices = choices
        self._hint()

    def _hint(self) -> None:
        """Until RL runs, the answers pane says what comes next."""
        samples = self.pane("samples")
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
        if base.stage == self.stage:
            super().on_base(base)

    def on_ready(self, ready: p.EngineReady) -> None:
        self.phase = ready.stage
        self.alarm = ""
        super().on_ready(ready)

    def ready_panes(self, ready: p.EngineReady) -> None:
        metrics = self.pane("metrics")
        metrics.phase = ready.stage
        metrics.metrics = ()
        metrics.note = ""
        settings = ready.settings
        metrics.beta = getattr(settings, "beta", None)
        self.pane("samples").view = None
        self._hint()
        loss = self.pane("loss")
        loss.value_label = RUNS[ready.stage].score or "loss"
        loss.placeholder = (
            "the reward model's score and the gold judge's\nappear here as RL runs"
            if ready.stage == self.stage
            else "the reward model's loss\nappears here as it trains"
        )
        if ready.stage == self.stage:
            beta = f"β {settings.beta:g} lr {settings.lr:g}" if settings is not None else ""
            set_title(loss, subtitle=f"── batch RM score · ● held-out RM · ◆ gold · {beta}")
        else:
            set_title(loss, subtitle="── train · ● held-out Bradley–Terry loss")

    def on_report(self, report: p.StepReport, now: float) -> None:
        if report.stage != self.stage:
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
            self.pane("metrics").metrics = report.metrics
        if report.rl is not None:
            self.pane("samples").view = report.rl

    def draw(self) -> None:
        super().draw()
        if not self.running:
            return
        loss = self.pane("loss")
        if self.phase == self.stage:
            title, parted = reward_title(self.series)
            set_title(loss, title)
            self.pane("metrics").note = self.alarm or parted
        else:
            set_title(loss, "Reward model · loss")

    def cleared(self) -> None:
        self.phase = ""
        self.alarm = ""
        super().cleared()

    # --- keys -------------------------------------------------------------------------------

    def action_start_stage(self) -> None:
        if self.phase == "reward-model" and self.state == "done":
            self.start_rl()
        else:
            super().action_start_stage()

    def start(self) -> None:
        if self.reward_ready:
            self.start_rl()
        else:
            self.send(p.StartStage("reward-model"))
            self.notify("the reward model trains first: then enter starts RL", timeout=5)

    def start_rl(self, lr: float | None = None) -> None:
        self.send(p.StartStage(self.stage, beta=self.beta, lr=lr))
        pushed = f", lr {lr:g}" if lr is not None else ""
        self.notify(f"RL starts from the fine-tuned model, β {self.beta:g}{pushed}…", timeout=4)

    def action_overoptimise(self) -> None:
        """o: the over-optimisation experiment, RL with β 0 and lr ×3."""
        if self.phase == self.stage:
            self.notify("RL has run: r resets it, then o starts the experiment", timeout=5)
            return
        if not self.reward_ready:
            self.notify("the reward model must train first: enter trains it", timeout=5)
            return
        self.beta = OVEROPTIMISE_BETA
        self.choose_beta(0)
        self.start_rl(lr=OVEROPTIMISE_LR)
        self.notify(
            "watch the two lines: the reward model's score climbs; does the gold judge's?",
            title="Over-optimisation", timeout=10,
        )  # fmt: skip


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
