"""DPO's numbers with TRL's names, and beside them in plain words what they mean now."""

from __future__ import annotations

import math

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

ORDER = (
    "dpo",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "logps/chosen",
    "logps/rejected",
    "nll",
)


def explain(m: dict[str, float], batch: int) -> list[str]:
    """Plain sentences about these numbers, filled with them."""
    out = []
    loss = m.get("dpo")
    if loss is not None:
        if abs(loss - math.log(2)) < 0.01:
            out.append(
                f"loss {loss:.3f} ≈ ln 2 = 0.693: the policy still equals the reference, so "
                "both answers get the same implicit reward and the odds are 50/50."
            )
        else:
            out.append(
                f"loss {loss:.3f} = −log σ(margin): the chosen answer is now "
                f"{1 / (1 + math.exp(-m.get('rewards/margins', 0))):.0%} likely to be preferred."
            )
    chosen, rejected = m.get("rewards/chosen"), m.get("rewards/rejected")
    if chosen is not None and rejected is not None and chosen < 0 and rejected < chosen:
        out.append(
            f"both rewards are below 0 (chosen {chosen:+.2f}, rejected {rejected:+.2f}) while "
            "the margin grows: DPO only needs the gap, and pushing the rejected answer down "
            "is the easy way to get it. That is fine."
        )
    accuracy = m.get("rewards/accuracies")
    if accuracy is not None and batch:
        out.append(
            f"accuracy {accuracy:.0%}: per pair it is 0 or 1 (is the chosen reward higher?), so "
            f"the batch mean moves in steps of 1/{batch}."
        )
    if "nll" in m:
        out.append(
            f"nll {m['nll']:.3f}: the fine-tuning loss on the chosen answer, added to DPO's "
            "so the model really says the chosen answers, not only ranks them."
        )
    return out


class MetricsPane(Widget):
    metrics: reactive[tuple[tuple[str, float], ...]] = reactive((), layout=True)
    batch: reactive[int] = reactive(0)

    def on_mount(self) -> None:
        self.border_title = "DPO metrics (TRL's names)"

    def render(self):
        if not self.metrics:
            return Text("the metrics appear after the first step", "dim")
        m = dict(self.metrics)
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for name in ORDER:
            if name in m:
                table.add_row(name, f"{m[name]:+.3f}" if name != "dpo" else f"{m[name]:.3f}")
        words = [Text(line, "italic") for line in explain(m, self.batch)]
        return Group(table, *words)
