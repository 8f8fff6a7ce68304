"""Tab 3: one tab, several methods of preference tuning (DPO+NLL, DPO, RLHF), each a view
that keeps its own run. m moves to the next method; [ ] set β before a run starts."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import ContentSwitcher

from model import protocol as p
from tui.runs import RUNS
from tui.tabs.later import LaterStageView


class MethodView(LaterStageView):
    """A view of tab 3. ``methods``: the variants it trains, in m's order (DPO: two)."""

    BINDINGS = [
        Binding("m", "method", "method", show=False),
        Binding("left_square_bracket", "beta(-1)", "β down", show=False),
        Binding("right_square_bracket", "beta(1)", "β up", show=False),
    ]
    number = 3
    BETAS: tuple[float, ...] = (0.1,)
    beta = 0.1  # until the engine says the scenario's (p.BaseModel.beta)

    class Next(Message):
        """m past this view's last method: the tab shows the next view."""

        def __init__(self, view: MethodView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.methods = RUNS[self.stage].methods
        self.method = self.methods[0]
        # β set by the learner ([ ] or o): the scenario's no longer replaces it.
        self.beta_chosen = False

    def choose_method(self) -> None:
        self.method = self.methods[(self.methods.index(self.method) + 1) % len(self.methods)]
        self.show_choices()

    def choose_beta(self, direction: int) -> None:
        nearest = min(range(len(self.BETAS)), key=lambda i: abs(self.BETAS[i] - self.beta))
        self.beta = self.BETAS[max(0, min(len(self.BETAS) - 1, nearest + direction))]
        self.beta_chosen = True
        self.show_choices()

    def on_base(self, base: p.BaseModel) -> None:
        super().on_base(base)
        # A run starts at the scenario's β (its own scenario.toml's, not this class's),
        # until the learner chooses another.
        if base.beta is not None and not self.beta_chosen and self.beta_open():
            self.beta = base.beta
            self.show_choices()

    def show_choices(self) -> None:
        """Say the method and β the run will start with (in the hand-off)."""

    def panes_mounted(self) -> None:
        super().panes_mounted()
        self.show_choices()

    def beta_open(self) -> bool:
        """May β change now? Until the run starts."""
        return not self.running

    def action_method(self) -> None:
        """m: the next method of this view, then the next view's first."""
        if not self.running and self.method != self.methods[-1]:
            self.choose_method()
            return
        if self.state == "playing":
            self.send(p.Pause())
            self.state = "paused"
        self.post_message(self.Next(self))

    def action_beta(self, direction: int) -> None:
        if self.beta_open():
            self.choose_beta(direction)


class MethodSwitcher(ContentSwitcher):
    """Tab 3: shows one method's view at a time."""

    def on_method_view_next(self, message: MethodView.Next) -> None:
        message.stop()
        views = [child for child in self.children if isinstance(child, MethodView)]
        # From the view shown now, not the one that asked: m pressed twice in quick
        # succession asks twice from the same view before the first move is drawn.
        current = self.visible_content if self.visible_content in views else message.view
        shown = views[(views.index(current) + 1) % len(views)]
        if not shown.running and shown.method != shown.methods[0]:
            shown.method = shown.methods[-1]
            shown.choose_method()  # back to its first method
        self.current = shown.id
        shown.focus()
        shown.activated()
        shown.host.show_status()
