"""The Compare tab's answers: one column per model, one block of lines per prompt, each token
coloured by the probability its model gave it (green sure … red unsure) and underlined where
the sampler did not take the model's favourite. Without colour (NO_COLOR) a line of bars
▁…█ under each line of text says the probability instead.

A token is selected with the keys (← → a token, ↑ ↓ a prompt, tab a model) or a click; the
view shows that model's alternatives there.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from model.protocol import COMPARE_STAGES, CompareAnswer, CompareColumn, TokenChoice
from tui.runs import RUNS, compare_name
from tui.widgets.common.formatting import fit, loss_rgb, token_display
from tui.widgets.common.lines import LinesWidget

BARS = "▁▂▃▄▅▆▇█"  # a token's probability, low to high, where colour is off
LEVELS = 10
DIM = Style(dim=True)
BOLD = Style(bold=True)
SELECTED = Style(reverse=True, bold=True)
STOPS = ("end", "turn", "eot")  # answers whose last token is the one that stopped them


@dataclass(frozen=True)
class Selection:
    row: int = 0
    col: int = 0
    token: int = 0


def drawn_prob(choice: TokenChoice) -> float:
    """The probability the model gave the token that was drawn (before the sampler)."""
    return next((c.prob for c in choice.candidates if c.token_id == choice.drawn_id), 0.0)


@lru_cache(maxsize=LEVELS + 1)
def prob_style(level: int) -> Style:
    return Style(color=Color.from_rgb(*loss_rgb(1 - level / LEVELS, 1.0)))


def prob_level(prob: float) -> int:
    return max(0, min(LEVELS, round(prob * LEVELS)))


def _cut(text: str, cells: int) -> tuple[str, str]:
    """The longest start of ``text`` that fits in ``cells``, and the rest."""
    out = ""
    for n, ch in enumerate(text):
        if cell_len(out + ch) > cells:
            return out, text[n:]
        out += ch
    return out, ""


def _words(texts: list[str]) -> list[list[int]]:
    """Token indices grouped into words: a word starts at a token that starts with a space
    or follows a line break."""
    groups: list[list[int]] = []
    for i, text in enumerate(texts):
        if not groups or text.startswith(" ") or texts[i - 1].endswith("↵"):
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def wrap_tokens(texts: list[str], width: int) -> list[list[tuple[int, str]]]:
    """Token texts wrapped into lines of at most ``width`` cells, between words where a
    word fits a line, else between tokens, else inside one: (token index, text drawn)."""
    width = max(1, width)
    lines: list[list[tuple[int, str]]] = [[]]
    x = 0
    for group in _words(texts):
        if x and x + sum(cell_len(texts[i]) for i in group) > width:
            if not texts[group[0]].strip() and x + cell_len(texts[group[0]]) <= width:
                # A token of spaces before the word ends the line: no line starts with it.
                lines[-1].append((group[0], texts[group[0]]))
                group = group[1:]
            lines.append([])
            x = 0
        for i in group:
            text = texts[i]
            if x == 0 and text.startswith(" ") and text.strip():
                text = text[1:]  # no line starts with the space between two words
            while cell_len(text) > width - x:
                if x and cell_len(text) <= width:
                    lines.append([])
                    x = 0
                    continue
                head, text = _cut(text, width - x)
                lines[-1].append((i, head))
                lines.append([])
                x = 0
            if text:
                lines[-1].append((i, text))
                x += cell_len(text)
            if text.endswith("↵"):
                lines.append([])
                x = 0
    return [line for line in lines if line] or [[]]


# One drawn line of a cell: (text, style, token index or -1).
Piece = tuple[str, Style, int]


def answer_lines(answer: CompareAnswer, width: int, selected: int, bars: bool) -> list[list[Piece]]:
    """An answer's tokens wrapped to ``width``, styled by probability; the token at
    ``selected`` highlighted (-1: none). With ``bars``, each line has a line of bars under it."""
    choices = answer.choices
    texts = [token_display(c.drawn_text, chip=False) or "∅" for c in choices]
    stop_at = len(choices) - 1 if answer.stop in STOPS else -1
    out: list[list[Piece]] = []
    for line in wrap_tokens(texts, width):
        pieces: list[Piece] = []
        under: list[Piece] = []
        for i, text in line:
            choice = choices[i]
            level = prob_level(drawn_prob(choice))
            style = DIM if i == stop_at else prob_style(level)
            if choice.drawn_rank > 1:
                style += Style(underline=True)  # the sampler took a long shot here
            if i == selected:
                style += SELECTED
            pieces.append((text, style, i))
            under.append((BARS[level * (len(BARS) - 1) // LEVELS] * cell_len(text), DIM, i))
        out.append(pieces)
        if bars:
            out.append(under)
    if not answer.stop and choices:  # the token budget ended it, not the model: say so
        text_line = out[-2] if bars else out[-1]
        if sum(cell_len(t) for t, _, _ in text_line) < width:
            text_line.append(("…", DIM, -1))
        else:
            out.append([("…", DIM, -1)])
    return out


def _plain(text: str, width: int, style: Style = DIM) -> list[list[Piece]]:
    return [[(line, style, -1)] for line in textwrap.wrap(text, max(4, width))] or [[]]


class CompareGrid(LinesWidget, can_focus=True):
    """Answers side by side. The view sets ``prompts``, ``columns`` (None: not answered
    yet), ``pending`` (being answered again) and ``hints`` (per stage: a few words and a
    sentence on how to get a missing model). Keys and clicks choose ``wanted``;
    ``selection`` is the nearest token to it that exists, kept so as columns come in."""

    BINDINGS = [
        Binding("left", "move(0, 0, -1)", "token", show=False),
        Binding("right", "move(0, 0, 1)", "token", show=False),
        Binding("up", "move(-1, 0, 0)", "prompt", show=False),
        Binding("down", "move(1, 0, 0)", "prompt", show=False),
        Binding("tab", "move(0, 1, 0)", "model", show=False),
        Binding("shift+tab", "move(0, -1, 0)", "model", show=False),
        Binding("home", "move(0, 0, -9999)", "first", show=False),
        Binding("end", "move(0, 0, 9999)", "last", show=False),
    ]

    prompts: reactive[tuple[tuple[str, str], ...]] = reactive((), repaint=False)
    columns: reactive[tuple[CompareColumn | None, ...]] = reactive((), repaint=False)
    hints: reactive[dict[str, tuple[str, str]]] = reactive(dict, repaint=False)
    selection: reactive[Selection] = reactive(Selection(), repaint=False)
    # Columns being answered again: their heads say "computing…" over the last answers.
    pending: reactive[frozenset[int]] = reactive(frozenset, repaint=False)

    class Selected(Message):
        def __init__(self, selection: Selection) -> None:
            super().__init__()
            self.selection = selection

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._top = 0
        self.wanted = Selection()  # what the user chose; ``selection`` is the nearest that exists
        self._follow = True  # scroll to the selection at the next build
        self._spans: list[list[tuple[int, int, Selection]]] = []

    def watch_prompts(self) -> None:
        self._changed()

    def watch_columns(self) -> None:
        self._changed()

    def watch_hints(self) -> None:
        self.redraw()

    def watch_pending(self) -> None:
        self.redraw()

    def watch_selection(self, selection: Selection) -> None:
        self._follow = True
        self.redraw()
        self.post_message(self.Selected(selection))

    def _changed(self) -> None:
        # From the one last chosen: a column answered later takes the selection back.
        self.selection = self.valid(self.wanted)
        self.redraw()

    def select(self, selection: Selection) -> None:
        """Select a token as the user chose it (by key or click, or the view)."""
        self.wanted = selection
        self.selection = self.valid(selection)

    # --- selection ------------------------------------------------------------------------

    def answer(self, row: int, col: int) -> CompareAnswer | None:
        column = self.columns[col] if 0 <= col < len(self.columns) else None
        if column is None or not 0 <= row < len(column.answers):
            return None
        return column.answers[row]

    def _answered(self) -> list[int]:
        return [c for c in range(len(self.columns)) if self.answer(0, c) is not None]

    def valid(self, s: Selection) -> Selection:
        """The nearest selection on a token that exists (the column as it is if none has)."""
        row = max(0, min(len(self.prompts) - 1, s.row)) if self.prompts else 0
        answered = self._answered()
        col = s.col
        if answered and col not in answered:
            col = min(answered, key=lambda c: (abs(c - s.col), c))
        answer = self.answer(row, col)
        last = len(answer.choices) - 1 if answer is not None else 0
        return Selection(row, col, max(0, min(last, s.token)))

    def action_move(self, rows: int, cols: int, tokens: int) -> None:
        s = self.selection
        col = s.col
        if cols:
            answered = self._answered() or [col]
            now = answered.index(col) if col in answered else 0
            col = answered[(now + cols) % len(answered)]
        self.select(Selection(s.row + rows, col, s.token + tokens))

    # --- mouse ----------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self._top + offset.y - 2
        if 0 <= line < len(self._spans):
            for x0, x1, where in self._spans[line]:
                if x0 <= offset.x < x1:
                    self.focus()
                    self.select(where)
                    return

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._scroll(2)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._scroll(-2)

    def on_resize(self) -> None:
        super().on_resize()
        # Lines wrap anew: from the top again, as far as the selection lets it show.
        self._top = 0
        self._follow = True

    def _scroll(self, lines: int) -> None:
        self._top = max(0, self._top + lines)
        self._follow = False
        self.redraw()

    # --- drawing --------------------------------------------------------------------------

    def column_width(self, width: int) -> int:
        n = len(COMPARE_STAGES)
        return max(6, (width - (n - 1)) // n)

    def build(self) -> list[Strip]:
        width, height = self.size
        base = self.rich_style
        if not self.prompts and (self.pending or not self.columns):
            hint = "asking every model… (the answers are worked out by the trainer process)"
            return [Strip([Segment(line, base + DIM)]) for line in textwrap.wrap(hint, width)]
        w = self.column_width(width)
        body, spans, where = self._body(w) if self.prompts else self._no_prompts(w)
        self._spans = spans
        visible = max(1, height - 2)
        if self._follow:
            start, line = where
            if line - self._top >= visible or line < self._top:
                self._top = start if line - start < visible else line - visible + 1
            self._follow = False
        self._top = max(0, min(self._top, len(body) - visible))
        rows = self._header(w) + body[self._top : self._top + visible]
        return [self._strip(pieces, w, width, base) for pieces in rows]

    def _strip(self, cells: list[list[Piece]], w: int, width: int, base: Style) -> Strip:
        segments = []
        for n, pieces in enumerate(cells):
            if n:
                segments.append(Segment(" ", base))
            used = 0
            for text, style, _ in pieces:
                segments.append(Segment(text, base + style))
                used += cell_len(text)
            if n < len(cells) - 1 and used < w:
                segments.append(Segment(" " * (w - used), base))
        return Strip(segments).simplify().crop(0, width).adjust_cell_length(width, base)

    def _header(self, w: int) -> list[list[list[Piece]]]:
        names, states = [], []
        for col, stage in enumerate(COMPARE_STAGES):
            column = self.columns[col] if col < len(self.columns) else None
            mark = "▸" if col == self.selection.col and self._answered() else " "
            names.append([(fit(mark + compare_name(stage), w), BOLD, -1)])
            state = "computing…" if col in self.pending else self._state(stage, column)
            states.append([(fit(" " + state, w), DIM, -1)])
        return [names, states]

    def _state(self, stage: str, column: CompareColumn | None) -> str:
        if column is None:
            return "computing…"
        if column.missing:
            return self.hints.get(stage, ("no model", ""))[0]
        where = "cache" if column.source == "cache" else f"tab {RUNS[stage].tab}"
        return f"{where} · {column.step}/{column.total_steps}"

    def _body(self, w: int):
        """Every block's lines (one list of pieces per column), the click spans of each
        line, and (first line of the selected block, line of the selected token)."""
        lines: list[list[list[Piece]]] = []
        spans: list[list[tuple[int, int, Selection]]] = []
        s = self.selection
        where: tuple[int, int] | None = None
        full = len(COMPARE_STAGES) * (w + 1) - 1
        for row, (name, prompt) in enumerate(self.prompts):
            start = len(lines)
            mark = "▸ " if row == s.row else "  "
            style = BOLD if row == s.row else BOLD + DIM
            lines.append([[(fit(f"{mark}{name}: {prompt}", full), style, -1)]])
            spans.append([])
            cells = [self._cell(row, col, w) for col in range(len(COMPARE_STAGES))]
            for n in range(max(len(c) for c in cells)):
                line = [c[n] if n < len(c) else [] for c in cells]
                lines.append(line)
                line_spans = []
                for col, pieces in enumerate(line):
                    x = col * (w + 1)
                    for text, _, token in pieces:
                        if token >= 0:
                            line_spans.append((x, x + cell_len(text), Selection(row, col, token)))
                            if (row, col, token) == (s.row, s.col, s.token):
                                where = (start, len(lines) - 1)
                        x += cell_len(text)
                spans.append(line_spans)
            if row == s.row and where is None:
                where = (start, start)
        return lines, spans, where or (0, 0)

    def _no_prompts(self, w: int):
        """No rows to answer: say so, and what the missing models' columns say."""
        full = len(COMPARE_STAGES) * (w + 1) - 1
        hint = "this scenario has no probes (probes.jsonl): / asks your own question"
        lines: list[list[list[Piece]]] = [[line] for line in _plain(hint, full)]
        missing = [c is not None and bool(c.missing) for c in self.columns]
        cells = [self._cell(0, col, w) if missing[col] else [] for col in range(len(missing))]
        lines += [[c[n] if n < len(c) else [] for c in cells]
                  for n in range(max(len(c) for c in cells))]  # fmt: skip
        return lines, [[] for _ in lines], (0, 0)

    def _cell(self, row: int, col: int, w: int) -> list[list[Piece]]:
        stage = COMPARE_STAGES[col]
        column = self.columns[col] if col < len(self.columns) else None
        if column is None:
            return _plain("computing…", w)
        if column.missing:
            _, sentence = self.hints.get(stage, ("no model", ""))
            return _plain(sentence if row == 0 else "·", w)
        answer = self.answer(row, col)
        if answer is None:
            return _plain("·", w)
        s = self.selection
        selected = s.token if (s.row, s.col) == (row, col) else -1
        bars = bool(getattr(self.app, "no_color", False))
        return answer_lines(answer, w, selected, bars)
