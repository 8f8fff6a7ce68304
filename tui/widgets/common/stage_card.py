"""A stage's card: input data · objective · produces · in a sentence."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.stage_cards import StageCard

DIM = Style(dim=True)
BOLD = Style(bold=True)


def card_lines(card: StageCard) -> list[Text]:
    """The card on one line, longest first: the widest that fits is shown."""
    objective = card.short_objective or card.objective
    source = card.input.split(",")[0]
    full = Text.assemble(
        (f"{card.title} · ", BOLD),
        ("input: ", DIM),
        source,
        (" · objective: ", DIM),
        objective,
        (" · produces: ", DIM),
        card.produces,
    )
    mid = Text.assemble(
        (f"{card.title}: ", BOLD), source, (" → ", DIM), objective, (" → ", DIM), card.produces
    )
    short = Text.assemble(
        (f"{card.title}: ", BOLD),
        source,
        (" → ", DIM),
        objective,
        (" → ", DIM),
        " ".join(card.produces.split()[:3]),
    )
    return [full, mid, short]


class CardLine(Widget):
    """The card of the live stage, on one line above its panes."""

    DEFAULT_CSS = """
    CardLine { height: 1; }
    """

    def __init__(self, card: StageCard, **kwargs) -> None:
        super().__init__(**kwargs)
        self.card = card

    def render(self) -> Text:
        lines = card_lines(self.card)
        width = self.size.width
        line = next((t for t in lines if t.cell_len <= width), lines[-1]).copy()
        line.no_wrap = True
        line.overflow = "ellipsis"
        return line
