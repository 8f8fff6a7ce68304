"""The numbers of RLHF's two runs, by TRL's names, and in plain words what they mean now:
the reward model's (Bradley–Terry) while it trains, then the policy's (RLOO)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

REWARD_ORDER = ("loss", "accuracy", "margin", "mean_reward", "min_reward", "max_reward")
POLICY_ORDER = ("reward", "score", "kl", "entropy", "length", "ended", "distinct", "batch gold")
SHARES = {"accuracy", "ended", "distinct"}


def explain_reward(m: dict[str, float]) -> list[str]:
    out = []
    loss = m.get("loss")
    if loss is not None:
        out.append(
            f"loss {loss:.3f} = −log σ(r_chosen − r_rejected): ln 2 = 0.693 while the head "
            "scores both answers alike."
        )
    probes = sorted({k.split("/")[1] for k in m if k.startswith("probe/")})
    for kind in probes:
        c, r = m.get(f"probe/{kind}/chosen"), m.get(f"probe/{kind}/rejected")
        if c is not None and r is not None:
            verdict = "right" if c > r else "wrong"
            out.append(f"{kind}: chosen {c:+.2f} vs rejected {r:+.2f} ({verdict})")
    return out


def explain_policy(m: dict[str, float], beta: float | None) -> list[str]:
    out = []
    score, kl = m.get("score"), m.get("kl")
    if score is not None and kl is not None and beta is not None:
        out.append(
            f"reward = RM score {score:+.2f} − β {beta:g} × KL {kl:.2f}"
            + (" (β 0: nothing holds the policy near the fine-tuned model)" if beta == 0 else "")
        )
    distinct = m.get("distinct")
    if distinct is not None and distinct < 0.2:
        out.append(
            "the answers to a prompt are nearly all alike: no sibling to beat, little to learn"
        )
    ended = m.get("ended")
    if ended is not None and ended < 0.9:
        out.append(f"{1 - ended:.0%} of answers never end: each loses 1 reward")
    if "batch gold" in m and score is not None:
        out.append(
            f"batch gold {m['batch gold']:+.2f}: the judge that knows the world's truth, on "
            "the same answers"
        )
    return out


class RLMetricsPane(Widget):
    metrics: reactive[tuple[tuple[str, float], ...]] = reactive((), layout=True)
    phase: reactive[str] = reactive("rlhf", layout=True)
    beta: reactive[float | None] = reactive(None, layout=True)
    # What the run has come to, in words: RL collapsing, or its two scores parting.
    note: reactive[str] = reactive("", layout=True)

    def on_mount(self) -> None:
        self.border_title = "RLOO metrics"

    def watch_phase(self, phase: str) -> None:
        self.border_title = "Reward model metrics" if phase == "reward-model" else "RLOO metrics"

    def render(self):
        if not self.metrics:
            return Text("the metrics appear after the first step", "dim")
        m = dict(self.metrics)
        order = REWARD_ORDER if self.phase == "reward-model" else POLICY_ORDER
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for name in order:
            if name in m:
                value = m[name]
                table.add_row(name, f"{value:.0%}" if name in SHARES else f"{value:+.3f}")
        reward = self.phase == "reward-model"
        words = explain_reward(m) if reward else explain_policy(m, self.beta)
        note = [Text(self.note, "bold yellow")] if self.note else []
        return Group(*note, table, *(Text(line, "italic") for line in words))
