"""The first screen: what it holds, and what waits until after it (the engine too)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from stage_fixtures import later_tabs

import tui.app
from tui.app import TrainTermApp

# Tab 1's panes: mounted after the first frame (tui.tabs.pretrain, Lazy).
PANES = {
    "LoopDiagram", "TokenStream", "PredictionPane", "LossPane", "ModelPane", "SamplePane",
    "WeightPatchView",
}  # fmt: skip


class FirstFrame(TrainTermApp):
    """The app, noting what its screen held when its first frame was drawn."""

    CSS_PATH = str(Path(tui.app.__file__).with_name(TrainTermApp.CSS_PATH))
    held: set[str] = set()

    def on_mount(self) -> None:
        super().on_mount()
        # All the first frame will hold: what mounts later (Lazy) waits for that frame.
        self.held = {type(w).__name__ for w in self.screen.query("*")}


async def test_the_first_frame_holds_the_chrome_and_tab_1_panes_follow(fake_engine):
    app = FirstFrame(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await later_tabs(pilot)
        assert {"StatusBar", "StageTabs", "CardLine", "Footer"} <= app.held
        assert not app.held & PANES, "tab 1's panes are in the first frame"
        # Tabs 2–4 are there, hidden and empty: their panes too come after the first frame.
        assert {"SFTView", "PreferenceView", "RLHFView", "CompareView"} <= app.held
        assert not app.held & {"HandoffPane", "EvalPane", "PairPane", "CompareGrid"}
        after = {type(w).__name__ for w in app.screen.query("*")}
        assert PANES <= after


async def test_the_app_starts_its_engine_after_the_first_frame(fake_engine):
    started: list[set[str]] = []

    def start():
        started.append(set(app.held))
        return fake_engine

    app = FirstFrame(None, restart=start)
    async with app.run_test(size=(80, 24)) as pilot:
        await later_tabs(pilot)
        assert len(started) == 1 and "StatusBar" in started[0], "started before the first frame"
        assert (
            app.session.engine is fake_engine and app.session._link is not None
        )  # connected: it is read


def test_importing_the_app_loads_no_pane_of_tab_1_nor_the_chart():
    heavy = ["plotext", "tui.widgets.common.loss_chart", "tui.widgets.pretrain.model_pane",
             "tui.widgets.common.token_stream", "tui.widgets.common.prediction",
             "model.engine"]  # fmt: skip
    # A name that no module has (one moved, say) would pass below without checking anything.
    assert all(importlib.util.find_spec(m) for m in heavy)
    code = f"import sys, tui.cli, tui.app; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_engine_starts_inside_an_app_whose_stderr_has_no_descriptor(tmp_path):
    # As under Textual (its stand-in for sys.stderr answers fileno() with -1), in a process
    # whose multiprocessing has not started its resource tracker yet.
    code = (
        "import io, sys\n"
        "class Captured(io.StringIO):\n"
        "    def fileno(self): return -1\n"
        "from model.engine.options import EngineOptions\n"
        "from tui.start import start_engine\n"
        "sys.stderr = textual = Captured()\n"
        f"handle = start_engine(EngineOptions(corpus={str(tmp_path / 'none.txt')!r}))\n"
        "assert sys.stderr is textual, 'stderr not given back'\n"
        "handle.stop()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
