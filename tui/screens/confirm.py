"""Ask before throwing away the stage's training."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmReset(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "reset"),
        Binding("n,escape", "answer(False)", "keep training"),
    ]

    def __init__(self, stage_title: str, step: int) -> None:
        super().__init__()
        self.stage_title = stage_title
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Reset stage {self.stage_title}?", classes="dialog-title")
            steps = "1 step" if self.step == 1 else f"{self.step} steps"
            yield Static(
                f"The model forgets its {steps} of training: fresh random weights, "
                "step 0, empty loss chart. Saved checkpoints are kept."
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("y  reset", variant="error", id="yes")
                yield Button("n  keep training", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
