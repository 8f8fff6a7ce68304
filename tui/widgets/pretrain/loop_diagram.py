"""The training loop as a ring of boxes, each with its live figure for the current step.

Along the top, data flows in (corpus → batch → tokens → embedding → blocks); along the
bottom it comes back (logits → prediction → loss → gradients → optimizer → the weights).
The phase being computed is highlighted; Tab focuses the ring, ←/→ follow the data round
it, Enter (or a click) asks a box what it is doing.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from model.protocol import LoopFigures
from tui.widgets.common.lines import LinesWidget
from tui.widgets.pretrain.loop_words import PHASE_ORDER, Node, loop_nodes, node_figure

DIM = Style(dim=True)
LABEL = Style(bold=True)
FIGURE = Style(bold=False)
SELECTED = Style(reverse=True, bold=True, underline=True)
# Reversed, so the phase being computed still stands out where colour is off (NO_COLOR).
ACTIVE = Style(color="dark_orange3", reverse=True, bold=True)
# The way back, drawn right to left along the bottom: scores, guess, loss, gradients, update.
BACKWARD = ("logits", "predict", "loss", "grad", "optimizer")
SHORT = {
    "corpus": "Corpus",
    "batch": "Batch",
    "tokenize": "Tok",
    "embed": "Emb",
    "logits": "Logits",
    "predict": "Pred",
    "loss": "Loss",
    "grad": "∇",
    "optimizer": "AdamW",
}


# From roomiest to tightest: (short labels?, which boxes keep their figure; None = all).
# The selected box always keeps its figure.
LAYOUTS = (
    (False, None),
    (True, None),
    (True, frozenset({"predict", "loss", "grad", "optimizer"})),
    (True, frozenset({"loss"})),
    (True, frozenset()),
)


class LoopDiagram(LinesWidget, can_focus=True):
    BINDINGS = [
        Binding("left", "move(-1)", "box", show=False),
        Binding("right", "move(1)", "box", show=False),
        Binding("enter", "ask", "explain", show=False),
        Binding("escape", "leave", "leave", show=False),
    ]

    # No repaint of their own: each change redraws only the figures that differ.
    figures: reactive[LoopFigures | None] = reactive(None, repaint=False)
    # The phase computed most recently while stepping phase by phase; "" when a whole step
    # landed at once (nothing to highlight: the figures are simply the latest step's).
    active_phase: reactive[str] = reactive("", repaint=False)
    selected: reactive[int] = reactive(0, repaint=False)
    position: reactive[int] = reactive(0, repaint=False)
    n_layer: reactive[int] = reactive(3, repaint=False)
    vocab: reactive[int] = reactive(0, repaint=False)
    d_model: reactive[int] = reactive(0, repaint=False)
    # The optimizer box's short label: the run's optimizer ("Muon" where the blocks use it).
    optimizer: reactive[str] = reactive("AdamW", repaint=False)

    def watch_figures(self) -> None:
        self.redraw()

    def watch_active_phase(self) -> None:
        self.redraw()

    def watch_selected(self) -> None:
        self.redraw()

    def watch_position(self) -> None:
        self.redraw()

    def watch_n_layer(self) -> None:
        self.redraw()

    def watch_vocab(self) -> None:
        self.redraw()

    def watch_d_model(self) -> None:
        self.redraw()

    def watch_optimizer(self) -> None:
        self.redraw()

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()

    class Asked(Message):
        """A box was chosen for an explanation."""

        def __init__(self, node: Node) -> None:
            super().__init__()
            self.node = node

    class Selected(Message):
        def __init__(self, node: Node) -> None:
            super().__init__()
            self.node = node

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spans: list[tuple[int, int, int, int]] = []  # (line, x0, x1, node index)

    @property
    def nodes(self) -> tuple[Node, ...]:
        return loop_nodes(self.n_layer)

    @property
    def node(self) -> Node:
        return self.nodes[min(self.selected, len(self.nodes) - 1)]

    def action_move(self, delta: int) -> None:
        # → follows the data round the ring (so it runs leftwards along the bottom).
        self.selected = (self.selected + delta) % len(self.nodes)
        self.post_message(self.Selected(self.node))

    def action_leave(self) -> None:
        # Back to the tab that holds the ring: the keys are its own.
        holder = next((n for n in self.ancestors if getattr(n, "can_focus", False)), None)
        self.screen.set_focus(holder)

    def action_ask(self) -> None:
        self.post_message(self.Asked(self.node))

    def on_click(self, event: events.Click) -> None:
        for line, x0, x1, index in self._spans:
            if event.y == line and x0 <= event.x < x1:
                self.selected = index
                self.post_message(self.Selected(self.node))
                self.post_message(self.Asked(self.node))
                return

    def _box(self, index: int, short: bool, figures: frozenset[str] | None) -> Text:
        node = self.nodes[index]
        label = SHORT.get(node.key, node.label) if short else node.label
        if short and node.key == "optimizer":
            label = self.optimizer
        if short and node.key.startswith("block"):
            label = f"B{node.key[5:]}"
        figure = node_figure(node, self.figures, self.position, self.vocab, self.d_model)
        reached = self._reached(node)
        style = LABEL if reached else DIM
        if self.active_phase and node.phase == self.active_phase:
            style = ACTIVE
        if index == self.selected and self.has_focus:
            style = SELECTED
        text = Text(f" {label}", style)
        wanted = figures is None or node.key in figures or index == self.selected
        if figure and reached and wanted:
            # The closing space takes the figure's style: one style change fewer a box.
            text.append(f" {figure} ", FIGURE if style is LABEL else style)
        else:
            text.append(" ", style)
        if index == self.selected and not self.has_focus:
            text.stylize(Style(underline=True))
        return text

    def _reached(self, node: Node) -> bool:
        f = self.figures
        if f is None:
            return False
        return PHASE_ORDER.index(f.phase) >= PHASE_ORDER.index(node.phase)

    def _lines(self, short: bool, figures: frozenset[str] | None) -> tuple[Text, Text, list]:
        nodes = self.nodes
        spans: list[tuple[int, int, int, int]] = []
        top = Text("╭▸", DIM)
        for index, node in enumerate(nodes):
            if node.key in BACKWARD:
                continue
            if len(top) > 2:
                top.append("▸", DIM)
            box = self._box(index, short, figures)
            spans.append((0, len(top), len(top) + len(box), index))
            top.append_text(box)
        top.append("─╮", DIM)
        back = [i for i, n in enumerate(nodes) if n.key in BACKWARD]
        bottom = Text("╰─", DIM)
        pieces = []
        for index in reversed(back):  # optimizer ◂ gradients ◂ loss, reading left to right
            pieces.append((index, self._box(index, short, figures)))
        body = Text()
        for n, (index, box) in enumerate(pieces):
            if n:
                body.append("◂", DIM)
            spans.append((1, 0, len(box), index))  # x filled in below
            body.append_text(box)
        bottom.append_text(body)
        bottom.append("◂" + "─" * max(0, len(top) - len(bottom) - 2), DIM)
        bottom.append("╯", DIM)
        if len(bottom) > len(top):  # the way back is the longer row: square the ring
            top = top[:-1]
            top.append("─" * (len(bottom) - len(top) - 1) + "╮", DIM)
        x = 2
        fixed = []
        for line, x0, x1, index in spans:
            if line == 1:
                width = x1 - x0
                fixed.append((1, x, x + width, index))
                x += width + 1
            else:
                fixed.append((line, x0, x1, index))
        return top, bottom, fixed

    def build(self) -> list[Text]:
        return self.render().split("\n")

    def render(self) -> Text:
        width = self.size.width
        for short, figures in LAYOUTS:
            top, bottom, spans = self._lines(short, figures)
            if len(top) <= width:
                break
        self._spans = spans
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append_text(top)
        text.append("\n")
        text.append_text(bottom)
        return text
