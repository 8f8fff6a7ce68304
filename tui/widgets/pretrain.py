"""Tab 1's panes below its card line. The app mounts them after its first frame: the first
screen (status, tabs, card, keys) is drawn before any of them is imported, styled or laid out."""

from __future__ import annotations

from textual.widget import Widget


def pretrain_panes() -> list[Widget]:
    from textual.containers import Horizontal

    from tui.widgets.loop_diagram import LoopDiagram
    from tui.widgets.loss_chart import LossPane
    from tui.widgets.model_pane import ModelPane
    from tui.widgets.prediction import PredictionPane
    from tui.widgets.sample_log import SamplePane
    from tui.widgets.token_stream import TokenStream
    from tui.widgets.weight_patch import WeightPatchView

    return [
        LoopDiagram(id="loop"),
        Horizontal(TokenStream(id="stream"), PredictionPane(id="prediction"), id="top-row"),
        Horizontal(LossPane(id="loss"), ModelPane(id="model"), id="bottom-row"),
        Horizontal(SamplePane(id="samples"), WeightPatchView(id="weights"), id="tall-row"),
    ]
