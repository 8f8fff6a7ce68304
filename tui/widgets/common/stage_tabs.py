"""The tabs: one line of labels, the active one highlighted; click or press 1 2 3 (the
stages) or 4 (Compare, every model side by side).

A plain line instead of Textual's TabbedContent: the same job for a third of its start-up
time, and no focusable tab bar to take ← → from the token cursor.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.stage_cards import CARDS

# (number, label) of every tab: the stages', then Compare's.
TABS = (*((card.number, card.tab_label) for card in CARDS), (4, "4 Compare"))


class StageTabs(Widget):
    DEFAULT_CSS = """
    StageTabs { height: 1; }
    StageTabs > .stage-tabs--active {
        background: $primary; color: $text; text-style: bold reverse;
    }
    StageTabs > .stage-tabs--inactive { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"stage-tabs--active", "stage-tabs--inactive"}

    active: reactive[int] = reactive(1)

    class Selected(Message):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def labels(self) -> list[tuple[int, int, int]]:
        """(stage number, x, width) of each label."""
        out, x = [], 1
        for number, label in TABS:
            width = len(label) + 2
            out.append((number, x, width))
            x += width + 1
        return out

    def render(self) -> Text:
        on = self.get_component_rich_style("stage-tabs--active")
        off = self.get_component_rich_style("stage-tabs--inactive")
        text = Text(" ", no_wrap=True, end="")
        for number, label in TABS:
            if number == self.active:
                # Reverse, bold and ▸: the active tab shows without colour too.
                text.append(f"▸{label} ", on + Style(bold=True))
            else:
                text.append(f" {label} ", off)
            text.append(" ")
        return text

    def on_click(self, event: events.Click) -> None:
        for number, x, width in self.labels():
            if x <= event.x < x + width:
                self.post_message(self.Selected(number))
                return
