"""The first screen: what it holds, and what waits until after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stage_fixtures import later_tabs

import tui.app
from tui.app import TrainTermApp

# Tab 1's panes: mounted after the first frame (tui.widgets.pretrain).
PANES = {
    "LoopDiagram", "TokenStream", "PredictionPane", "LossPane", "ModelPane", "SamplePane",
    "WeightPatchView",
}  # fmt: skip


class FirstFrame(TrainTermApp):
    """The app, noting what its screen held when its first frame was drawn."""

    CSS_PATH = str(Path(tui.app.__file__).with_name(TrainTermApp.CSS_PATH))
    held: set[str] = set()

    async def _after_first_frame(self) -> None:
        self.held = {type(w).__name__ for w in self.screen.query("*")}
        await super()._after_first_frame()


async def test_the_first_frame_holds_the_chrome_and_tab_1_panes_follow(fake_engine):
    app = FirstFrame(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await later_tabs(pilot)
        assert {"StatusBar", "StageTabs", "CardLine", "Footer"} <= app.held
        assert not app.held & PANES, "tab 1's panes are in the first frame"
        assert not app.held & {"SFTView", "PreferenceView", "RLHFView", "CompareView"}
        after = {type(w).__name__ for w in app.screen.query("*")}
        assert PANES <= after


def test_importing_the_app_loads_no_pane_of_tab_1_nor_the_chart():
    heavy = ["plotext", "tui.widgets.loss_chart", "tui.widgets.model_pane",
             "tui.widgets.token_stream", "tui.widgets.prediction"]  # fmt: skip
    code = f"import sys, tui.cli, tui.app; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
