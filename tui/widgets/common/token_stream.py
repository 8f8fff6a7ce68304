"""The batch as the model sees it: token chips with their ids, coloured by the model's surprise.

Chip 0 is the first token of the window; chip j (j ≥ 1) is the token that position j-1 had to
predict, coloured by that prediction's loss. The cursor selects a position i; its target,
chip i+1, is highlighted, and the prediction pane explains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from model.protocol import Position
from tui.widgets.common.formatting import LOSS_LEVELS, fit, level_style, loss_level, token_display
from tui.widgets.common.lines import LinesWidget, set_title

SEPARATOR = "│"
BARS = "▁▂▃▄▅▆▇█"  # a chip's loss, low to high, in the mark that ends it
SELECTED = Style(reverse=True, bold=True)
DIM = Style(dim=True)


@dataclass(frozen=True)
class Chip:
    text: str
    token_id: int
    # The prediction whose target this token was (None for the first token of the window).
    position: Position | None


def chips_for(row: tuple[Position, ...]) -> list[Chip]:
    if not row:
        return []
    chips = [Chip(token_display(row[0].text), row[0].token_id, None)]
    chips += [Chip(token_display(p.target_text), p.target_id, p) for p in row]
    return chips


def layout(chips: list[Chip], width: int) -> list[list[tuple[int, int, int]]]:
    """Chips wrapped into lines of (chip index, x, width); each chip is followed by a one-cell
    separator, and is as wide as the wider of its text and its id."""
    width = max(2, width)
    lines: list[list[tuple[int, int, int]]] = []
    line: list[tuple[int, int, int]] = []
    x = 0
    for index, chip in enumerate(chips):
        w = min(max(cell_len(chip.text), len(str(chip.token_id)), 1), width - 1)
        if line and x + w + 1 > width:
            lines.append(line)
            line, x = [], 0
        line.append((index, x, w))
        x += w + 1
    if line:
        lines.append(line)
    return lines


class TokenStream(LinesWidget):
    """Token chips of the display row; ←/→ or a click moves the cursor."""

    DEFAULT_CSS = """
    TokenStream { height: 1fr; }
    """

    row: reactive[tuple[Position, ...]] = reactive((), always_update=True, repaint=False)
    cursor: reactive[int] = reactive(-1, repaint=False)
    # Losses at or above this show fully red: a uniform guess over the vocabulary.
    max_loss: reactive[float] = reactive(6.0, repaint=False)

    class CursorMoved(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._top = 0
        self._drawn_for: tuple[int, int, tuple[Position, ...]] | None = None
        self._lines: list[list[tuple[int, int, int]]] = []
        self.border_title = "Batch: text → token ids"
        self.border_subtitle = "loss: ▁ green low … █ red high · ←→"

    def validate_cursor(self, cursor: int) -> int:
        if not self.row:
            return cursor
        return max(0, min(len(self.row) - 1, cursor))

    def watch_row(self, row: tuple[Position, ...]) -> None:
        if row and not 0 <= self.cursor < len(row):
            self.cursor = len(row) // 2
        self._title()
        self.redraw()

    def watch_cursor(self, cursor: int) -> None:
        self._title()
        self.redraw()
        self.post_message(self.CursorMoved(cursor))

    def watch_max_loss(self) -> None:
        self.redraw()

    def _title(self) -> None:
        if self.row:
            set_title(self, f"Batch · {len(self.row) + 1} tokens → ids · pos {self.cursor}")

    def move(self, delta: int) -> None:
        if self.row:
            self.cursor = self.cursor + delta

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._lines:
            return
        line_index = self._top + offset.y // 2
        if not 0 <= line_index < len(self._lines):
            return
        for chip_index, x, w in self._lines[line_index]:
            if x <= offset.x <= x + w and chip_index >= 1:
                self.cursor = chip_index - 1
                return

    def build(self) -> list[Strip]:
        width, height = self.size
        base = self.rich_style
        if not self.row:
            hint = "space trains, n takes one step"
            return [Strip([Segment(hint[:width], base + DIM)])]
        if width < 2 or height < 1:
            return []
        return self._chip_strips(width, height, base)

    def _chip_strips(self, width: int, height: int, base: Style) -> list[Strip]:
        chips = chips_for(self.row)
        lines = self._lines = layout(chips, width)
        selected = self.cursor + 1
        cursor_line = next(
            (n for n, line in enumerate(lines) if any(c == selected for c, _, _ in line)), 0
        )
        visible = max(1, height // 2)
        drawn = self._drawn_for
        if drawn is None or drawn[:2] != (width, height) or drawn[2] is not self.row:
            # A new size or a new batch scrolls from the top again: what the pane shows
            # then depends on its size, the batch and the cursor, not on the sizes it
            # passed through as the screen settled nor on which earlier batches were drawn
            # (the redraw is throttled while playing). Only moving the cursor scrolls as
            # little as it can.
            self._drawn_for = (width, height, self.row)
            self._top = 0
        if cursor_line < self._top:
            self._top = cursor_line
        elif cursor_line >= self._top + visible:
            self._top = cursor_line - visible + 1
        self._top = max(0, min(self._top, len(lines) - visible))
        max_loss = self.max_loss if self.max_loss > 0 else math.log(512)
        dim, plain_sel = base + DIM, base + SELECTED
        strips = []
        for line in lines[self._top : self._top + visible]:
            texts, ids = [], []
            for index, _, w in line:
                p = chips[index].position
                mark = SEPARATOR
                if p is None or not p.counts_in_loss:
                    style = dim
                else:
                    level = loss_level(p.loss, max_loss)
                    style = base + level_style(level)
                    # The loss as a bar too: it survives NO_COLOR and 16-colour terminals.
                    mark = BARS[min(len(BARS) - 1, level * len(BARS) // (LOSS_LEVELS + 1))]
                if index == selected:
                    style = style + SELECTED
                # The boundary mark shares the chip's style: one style change per chip.
                texts.append(Segment(fit(chips[index].text, w) + mark, style))
                ident = str(chips[index].token_id).ljust(w)[:w]
                if index == selected:
                    ids += [Segment(ident, plain_sel), Segment(" ", dim)]
                else:
                    ids.append(Segment(ident + " ", dim))
            strips.append(Strip(texts).simplify().adjust_cell_length(width, base))
            if height > 1:
                strips.append(Strip(ids).simplify().adjust_cell_length(width, base))
        return strips
