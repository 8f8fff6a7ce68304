"""Tab 1's training loop: the ring of phases stepped through, a box asked to explain
itself, and the live patch of weights. A plain object of the pretraining tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

from model import protocol as p
from tui.term.throttle import Throttle

if TYPE_CHECKING:
    from tui.tabs.pretrain import PretrainTab
    from tui.widgets.pretrain.loop_diagram import LoopDiagram
    from tui.widgets.pretrain.weight_patch import WeightPatchView

WEIGHTS_INTERVAL = 1.0


class TrainingLoop:
    def __init__(self, tab: PretrainTab) -> None:
        self.tab = tab
        self.figures: p.LoopFigures | None = None
        self.patches: tuple[p.WeightPatch, ...] = ()
        # True while the current step is being walked phase by phase (by p, or slow play).
        self.phased = False
        self.active = ""
        self._weights_throttle = Throttle(tab, WEIGHTS_INTERVAL, self._draw_weights)

    @property
    def diagram(self) -> LoopDiagram:
        return self.tab.query_one("#loop")  # type: ignore[return-value]

    @property
    def weights(self) -> WeightPatchView:
        return self.tab.query_one("#weights")  # type: ignore[return-value]

    def ready(self, ready: p.EngineReady) -> None:
        """A new run: nothing of the old one's steps is shown."""
        self.figures = None
        self.patches = ()
        self.phased = False
        self.active = ""

    def ready_panes(self, ready: p.EngineReady) -> None:
        diagram = self.diagram
        diagram.n_layer = ready.n_layer
        diagram.vocab = ready.vocab_size
        diagram.d_model = ready.d_model
        diagram.optimizer = ready.optimizer.split()[0]
        self._show(self.active)

    def phase(self, figures: p.LoopFigures, show: bool = True) -> None:
        self.figures = figures
        self.phased = True
        self.active = figures.phase
        if show:
            self._show(figures.phase)

    def report(self, report: p.StepReport) -> None:
        """Keep the step's figures; they are drawn with the batch (at most 4 Hz when playing)."""
        if report.figures is None:
            return
        self.figures = report.figures
        self.patches = report.figures.patches
        # After a phase walk, "update" lights up last; a whole step lands unlit.
        self.active = "update" if self.phased else ""
        self.phased = False

    def draw(self) -> None:
        diagram = self.diagram
        if diagram.figures is not self.figures or diagram.active_phase != self.active:
            self._show(self.active)

    def _show(self, active: str) -> None:
        diagram = self.diagram
        diagram.figures = self.figures
        diagram.active_phase = active
        if self.tab.state == "playing":
            # 256 coloured cells that all change every step: redrawn once a second while
            # playing, they still visibly move, at a third of the terminal traffic.
            self._weights_throttle.request()
        else:
            self._draw_weights()
        self.refresh_explanation()

    def _draw_weights(self) -> None:
        self._weights_throttle.cancel()
        self.weights.patches = self.patches

    def cursor(self, position: int) -> None:
        self.diagram.position = position
        self.refresh_explanation()

    def refresh_explanation(self) -> None:
        from tui.screens.explain import ExplainScreen

        for screen in self.tab.app.screen_stack:
            if isinstance(screen, ExplainScreen):
                screen.update(self.figures, self.diagram.position, self.patches)

    def select(self, node) -> None:
        from tui.screens.explain import patch_layer

        layer = patch_layer(node)
        if layer is not None:
            self.weights.layer_name = layer

    def explain(self, node) -> None:
        from tui.screens.explain import ExplainScreen

        diagram = self.diagram
        self.tab.app.push_screen(
            ExplainScreen(self.tab, node, self.figures, diagram.position, diagram.n_layer,
                          self.patches, cost=self.tab.cost_words)
        )  # fmt: skip
