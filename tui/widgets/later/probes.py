"""The scenario's probes, answered by the base model and by the model being tuned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.widgets.common.lines import set_title

if TYPE_CHECKING:  # the later stages' messages load after the first frame
    from model.protocol import ProbeAnswers


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(nothing)"


class ProbePane(Widget):
    DEFAULT_CSS = """
    ProbePane { height: 1fr; }
    """

    answers: reactive[ProbeAnswers | None] = reactive(None, layout=True)

    def on_mount(self) -> None:
        self.border_title = "Probes · base model vs now"
        self.border_subtitle = "g refresh · v evals"

    def render(self):
        a = self.answers
        if a is None:
            return Text("the probes are answered when the stage starts", "dim")
        set_title(self, f"Probes · base model vs now (step {a.step})")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, style="bold")
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for _, prompt, base, now in a.rows:
            table.add_row("ask", Text(prompt, "bold"))
            table.add_row(Text("base", "dim"), Text(_one_line(base), "dim"))
            table.add_row(Text("now", "cyan"), _one_line(now))
        return table
