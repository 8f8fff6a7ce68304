"""c — the report card: every model this session has, stages × metrics, as `trainterm eval`
scores them. Computed in the engine; this screen only draws what it sends."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from model import protocol as p
from model.evals import report_card as cards
from tui.runs import RUNS

# Wider than this, a rate shows its count too: "92.9 % (65/70)".
LABEL_WIDTH = 24
COUNTED_CELL = 17
DIALOG_ROWS = 9  # one more than it takes: a long save folder wraps


def card_table(card: p.ReportCard, width: int) -> Table:
    counts = width >= LABEL_WIDTH + COUNTED_CELL * len(card.columns)
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    for column in card.columns:
        head = RUNS[column.stage].report if column.stage in RUNS else column.stage
        table.add_column(head, justify="right", no_wrap=True)
    lower = cards.lower_is_better(card)
    for label, cells in cards.rows(card, counts=counts):
        name = Text(label)
        if label in lower:
            name.append(" ↓", "dim")
        table.add_row(name, *cells)
    return table


class ReportScreen(ModalScreen[None]):
    AUTO_FOCUS = "VerticalScroll"  # ↑ ↓ scroll a card taller than the terminal
    BINDINGS = [
        Binding("escape,c", "close", "close"),
        # A modal screen hides the app's keys: the screenshot key works here too.
        Binding("i", "app.save_screen", "screenshot"),
    ]

    def __init__(self, card: p.ReportCard | None = None) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -report"):
            yield Static("Report card", id="report-title", classes="dialog-title")
            with VerticalScroll():
                yield Static(id="report-body")
            yield Static(id="report-foot", classes="dialog-keys")

    def on_mount(self) -> None:
        self.show(self.card)

    def on_resize(self) -> None:
        self.show(self.card)

    def show(self, card: p.ReportCard | None) -> None:
        self.card = card
        body = self.query_one("#report-body", Static)
        foot = self.query_one("#report-foot", Static)
        keys = "esc close · i screenshot"
        if card is None:
            body.update(
                "Scoring every model this session has on the whole of each eval set, as "
                "`trainterm eval` does: this takes a moment…"
            )
            foot.update(keys)
            return
        self.query_one("#report-title", Static).update(f"Report card · {card.scenario}")
        if not card.columns:
            body.update("No model yet.")
            foot.update(keys)
            return
        scroll = self.query_one(VerticalScroll)
        # The dialog's border, title and keys take DIALOG_ROWS; the table scrolls in the rest.
        scroll.styles.max_height = max(3, self.size.height - DIALOG_ROWS)
        width = scroll.content_size.width or 76
        body.update(card_table(card, width))
        where = f"report.md, report.json in {card.written}" if card.written else card.error
        foot.update(Text.assemble("↓ lower is better · ", where, "\n", keys))

    def action_close(self) -> None:
        self.dismiss(None)
