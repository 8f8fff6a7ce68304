"""Where each head of one block looked from the token under the cursor, with each head's
measured role, and in words whether a previous-token head has formed (attention_words)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive

from model.head_roles import HeadAt
from model.protocol import LoopFigures
from tui.widgets.common.formatting import token_display
from tui.widgets.common.lines import LinesWidget, set_title
from tui.widgets.pretrain.attention_words import pane_lines, where

SUBTITLE = "a A head · ←→ token"


class AttentionPane(LinesWidget):
    # No repaint of their own: each change redraws only the cells that differ.
    figures: reactive[LoopFigures | None] = reactive(None, repaint=False)
    # The head shown, counted through every block (block 1's heads, then block 2's, …).
    selected: reactive[int] = reactive(0, repaint=False)
    position: reactive[int] = reactive(0, repaint=False)
    formed: reactive[HeadAt | None] = reactive(None, repaint=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Attention"
        self.border_subtitle = SUBTITLE

    def watch_figures(self) -> None:
        self._changed()

    def watch_selected(self) -> None:
        self._changed()

    def watch_position(self) -> None:
        self._changed()

    def watch_formed(self) -> None:
        self._changed()

    def on_resize(self) -> None:
        # The title fits the width (LinesWidget's own handler redraws the lines).
        set_title(self, self.title())

    def _changed(self) -> None:
        set_title(self, self.title())
        self.redraw()

    def title(self) -> str:
        """Which head, from which token: as much of it as the pane's width shows."""
        f = self.figures
        block, head, heads = where(f, self.selected)
        if f is None or heads == 0:
            return "Attention"
        T = len(f.row_texts)
        pos = max(0, min(self.position, T - 1))
        token = (token_display(f.row_texts[pos]).strip() or "·")[:12] if T else "?"
        n = len(f.head_attention)
        titles = (
            f"Attention · block {block + 1}/{n} head {head + 1}/{heads} · from “{token}” @ {pos}",
            f"Attention · block {block + 1} head {head + 1} · from “{token}”",
            f"Attention B{block + 1} H{head + 1} from “{token}”",
        )
        room = self.size.width - 2
        return next((t for t in titles if cell_len(t) <= room), titles[-1])

    def build(self) -> list[Text]:
        width, height = self.size
        return pane_lines(self.figures, self.selected, self.position, self.formed, width, height)
