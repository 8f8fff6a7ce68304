"""What the model guessed at the selected position: its top candidates for the next token,
the token that really came next, its probability and its loss (−log p)."""

from __future__ import annotations

import math
import textwrap

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from model.protocol import Position
from tui.widgets.common.formatting import bar, fit, level_style, loss_level, token_display
from tui.widgets.common.lines import LinesWidget, set_title

DIM = Style(dim=True)
BOLD = Style(bold=True)
ACTUAL = Style(bold=True, underline=True)


def _crop_left(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in reversed(text):
        if cell_len(out) + cell_len(ch) > width - 1:
            break
        out = ch + out
    return "…" + out


class PredictionPane(LinesWidget):
    """The next-token prediction at the cursor."""

    row: reactive[tuple[Position, ...]] = reactive((), always_update=True, repaint=False)
    cursor: reactive[int] = reactive(-1, repaint=False)
    max_loss: reactive[float] = reactive(6.0, repaint=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Next token"

    def watch_cursor(self, cursor: int) -> None:
        set_title(self, "Next token" + (f" @ pos {cursor}" if cursor >= 0 else ""))
        self.redraw()

    def watch_row(self) -> None:
        self.redraw()

    def watch_max_loss(self) -> None:
        self.redraw()

    @property
    def position(self) -> Position | None:
        return self.row[self.cursor] if 0 <= self.cursor < len(self.row) else None

    def build(self) -> list[Text]:
        width, height = self.size
        p = self.position
        if p is None:
            # Wrapped to the pane: at 80 columns a fixed two-line split was cut off.
            hint = "the model's guesses for the selected token appear after the first step"
            return [Text(line, DIM) for line in textwrap.wrap(hint, max(8, width))]
        if width < 8 or height < 1:
            return []
        lines: list[Text] = []
        found = any(a.token_id == p.target_id for a in p.top)
        candidates = len(p.top) + (0 if found else 1)
        # Spare rows go to the context: more of what the model saw before its guess.
        context_rows = max(1, min(4, height - candidates - 1))
        context = "".join(token_display(q.text, chip=False) for q in self.row[: self.cursor + 1])
        head = "after "
        tail = _crop_left(context, max(1, context_rows * width - len(head)))
        chunks = [head + tail]
        while cell_len(chunks[-1]) > width:
            chunks[-1:] = [chunks[-1][:width], chunks[-1][width:]]
        for n, chunk in enumerate(chunks):
            if n == 0:
                lines.append(Text.assemble((head, DIM), (chunk[len(head) :], BOLD)))
            else:
                lines.append(Text(chunk, BOLD))
        room = max(0, height - len(lines) - 1)
        shown = p.top[: max(0, room - (0 if found else 1))]
        if not found and room:
            shown = (*shown, None)
        name_w = min(
            12,
            max(
                [cell_len(token_display(p.target_text))]
                + [cell_len(token_display(a.text)) for a in p.top]
            ),
        )
        bar_w = max(1, width - name_w - 1 - 5 - 9)
        for alt in shown:
            if alt is None:
                text, prob, is_actual = p.target_text, p.target_prob, True
            else:
                text, prob = alt.text, alt.prob
                is_actual = alt.token_id == p.target_id
            line = Text(no_wrap=True, end="")
            line.append(fit(token_display(text), name_w), ACTUAL if is_actual else Style())
            line.append(" ")
            line.append(bar(prob, bar_w).ljust(bar_w), "bold" if is_actual else DIM)
            line.append(f" {prob:.2f}")
            if is_actual:
                line.append(" ← actual", BOLD)
            lines.append(line)
        summary = Text(no_wrap=True, end="")
        summary.append("p(actual) ", DIM)
        summary.append(f"{p.target_prob:.3f}" if p.target_prob >= 0.001 else f"{p.target_prob:.0e}")
        summary.append(" · loss ", DIM)
        loss_text = f" {p.loss:.2f} " if math.isfinite(p.loss) else " ∞ "
        # The colour of the token's chip: quantised (formatting.LOSS_LEVELS), not one per loss.
        summary.append(loss_text, level_style(loss_level(p.loss, self.max_loss)) + BOLD)
        if len(summary) + 9 <= width:
            summary.append(" = −log p", DIM)
        if not p.counts_in_loss:
            summary.append(" (not in loss)", DIM)
        lines.append(summary)
        return lines
