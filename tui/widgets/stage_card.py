"""A stage's card: input data · objective · produces · in a sentence."""

from __future__ import annotations

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.stages import BY_KEY, StageCard

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


class StageCardView(Widget):
    """The full card: input, objective, what it produces, and the stage in a sentence."""

    DEFAULT_CSS = """
    StageCardView { height: auto; padding: 1 2; }
    """

    stage: reactive[str] = reactive("pretrain", layout=True)
    # From the engine: what the running scenario holds for this stage, or what it lacks.
    scenario_data: reactive[str] = reactive("", layout=True)

    def __init__(self, stage: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(StageCardView.stage, stage)

    def render(self) -> Table:
        card = BY_KEY[self.stage]
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(style=BOLD, no_wrap=True)
        table.add_column(ratio=1)
        table.add_row(Text(f"Stage {card.number} · {card.title}", "bold underline"), "")
        table.add_row("", "")
        table.add_row("Input", card.input)
        table.add_row("Objective", card.objective)
        table.add_row("Produces", card.produces)
        table.add_row("In a sentence", Text(card.sentence, "italic"))
        return table
