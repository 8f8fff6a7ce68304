"""Every key and pane of the app, driven by Pilot against a real, seeded trainer process.

One engine serves the module; each test starts from a reset (fresh weights, step 0).
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from engine_fixtures import receive
from stage_fixtures import until
from textual.widgets import ContentSwitcher

from model import protocol as p
from model.engine.options import EngineOptions
from model.engine.process import EngineHandle
from tui.app import TrainTermApp
from tui.screens.confirm import ConfirmReset
from tui.screens.crash import TrainerStopped
from tui.screens.help import HelpScreen
from tui.widgets.common.loss_plot import LossPlot
from tui.widgets.common.prediction import PredictionPane
from tui.widgets.common.stage_tabs import StageTabs
from tui.widgets.common.status import StatusBar
from tui.widgets.common.token_stream import TokenStream
from tui.widgets.common.too_small import TooSmall
from tui.widgets.later.handoff import HandoffBody
from tui.widgets.pretrain.model_pane import ModelPane
from tui.widgets.pretrain.sample_log import SamplePane

SCENARIO = """
name = "places"
[model]
d_model = 48
n_layer = 2
n_head = 2
context = 48
vocab_size = 320
[pretrain]
steps = 5000
batch_size = 8
warmup_steps = 10
eval_every = 10
seed = 5
"""


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    from conftest import seeded_text

    folder = tmp_path_factory.mktemp("places")
    (folder / "scenario.toml").write_text(SCENARIO)
    (folder / "corpus.txt").write_text(seeded_text())
    return folder


@pytest.fixture(scope="module")
def options(scenario_dir, tmp_path_factory):
    os.environ.setdefault("TRAINTERM_CACHE", str(tmp_path_factory.mktemp("cache")))
    return EngineOptions(scenario=str(scenario_dir), seed=5, save_dir=str(scenario_dir / "saves"))


@pytest.fixture(scope="module")
def shared_engine(options):
    handle = EngineHandle(options)
    receive(handle, p.EngineReady)
    yield handle
    handle.stop()
    assert not handle.process.is_alive()


@pytest.fixture
def engine(shared_engine):
    """The shared engine, paused, at full speed, reset to step 0; and its EngineReady.

    Back on pretraining first: a test that pressed 2 left the keys acting on stage 2, whose
    reset sends no EngineReady (the tests run in any order)."""
    shared_engine.send(p.Activate("pretrain"))
    shared_engine.send(p.Pause())
    shared_engine.send(p.SetSpeed(None))
    shared_engine.send(p.Reset())
    ready = receive(shared_engine, p.EngineReady)
    assert ready.step == 0
    return shared_engine, ready


def make_app(engine) -> TrainTermApp:
    handle, ready = engine
    return TrainTermApp(handle, received=[ready])


async def drawn(pilot, app) -> None:
    """Wait until the panes show the latest report: no redraw pending, its batch on screen."""

    def shown() -> bool:
        row = app.first.latest.row if app.first.latest else ()
        return (
            app._draw_throttle._timer is None
            and app.query_one(ModelPane).report is app.first.latest
            and app.query_one(TokenStream).row is row
        )

    await until(pilot, shown, what="the panes to show the latest report")


async def pause_and_settle(pilot, app) -> int:
    """Pause, then sample: the engine sends what it trained before the pause ahead of the
    sample, so once the sample is here every step's report is too. The step paused at."""
    samples = len(app.first.samples)
    await pilot.press("space")
    assert app.first.state == "paused"
    await pilot.press("g")
    await until(pilot, lambda: len(app.first.samples) > samples, what="the sample after the pause")
    return app.first.latest.step


def status_text(app) -> str:
    bar = app.query_one(StatusBar)
    return bar.render().plain


async def test_opens_paused_with_the_model_and_no_focus(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.first.state == "paused" and app.focused is app.first
        assert "paused" in status_text(app) and "step 0/5000" in status_text(app)
        model = app.query_one(ModelPane)
        assert model.ready.n_layer == 2
        text = "\n".join(model.lines())
        for name in ("Embed", "Block 1", "Block 2", "Logits"):
            assert name in text
        assert not app.has_class("-too-small")


async def test_n_trains_one_step_and_fills_every_pane(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await until(
            pilot,
            lambda: app.first.latest is not None and app.first.latest.step == 1,
            what="step 1",
        )
        await drawn(pilot, app)
        stream = app.query_one(TokenStream)
        assert len(stream.row) == 48 and stream.cursor == 24
        shown = stream.lines()
        assert "│" in shown[0] and shown[1].split()[0].isdigit()
        prediction = app.query_one(PredictionPane)
        assert prediction.position is stream.row[24]
        shown = "\n".join(prediction.lines())
        assert "after " in shown and "p(actual)" in shown and "loss" in shown
        model = app.query_one(ModelPane)
        assert [s.name for s in model.report.layers] == ["Embed", "Block 1", "Block 2", "Logits"]
        assert "step 1/5000" in "\n".join(model.lines())
        assert app.first.series.train == [(1, app.first.latest.loss)]
        assert "step 1/5000" in status_text(app) and "loss" in status_text(app)
        await until(pilot, lambda: app.query_one(LossPlot)._chart is not None, what="chart")


async def test_space_plays_and_pauses_without_losing_a_loss_point(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        assert app.first.state == "playing"
        await until(
            pilot, lambda: app.first.latest is not None and app.first.latest.step >= 25, what="25"
        )
        assert "playing" in status_text(app)
        settled = await pause_and_settle(pilot, app)
        assert app.first.samples[-1].step == settled, "a step was trained after the pause"
        steps = [s for s, _ in app.first.series.train]
        assert steps == list(range(1, settled + 1))
        assert [s for s, _ in app.first.series.val] == list(range(10, settled + 1, 10))
        await pilot.press("n")  # and nothing arrives late: the next step follows on
        await until(pilot, lambda: app.first.latest.step == settled + 1, what="the step after")
        assert [s for s, _ in app.first.series.train] == list(range(1, settled + 2))


async def test_cursor_keys_and_click_select_a_position(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        await drawn(pilot, app)
        stream = app.query_one(TokenStream)
        prediction = app.query_one(PredictionPane)
        await pilot.press("left", "left", "right")
        assert stream.cursor == 23 and prediction.cursor == 23
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest.step == 2, what="step 2")
        await drawn(pilot, app)
        assert stream.cursor == 23, "the cursor stays put across reports"
        for _ in range(60):
            await pilot.press("right")
        assert stream.cursor == 47  # clamped at the last position
        chip_index, x, _ = stream._lines[stream._top][2]
        region = stream.content_region
        await pilot.click(offset=(region.x + x, region.y))
        assert stream.cursor == chip_index - 1 and prediction.cursor == chip_index - 1


async def test_stage_tabs_show_their_cards(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        switcher = app.query_one(ContentSwitcher)
        await pilot.press("2")
        assert switcher.current == "stage-2" and app.stage == 2
        # This scenario has a corpus only: the fine-tuning tab says what it would need.
        body = app.query_one("#sft-handoff").query_one(HandoffBody)
        text = "".join(s.text for s in app.console.render(body.render()))
        assert "This scenario" in text and "sft.jsonl" in text
        await pilot.press("3")
        assert switcher.current == "stage-3"
        body = app.query_one("#dpo-handoff").query_one(HandoffBody)
        text = "".join(s.text for s in app.console.render(body.render()))
        assert "This scenario" in text and "preference.jsonl" in text
        await pilot.click(StageTabs, offset=(3, 0))
        assert switcher.current == "stage-1" and app.stage == 1
        assert app.query_one(TokenStream).region.height > 0


async def test_plus_minus_cap_the_speed(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(6):
            await pilot.press("minus")
        assert app.speed == 1 and "speed 1/s" in status_text(app)
        await pilot.press("plus")
        assert app.speed == 2
        started = time.monotonic()
        await pilot.press("space")
        await until(
            pilot, lambda: app.first.latest is not None and app.first.latest.step >= 3, what="3"
        )
        steps = await pause_and_settle(pilot, app)
        elapsed = time.monotonic() - started
        # At 2 steps a second, n steps span at least (n - 1) / 2 s, however slow the machine.
        assert (steps - 1) / 2 <= elapsed
        for _ in range(6):
            await pilot.press("plus")
        assert app.speed is None and "speed max" in status_text(app)
        assert engine[0] is app.session.engine


async def test_g_samples_text(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", "g")
        await until(pilot, lambda: app.first.samples, what="a sample")
        assert app.query_one(SamplePane).samples[-1].step in (0, 1)
        assert app.query_one(SamplePane).display


async def test_s_saves_a_checkpoint(engine, scenario_dir):
    app = make_app(engine)
    notes = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append((kw.get("title", ""), message))
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        await pilot.press("s")
        await until(pilot, lambda: any("Saved" in t for t, _ in notes), what="saved")
    title, path = next(n for n in notes if "Saved" in n[0])
    assert "step 1" in title and os.path.exists(path)
    assert path.startswith(str(scenario_dir / "saves"))


async def test_r_asks_then_resets_the_stage(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmReset)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmReset) and app.first.latest.step == 1
        await pilot.press("r", "y")
        assert app.first.state in ("resetting", "paused") and app.first.series.train == []
        await until(pilot, lambda: app.first.state == "paused", what="the fresh engine")
        assert app.first.latest is None and "step 0/5000" in status_text(app)
        assert app.query_one(TokenStream).row == ()


async def test_help_opens_and_closes(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_the_actions(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Play / pause",
            "Step",
            "Faster",
            "Slower",
            "Sample text",
            "Save checkpoint",
            "Reset stage",
            "Help",
            "Quit",
        ):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Step", "enter")
        await until(pilot, lambda: app.first.latest is not None, what="a step from the palette")


@pytest.mark.parametrize("key", ["q", "ctrl+q", "ctrl+c"])
async def test_quit_keys(engine, key):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0 and app.session.error is None


async def test_resize_sweep_while_playing(engine):
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        for size in [(0, 0), (1, 1), (10, 3), (79, 24), (300, 2), (80, 24)]:
            await pilot.resize_terminal(*size)
            small = size != (80, 24)
            await until(pilot, lambda s=small: app.has_class("-too-small") == s, what=str(size))
            notice = app.query_one(TooSmall)
            if small:
                assert f"have {size[0]}×{size[1]}" in notice.render().plain
        await pilot.press("space")
        assert app.query_one(TokenStream).region.width > 0


async def test_trainer_crash_shows_reason_and_restarts(options):
    """A second engine of our own: it gets killed."""
    handle = EngineHandle(options)
    made = []

    def restart():
        made.append(EngineHandle(options))
        return made[-1]

    app = TrainTermApp(handle, restart=restart)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.first.state == "paused", what="ready", timeout=60)
            handle.process.kill()
            await until(pilot, lambda: isinstance(app.screen, TrainerStopped), what="crash")
            assert "ended unexpectedly" in app.session.error
            assert app.first.state == "stopped" and "trainer stopped" in status_text(app)
            await pilot.press("r")
            await until(pilot, lambda: app.first.state == "paused", what="restarted", timeout=60)
            await pilot.press("n")
            await until(pilot, lambda: app.first.latest is not None, what="a step after restart")
    finally:
        for engine in [handle, *made]:
            engine.stop()
    engines = [handle.process, *(m.process for m in made)]
    assert not any(e.is_alive() for e in engines)
    assert not set(multiprocessing.active_children()) & set(engines)


async def test_fatal_error_at_start_is_shown_and_exits_2(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    handle = EngineHandle(EngineOptions(corpus=str(empty)))
    app = TrainTermApp(handle, restart=None)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            # The screen is pushed before its children are mounted: wait for what is read.
            await until(
                pilot,
                lambda: isinstance(app.screen, TrainerStopped) and app.screen.query("#reason"),
                what="the error screen",
            )
            assert "empty" in app.session.error
            reason = app.screen.query_one("#reason").render()
            assert "empty" in str(reason)
            await pilot.press("q")
            await pilot.pause()
    finally:
        handle.stop()
    assert app.return_code == 2
