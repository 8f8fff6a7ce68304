"""One preference pair as DPO sees it: the prompt, then the chosen and the rejected answer,
each token marked by log π/π_ref, how much more (or less) likely the policy now makes it
than the frozen reference does: what DPO is pushing up, and what down."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from model.protocol import PairView
from tui.widgets.common.lines import set_title


def _style(ratio: float) -> str:
    # Bold up, dim and struck down: readable without colour too.
    if ratio > 1.0:
        return "bold green"
    if ratio > 0.05:
        return "green"
    if ratio < -1.0:
        return "bold red strike"
    if ratio < -0.05:
        return "red"
    return ""


def answer_text(tokens: tuple[tuple[str, float], ...]) -> Text:
    text = Text()
    for piece, ratio in tokens:
        text.append(piece, _style(ratio))
    return text


class PairPane(Widget):
    pairs: reactive[tuple[PairView, ...]] = reactive((), layout=True)
    index: reactive[int] = reactive(0, layout=True)

    def on_mount(self) -> None:
        self.border_title = "Pair"
        self.border_subtitle = "green: pushed up · red: pushed down (log π/π_ref) · ←→"

    def validate_index(self, index: int) -> int:
        return max(0, min(len(self.pairs) - 1, index)) if self.pairs else 0

    def move(self, delta: int) -> None:
        self.index = self.index + delta

    def render(self):
        if not self.pairs:
            return Text("the batch's pairs appear after the first step", "dim")
        pair = self.pairs[self.validate_index(self.index)]
        set_title(self, f"Pair {self.index + 1}/{len(self.pairs)} of the batch")
        up_c = sum(r for _, r in pair.chosen)
        up_r = sum(r for _, r in pair.rejected)
        prompt = pair.prompt
        for special in ("<|end|>", "<|user|>", "<|assistant|>", "<|system|>"):
            prompt = prompt.replace(special, " ")
        prompt = " ".join(prompt.split())
        return Group(
            Text.assemble(("prompt   ", "bold"), (prompt, "dim")),
            Text.assemble(
                ("chosen   ", "bold green"), answer_text(pair.chosen), (f"  Σ {up_c:+.1f}", "dim")
            ),  # fmt: skip
            Text.assemble(
                ("rejected ", "bold red"), answer_text(pair.rejected), (f"  Σ {up_r:+.1f}", "dim")
            ),  # fmt: skip
        )
