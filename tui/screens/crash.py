"""The trainer stopped: say why in one line, and offer a restart."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class TrainerStopped(ModalScreen[str]):
    """Dismissed with "restart" or "quit"."""

    BINDINGS = [
        Binding("r", "choose('restart')", "restart"),
        Binding("q,escape", "choose('quit')", "quit"),
    ]

    def __init__(self, reason: str, *, at_start: bool, can_restart: bool = True) -> None:
        super().__init__()
        self.reason = reason
        self.at_start = at_start
        self.can_restart = can_restart

    def compose(self) -> ComposeResult:
        title = "The trainer could not start" if self.at_start else "The trainer stopped"
        with Vertical(classes="dialog -error"):
            yield Static(title, classes="dialog-title")
            yield Static(self.reason, id="reason")
            keys = "r restart · q quit" if self.can_restart else "q quit"
            yield Static(keys, classes="dialog-keys")

    def action_choose(self, choice: str) -> None:
        if choice == "restart" and not self.can_restart:
            return
        self.dismiss(choice)
