"""Below the Compare tab's answers: at the selected token, what that model could have said
instead: its most likely tokens there with their probabilities, the one drawn, and the
ones the sampler's cuts left out."""

from __future__ import annotations

import textwrap

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from model.protocol import CompareAnswer, TokenChoice
from tui.widgets.common.formatting import bar, fit, token_display
from tui.widgets.common.lines import LinesWidget, set_title
from tui.widgets.compare.compare_grid import drawn_prob, prob_level, prob_style

DIM = Style(dim=True)
BOLD = Style(bold=True)
PICKED = Style(bold=True, reverse=True)
CELL = 24  # one alternative: token, bar, percentage
HINT = "select a token (← → ↑ ↓ tab, or a click) to see what else its model could have said"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class CompareDetail(LinesWidget):
    """The view sets ``shown`` to (model name, the answer, token index, the prompt as the
    model was given it), or None."""

    shown: reactive[tuple[str, CompareAnswer, int, str] | None] = reactive(None, repaint=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Alternatives"
        self.border_subtitle = "w why this token, in full"

    # What the pane says while no token is selected.
    hint: reactive[str] = reactive(HINT, repaint=False)

    def watch_shown(self) -> None:
        self.redraw()

    def watch_hint(self) -> None:
        self.redraw()

    def build(self) -> list[Text]:
        width, height = self.size
        if self.shown is None:
            return [Text(line, DIM) for line in textwrap.wrap(self.hint, max(8, width))]
        name, answer, index, context = self.shown
        choice = answer.choices[index]
        set_title(self, f"Alternatives · {name} · token {index + 1}/{len(answer.choices)}")
        lines = [self._drew(choice, width)]
        if height >= 4:
            lines.append(self._after(context, answer, index, width))
        per_line = max(1, width // CELL)
        rows = max(1, height - len(lines))
        shown = choice.candidates[: per_line * rows]
        if not any(c.token_id == choice.drawn_id for c in shown):
            drawn = [c for c in choice.candidates if c.token_id == choice.drawn_id]
            shown = (*shown[: len(shown) - 1], *drawn)
        cell = width // per_line
        for start in range(0, len(shown), per_line):
            line = Text(no_wrap=True, end="")
            for c in shown[start : start + per_line]:
                picked = c.token_id == choice.drawn_id
                name_w = min(10, max(4, cell - 13))
                label = fit(token_display(c.text) or "∅", name_w)
                line.append(label, PICKED if picked else DIM if c.cut else Style())
                line.append(" ")
                bar_w = max(1, cell - name_w - 8)
                line.append(bar(c.prob, bar_w).ljust(bar_w), prob_style(prob_level(c.prob)))
                line.append(f"{100 * c.prob:5.1f}%", DIM if c.cut else Style())
                line.append(" ")
            lines.append(line)
        return lines

    def _drew(self, choice: TokenChoice, width: int) -> Text:
        p = drawn_prob(choice)
        text = Text(no_wrap=True, end="")
        text.append("drew ", DIM)
        text.append(f'"{token_display(choice.drawn_text, chip=False)}"', PICKED)
        text.append(f" p {p:.2f}" if p >= 0.01 else f" p {p:.0e}", prob_style(prob_level(p)))
        rank = choice.drawn_rank
        text.append(" · ", DIM)
        text.append("the model's favourite" if rank == 1 else f"its {ordinal(rank)} choice")
        drawable = f" · {choice.kept} token{'s' if choice.kept != 1 else ''} could be drawn"
        if cell_len(text.plain) + len(drawable) <= width:
            text.append(drawable, DIM)
        return text

    def _after(self, context: str, answer: CompareAnswer, index: int, width: int) -> Text:
        before = "".join(token_display(c.drawn_text, chip=False) for c in answer.choices[:index])
        said = " ".join((context + " → " + before).split())
        room = max(1, width - 7)
        if cell_len(said) > room:
            said = "…" + said[-(room - 1) :]
        return Text.assemble(("after ", DIM), (said, BOLD))
