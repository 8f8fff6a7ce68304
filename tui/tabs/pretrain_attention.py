"""Tab 1's attention: the head shown, the step a previous-token head was first seen, and the
panes that show them. A plain object of the pretraining tab.

On a terminal of 34 rows or more the pane sits at the bottom, beside the samples; below
that there is no row to spare, so the pane folds into the Next-token pane's bottom line
and a or A opens it as a view over the screen, which stays open while training runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model import protocol as p
from model.head_roles import HeadAt, formed
from tui.widgets.common.lines import set_title
from tui.widgets.pretrain.attention_words import where

if TYPE_CHECKING:
    from tui.tabs.pretrain import PretrainTab
    from tui.widgets.pretrain.attention_pane import AttentionPane


class AttentionWatch:
    def __init__(self, tab: PretrainTab) -> None:
        self.tab = tab
        self.figures: p.LoopFigures | None = None  # the latest with attention in them
        self.selected = 0
        self.formed: HeadAt | None = None
        self.position = 0

    def ready(self) -> None:
        """A new run: its heads start again from nothing."""
        self.figures = None
        self.formed = None

    def take(self, figures: p.LoopFigures | None) -> None:
        """A shown step's figures (or a phase's, once it has run the forward pass)."""
        if figures is None or not figures.head_attention:
            return
        self.figures = figures
        was = self.formed
        self.formed = formed(was, figures)
        if was is None and self.formed is not None and not self.pane_shown():
            self.tab.notify(
                f"block {self.formed.block + 1} head {self.formed.head + 1} became a "
                f"previous-token head at step {self.formed.step}: a shows where it looks",
                title="A previous-token head formed",
                timeout=12,
            )

    def panes(self) -> list[AttentionPane]:
        from tui.screens.attention import AttentionScreen
        from tui.widgets.pretrain.attention_pane import AttentionPane

        found = list(self.tab.query(AttentionPane)) if self.tab.panes_ready else []
        for screen in self.tab.app.screen_stack:
            if isinstance(screen, AttentionScreen):  # not composed yet: none to find
                found += list(screen.query(AttentionPane))
        return found

    def pane_shown(self) -> bool:
        from tui.screens.attention import AttentionScreen

        tall = self.tab.app.has_class("-tall")
        return tall or any(isinstance(s, AttentionScreen) for s in self.tab.app.screen_stack)

    def draw(self) -> None:
        for pane in self.panes():
            if pane.figures is not self.figures:
                pane.figures = self.figures
            pane.selected = self.selected
            pane.position = self.position
            pane.formed = self.formed
        if self.tab.panes_ready:  # set_title: assigning even the same text repaints the pane
            set_title(self.tab.query_one("#prediction"), subtitle=self.folded())

    def folded(self) -> str:
        """The pane in the Next-token pane's bottom line, where there is no room for it."""
        if self.tab.app.has_class("-tall"):
            return ""
        if self.formed is not None:
            return f"a: B{self.formed.block + 1} H{self.formed.head + 1} previous-token head"
        block, head, heads = where(self.figures, self.selected)
        if heads == 0:
            return "a: attention"
        shares = self.figures.head_shares[block][head]
        return f"a: attention B{block + 1} H{head + 1} prev {shares.previous:.0%}"

    def cursor(self, position: int) -> None:
        self.position = position
        self.draw()

    def step(self, delta: int) -> None:
        """a / A: the next or previous head, through every block. Where the pane is folded,
        the first press opens it at the head shown."""
        from tui.screens.attention import AttentionScreen

        if not self.pane_shown():
            self.tab.app.push_screen(AttentionScreen(self.tab))
            self.draw()
            return
        _, _, heads = where(self.figures, 0)
        total = heads * len(self.figures.head_attention) if self.figures else 0
        if total:
            self.selected = (self.selected + delta) % total
        self.draw()
