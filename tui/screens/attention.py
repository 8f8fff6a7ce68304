"""The attention pane over the screen, for terminals too short to keep it at the bottom
(under 34 rows). It stays open while training runs: tab 1 hands it each shown step."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.pretrain.attention_pane import AttentionPane


class AttentionScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "close"),
        Binding("a", "head(1)", "next head"),
        Binding("A,shift+a", "head(-1)", "previous head"),
        Binding("left", "cursor(-1)", "token", show=False),
        Binding("right", "cursor(1)", "token", show=False),
        Binding("space", "play_pause", "play"),
        Binding("n", "step", "step"),
    ]

    def __init__(self, tab: Any) -> None:
        super().__init__()
        self.tab = tab  # tab 1, whose keys these are: the view stays open as it trains

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -attention"):
            yield AttentionPane(id="attention-view")
            yield Static(
                "a A head · ←→ token · space play · n step · esc close", classes="dialog-keys"
            )

    @property
    def pane(self) -> AttentionPane:
        return self.query_one(AttentionPane)

    def on_mount(self) -> None:
        self.tab.attention.draw()

    def action_head(self, delta: int) -> None:
        self.tab.attention.step(delta)

    def action_cursor(self, delta: int) -> None:
        self.tab.action_cursor(delta)

    def action_play_pause(self) -> None:
        self.tab.action_play_pause()

    def action_step(self) -> None:
        self.tab.action_step()
