"""The evals of a later stage, as a small table that fills in: the model it started from,
then the model now, with what each figure means in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.runs import RUNS

if TYPE_CHECKING:  # the later stages' messages load after the first frame
    from model.protocol import EvalRow, EvalTable


def _cell(row: EvalRow, counts: bool) -> Text:
    if not row.total:
        return Text("—", "dim")
    if row.score is not None:
        return Text(f"{row.score:+.2f}", "bold" if row.score > 0 else "")
    rate = row.rate
    # A false refusal is good when rare: score each row by how good it is, not how high.
    goodness = 1 - rate if row.lower_is_better else rate
    # Bold for good, plain for middling, dim for poor: readable without colour too.
    style = "bold green" if goodness >= 0.9 else "yellow" if goodness >= 0.5 else "red dim"
    return Text(f"{100 * rate:3.0f}%" + (f" {row.correct}/{row.total}" if counts else ""), style)


def _ordered(rows, stage: str):
    # The rows a stage is about come first (tui.runs): at 80×24 only half of them show.
    first = RUNS[stage].first_evals if stage in RUNS else ()
    rank = {key: i for i, key in enumerate(first)}
    return sorted(rows, key=lambda r: rank.get(r.key, len(first)))  # stable: the rest as given


class EvalPane(Widget):
    DEFAULT_CSS = """
    EvalPane { height: 1fr; }
    """

    before: reactive[EvalTable | None] = reactive(None, layout=True)
    now: reactive[EvalTable | None] = reactive(None, layout=True)

    def on_mount(self) -> None:
        self.border_title = "Evals"
        self.border_subtitle = "e evals now · v probes"

    def render(self):
        if self.before is None and self.now is None:
            return Text("evals appear when the stage starts", "dim")
        counts = self.size.width >= 44  # room for "17/20" beside each percentage
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True, justify="right")
        before_step = self.before.step if self.before else 0
        now_step = self.now.step if self.now else before_step
        table.add_row(
            Text("", "dim"), Text(f"base @{before_step}", "dim"), Text(f"@{now_step}", "bold")
        )
        rows_now = {r.key: r for r in self.now.rows} if self.now else {}
        source = self.before or self.now
        for row in _ordered(source.rows, source.stage):
            later = rows_now.get(row.key)
            table.add_row(
                row.label,
                _cell(row, counts) if self.before else Text("—", "dim"),
                _cell(later, counts) if later else Text("…", "dim"),
            )
        note = self._lesson()
        return Group(table, Text(note, "italic")) if note else table

    def _lesson(self) -> str:
        if self.now is None or self.now.step == 0:
            return ""
        rows = {r.key: r for r in self.now.rows}
        unknown = rows.get("unknown")
        if unknown and unknown.rate >= 0.5:
            return (
                f"{100 * unknown.rate:.0f}% of questions about places that exist nowhere got "
                "a confident answer: fine-tuning taught the form of an answer, and the model "
                "cannot know what it does not know"
            )
        return ""
