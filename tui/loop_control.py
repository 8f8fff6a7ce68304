"""The app's side of the loop diagram: phase stepping, asking a box, the live weight patch.

A mixin of TrainTermApp, kept apart so app.py stays about the panes and the engine.
"""

from __future__ import annotations

from model import protocol as p
from tui.throttle import Throttle
from tui.widgets.loop_diagram import LoopDiagram
from tui.widgets.weight_patch import WeightPatchView

WEIGHTS_INTERVAL = 1.0


class LoopControl:
    """Expects the host app to provide `send`, `_can_train`, `state`, `ready` and `latest`."""

    figures: p.LoopFigures | None = None
    patches: tuple[p.WeightPatch, ...] = ()
    # True while the current step is being walked phase by phase (by p, or slow play).
    _phased: bool = False
    _active: str = ""

    def loop_setup(self) -> None:
        self._weights_throttle = Throttle(self, WEIGHTS_INTERVAL, self._draw_weights)

    def action_step_phase(self) -> None:
        if self.state == "playing" or self._can_train():
            self.send(p.StepPhase())
            self.state = "paused"
            self._status()

    def loop_ready(self, ready: p.EngineReady) -> None:
        diagram = self.query_one(LoopDiagram)
        diagram.n_layer = ready.n_layer
        diagram.vocab = ready.vocab_size
        diagram.d_model = ready.d_model
        self.figures = None
        self.patches = ()
        self._phased = False
        self._active = ""
        self._show_figures("")

    def loop_phase(self, figures: p.LoopFigures) -> None:
        self.figures = figures
        self._phased = True
        self._active = figures.phase
        self._show_figures(figures.phase)

    def loop_report(self, report: p.StepReport) -> None:
        """Keep the step's figures; they are drawn with the batch (at most 4 Hz when playing)."""
        if report.figures is None:
            return
        self.figures = report.figures
        self.patches = report.figures.patches
        # After a phase walk, "update" lights up last; a whole step lands unlit.
        self._active = "update" if self._phased else ""
        self._phased = False

    def draw_loop(self) -> None:
        diagram = self.query_one(LoopDiagram)
        if diagram.figures is not self.figures or diagram.active_phase != self._active:
            self._show_figures(self._active)

    def _show_figures(self, active: str) -> None:
        diagram = self.query_one(LoopDiagram)
        diagram.figures = self.figures
        diagram.active_phase = active
        if self.state == "playing":
            # 256 coloured cells that all change every step: redrawn once a second while
            # playing, they still visibly move, at a third of the terminal traffic.
            self._weights_throttle.request()
        else:
            self._draw_weights()
        self._refresh_explanation()

    def _draw_weights(self) -> None:
        self._weights_throttle.cancel()
        self.query_one(WeightPatchView).patches = self.patches

    def loop_cursor(self, position: int) -> None:
        self.query_one(LoopDiagram).position = position
        self._refresh_explanation()

    def _refresh_explanation(self) -> None:
        from tui.screens.explain import ExplainScreen

        for screen in self.screen_stack:
            if isinstance(screen, ExplainScreen):
                position = self.query_one(LoopDiagram).position
                screen.update(self.figures, position, self.patches)

    def on_loop_diagram_selected(self, message: LoopDiagram.Selected) -> None:
        from tui.screens.explain import patch_layer

        layer = patch_layer(message.node)
        if layer is not None:
            self.query_one(WeightPatchView).layer_name = layer

    def on_loop_diagram_asked(self, message: LoopDiagram.Asked) -> None:
        from tui.screens.explain import ExplainScreen

        diagram = self.query_one(LoopDiagram)
        screen = ExplainScreen(
            message.node, self.figures, diagram.position, diagram.n_layer, self.patches
        )
        self.push_screen(screen)
