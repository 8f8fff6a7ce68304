"""Compare's box for a question of your own: enter asks every model, esc goes back."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class CompareInput(Input):
    BINDINGS = [Binding("escape", "leave", "back to the answers", show=False)]

    def action_leave(self) -> None:
        self.screen.query_one("#compare-grid").focus()
