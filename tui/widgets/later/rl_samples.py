"""RLHF's batch as the policy sees it: one prompt, its k sampled answers, and what each
earned — the reward model's score, the KL to the fine-tuned model, the reward, and the
advantage over its siblings that decides whether it becomes more likely or less."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from model.protocol import RLView


def _advantage_style(value: float, spread: float) -> str:
    # Bold for the clear winner, struck for the clear loser: readable without colour.
    if spread <= 1e-6:
        return "dim"
    if value >= 0.5 * spread:
        return "bold green"
    if value > 0:
        return "green"
    if value <= -0.5 * spread:
        return "bold red strike"
    return "red"


def flat(text: str) -> str:
    """One line, and only printable characters: a young policy samples byte pieces and
    control characters, which would break the table's columns."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split()) or "(nothing)"


class SamplesPane(Widget):
    view: reactive[RLView | None] = reactive(None, layout=True)
    # Said while there are no answers yet (the reward model trains first).
    hint: reactive[str] = reactive("the policy's answers appear after the first step", layout=True)

    def on_mount(self) -> None:
        self.border_title = "Sampled answers"
        self.border_subtitle = "A > 0: made more likely · A < 0: less"

    def render(self):
        v = self.view
        if v is None:
            return Text(self.hint, "dim" if "enter" not in self.hint else "bold")
        self.border_title = f"{len(v.samples)} sampled answers to one prompt of the batch"
        has_gold = any(s.gold is not None for s in v.samples)
        table = Table.grid(padding=(0, 1), expand=True)
        # Two lines an answer when the pane has the room (4 answers: 10 rows with the prompt
        # and the header): at 80 columns one line shows a refusal's first four words.
        numbers = 24 if has_gold else 19
        room = max(8, self.size.width - numbers)
        lines = 2 if self.size.height >= 2 * len(v.samples) + 2 else 1
        table.add_column(ratio=1, no_wrap=lines == 1, overflow="ellipsis")
        for name in ("RM", "KL", "A", *(("gold",) if has_gold else ())):
            table.add_column(justify="right", no_wrap=True, header=name)
        head = [Text("answer", "bold"), *(Text(n, "bold") for n in ("RM", "KL", "A"))]
        if has_gold:
            head.append(Text("gold", "bold"))
        table.add_row(*head)
        spread = max((abs(s.advantage) for s in v.samples), default=0.0)
        for s in v.samples:
            style = _advantage_style(s.advantage, spread)
            said = flat(s.text)
            if len(said) > lines * room - 1:
                said = said[: lines * room - 2].rstrip() + "…"
            answer = Text(said + ("" if s.ended else " …"), style)
            row = [answer, f"{s.score:+.2f}", f"{s.kl:.1f}", Text(f"{s.advantage:+.2f}", style)]
            if has_gold:
                row.append("" if s.gold is None else f"{s.gold:+.1f}")
            table.add_row(*row)
        prompt = Text.assemble(("prompt ", "bold"), (flat(v.prompt), "dim"))
        return Group(prompt, table)
