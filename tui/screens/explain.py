"""Ask a box of the loop: what it does, in plain words, with this step's live numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from model.protocol import LoopFigures, WeightPatch
from tui.widgets.pretrain.loop_words import Node, explain
from tui.widgets.pretrain.weight_patch import WeightPatchView

LAYER_OF = {"embed": "Embed", "logits": "Logits"}


def patch_layer(node: Node) -> str | None:
    """The weight matrix a box stands for, if it is one of the model's layers."""
    if node.key.startswith("block"):
        return f"Block {node.key[5:]}"
    return LAYER_OF.get(node.key)


class ExplainScreen(ModalScreen[None]):
    """Stays open while training runs: the app hands it each new step's figures."""

    BINDINGS = [
        Binding("escape,enter,q", "dismiss", "close"),
        Binding("p", "step_phase", "next phase"),
        Binding("n", "step", "step"),
        Binding("left", "cursor(-1)", "token", show=False),
        Binding("right", "cursor(1)", "token", show=False),
    ]

    def __init__(
        self,
        tab: Any,
        node: Node,
        figures: LoopFigures | None,
        position: int,
        n_layer: int,
        patches: tuple[WeightPatch, ...] = (),
        cost: Callable[[], str] = lambda: "",
    ) -> None:
        super().__init__()
        self.tab = tab  # tab 1, whose keys these are: the screen stays open as they train
        self.cost = cost  # what the run has cost so far, in words (the optimizer's box)
        self.node = node
        self.figures = figures
        self.position = position
        self.n_layer = n_layer
        # From the last finished step: a step still in flight has not moved the weights yet.
        self.patches = patches

    def action_step_phase(self) -> None:
        self.tab.action_step_phase()

    def action_step(self) -> None:
        self.tab.action_step()

    def action_cursor(self, delta: int) -> None:
        self.tab.action_cursor(delta)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -explain"):
            yield Static(self._title(), classes="dialog-title", id="explain-title")
            with VerticalScroll():
                yield Static(self._body(), id="explain-body")
                if patch_layer(self.node):
                    yield WeightPatchView(id="explain-patch")
            yield Static(
                "p next phase · n whole step · ←→ token · esc close", classes="dialog-keys"
            )

    def on_mount(self) -> None:
        self._refresh_patch()

    def update(
        self, figures: LoopFigures | None, position: int, patches: tuple[WeightPatch, ...]
    ) -> None:
        self.figures = figures
        self.position = position
        self.patches = patches
        self.query_one("#explain-title", Static).update(self._title())
        self.query_one("#explain-body", Static).update(self._body())
        self._refresh_patch()

    def _refresh_patch(self) -> None:
        layer = patch_layer(self.node)
        if layer is None:
            return
        view = self.query_one(WeightPatchView)
        view.layer_name = layer
        view.patches = self.patches

    def _title(self) -> str:
        f = self.figures
        where = f"step {f.step} · after {f.phase}" if f and f.phase else "before the first step"
        return f"{self.node.label} · {where}"

    def _body(self):
        text = explain(self.node, self.figures, self.position, self.n_layer)
        if self.node.key == "optimizer" and self.figures is not None:
            text.append("\n\n" + self.cost())
        return text
