"""The trainterm app: the panes, the keys, and the wiring between them and the engine.

Data flow: engine messages arrive in batches (tui.link), go into the run's state here, and
are drawn by setting attributes on the panes at most ten times a second. Keys become
commands to the engine. The app never imports torch. It starts an engine with what tui.cli
gives it: the first just after its first frame, another after a crash (tui.cli stops it).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from model import protocol as p
from tui.commands import palette_commands
from tui.compare_control import CompareControl
from tui.exports import Exports
from tui.history import LossSeries, RateMeter, next_speed, speed_label
from tui.later_stages import LaterStages, later_tabs
from tui.lifecycle import EngineLifecycle
from tui.link import (
    Engine,
    EngineLink,
    EngineMessages,
)
from tui.loop_control import LoopControl
from tui.render_caches import trim as trim_render_caches
from tui.sampler import label as sampler_label
from tui.sampling_control import SAMPLER_BINDINGS, SamplingControl
from tui.schedule import schedule_for
from tui.stages import CARDS
from tui.throttle import Throttle
from tui.widgets.stage_card import CardLine, StageCardView
from tui.widgets.stage_tabs import StageTabs
from tui.widgets.status import StatusBar, StatusInfo
from tui.widgets.too_small import TooSmall, too_small

if TYPE_CHECKING:
    from tui.widgets.model_pane import ModelPane
    from tui.widgets.token_stream import TokenStream

DRAW_INTERVAL = 0.1  # paused or stepping, the panes redraw at most ten times a second
# While playing, a new batch arrives with every report: shown four times a second it can
# still be read, and the terminal gets half the bytes. Every pane is drawn in the same go,
# from the same report, so the status line, the loop ring and the loss agree on the step.
PLAYING_INTERVAL = p.PLAYING_DRAW_INTERVAL
TALL = 34  # rows from which the sample pane has room


class TrainTermApp(
    EngineLifecycle, LoopControl, CompareControl, LaterStages, SamplingControl, Exports, App[int]
):
    CSS_PATH = "app.tcss"
    TITLE = "trainterm"
    AUTO_FOCUS = None  # nothing on the main screen takes keys: they are all the app's
    BINDINGS = [
        Binding("space", "play_pause", "play"),
        Binding("n", "step", "step"),
        Binding("p", "step_phase", "phase"),
        Binding("left", "cursor(-1)", "token", key_display="←→"),
        Binding("right", "cursor(1)", "token", show=False),
        Binding("1", "stage(1)", "stage 1", show=False),
        Binding("2", "stage(2)", "stage 2", show=False),
        Binding("3", "stage(3)", "stage 3", show=False),
        Binding("4", "stage(4)", "compare", show=False),
        Binding("slash", "compare_type", "your question", show=False),
        Binding("plus,equals_sign", "speed(1)", "speed", key_display="+-"),
        Binding("minus", "speed(-1)", "slower", show=False),
        Binding("g", "sample", "sample"),
        Binding("w", "why", "why this token", show=False),
        *SAMPLER_BINDINGS,
        Binding("enter", "start_stage", "start", show=False),
        Binding("f", "fast_forward", "fast-forward", show=False),
        Binding("escape", "cancel", "cancel", show=False),
        Binding("e", "evals", "evals", show=False),
        Binding("v", "side", "evals/probes", show=False),
        Binding("m", "method", "method", show=False),
        Binding("o", "overoptimise", "over-optimise", show=False),
        Binding("left_square_bracket", "beta(-1)", "β down", show=False),
        Binding("right_square_bracket", "beta(1)", "β up", show=False),
        Binding("s", "save", "save"),
        # In help and the palette, like r: the footer has no room left at 80 columns.
        Binding("c", "report_card", "report card", show=False),
        Binding("x", "export", "export", show=False),
        Binding("i", "save_screen", "screenshot", show=False),
        Binding("r", "reset", "reset", show=False),  # in help and the palette; 80 columns are full
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        engine: Engine | None,
        *,
        restart: Callable[[], Engine] | None = None,
        received: Sequence[Any] = (),
        clock: Callable[[], float] = time.monotonic,
        save_dir: str | None = None,
    ) -> None:
        """``engine``: a running engine (its first messages may already have been read:
        pass them as ``received``). ``restart`` makes a fresh engine after a crash, and the
        first one, after the first frame, when ``engine`` is None (tui.cli).
        ``save_dir``: where exports go (default: the engine's save folder)."""
        super().__init__()
        self.save_dir_override = save_dir
        self.engine = engine
        self.make_engine = restart
        self.received = list(received)
        self.clock = clock
        self.series = LossSeries()
        self.rate = RateMeter()
        self.ready: p.EngineReady | None = None
        self.latest: p.StepReport | None = None
        self._drawn: p.StepReport | None = None  # the report the panes show now
        self.state = "starting"
        self.speed: float | None = None
        self.samples: tuple[p.SampleText, ...] = ()
        self.error: str | None = None  # why the trainer stopped, for the exit message
        self._schedule_told = False
        self._link: EngineLink | None = None
        self._signals: list[int] = []
        self._draw_throttle = Throttle(self, DRAW_INTERVAL, self._draw)
        self.later_tabs_mounted = False  # and tab 1's panes: all come after the first frame
        self._waiting: list[Any] = []  # messages that came before the later tabs
        self._waiting_actions: list[tuple[Any, Any]] = []  # and keys
        self.loop_setup()

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="main"):
            yield StageTabs()
            # Tab 1's panes and tabs 2–4 come after the first frame (_after_first_frame).
            with ContentSwitcher(id="stages", initial="stage-1"), Vertical(id="stage-1"):
                yield CardLine(CARDS[0], id="card-line")
        yield TooSmall()
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._fit(self.size.width, self.size.height)
        self._install_signals()
        if self.engine is not None:
            self._connect()
        self.on_engine_messages(EngineMessages(self.received))
        self._status()
        self.call_after_refresh(self._after_first_frame)

    async def _after_first_frame(self) -> None:
        # The first screen is the status line, the tabs, tab 1's card and the keys: about as
        # quick as a bare Textual app's (`trainterm bench-ui`). Tab 1's panes and the hidden
        # tabs come now, imported here. Until they are there, the engine's messages (its
        # first take a second: torch loading) and the keys wait, in order.
        from tui.widgets.pretrain import pretrain_panes

        if self.engine is None and self.make_engine is not None:
            self.engine = self.make_engine()  # its start-up overlaps the mounting below
            self._connect()
        await self.query_one("#stage-1").mount_all(pretrain_panes())
        await self.query_one("#stages", ContentSwitcher).mount_all(later_tabs())
        self.later_tabs_mounted = True
        waiting, self._waiting = self._waiting, []
        self.on_engine_messages(EngineMessages(waiting))
        keys, self._waiting_actions = self._waiting_actions, []
        for action, namespace in keys:
            await self.run_action(action, namespace)
        # tui.cli turns the garbage collector off while starting (a faster first frame).
        # What exists now lives as long as the app: keep it out of the collector's sweeps,
        # which otherwise stall the screen for tens of milliseconds now and then.
        gc.freeze()
        gc.enable()

    def on_resize(self, event) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(too_small(width, height), "-too-small")
        self.set_class(height >= TALL, "-tall")
        self.query_one(TooSmall).refresh()

    # --- the engine ---------------------------------------------------------------------

    def on_engine_messages(self, message: EngineMessages) -> None:
        if not self.is_running:
            return  # shutting down: the panes the messages would go to are being removed
        if not self.later_tabs_mounted:
            self._waiting += message.batch
            return
        for item in message.batch:
            self._receive(item)

    def _receive(self, m: Any) -> None:
        if self.later_receive(m) or self.exports_receive(m):
            return
        match m:
            case p.StepReport() if self.state not in ("resetting", "stopped"):
                self.series.extend(m.losses, m.val_losses)
                self.rate.add(self.clock(), m.step)
                self.latest = m
                if m.step >= m.total_steps:
                    self.state = "done"
                self._check_schedule(m)
                self.loop_report(m)
                self.later_pretrain_progress(m)
                self.request_draw()
            case p.LoopFigures() if self.state not in ("resetting", "stopped"):
                self.loop_phase(m)
            case p.EngineReady():
                self._engine_ready(m)
            case p.LossHistory():
                self.series.replace(m.points)
                self._draw()
            case p.Divergence():
                self.state = "diverged" if m.stage == "pretrain" else self.state
                self.notify(m.message, title="Training diverged", severity="error", timeout=30)
                self._draw()
            case p.SampleText():
                if m.stage == "pretrain":
                    self.show_sample(m)
                if self.sampling_receive(m):
                    return  # it went to the "why this token" view
                if m.stage != "pretrain":
                    title = f"{m.prompt} @ step {m.step}"
                    self.notify(m.text or "(nothing)", title=title, timeout=15)
                elif not self.has_class("-tall") or self.stage != 1:
                    title = f"Sample @ step {m.step}"
                    self.notify(m.text or "(nothing yet)", title=title, timeout=15)
            case p.Saved():
                self.notify(f"{m.path}", title=f"Saved checkpoint @ step {m.step}", timeout=8)
            case p.EngineError(fatal=True):
                self._stopped(m.message)
            case p.EngineError():
                self.notify(m.message, title="Trainer", severity="error", timeout=10)

    def _engine_ready(self, ready: p.EngineReady) -> None:
        self.ready = ready
        self.latest = None
        self.series.clear()
        self.rate.clear()
        self.state = "done" if ready.step >= ready.total_steps else "paused"
        max_loss = math.log(max(2, ready.vocab_size))
        self.query_one("#stream").max_loss = max_loss
        self.query_one("#prediction").max_loss = max_loss
        model: ModelPane = self.query_one("#model")
        model.ready = ready
        schedule, self._schedule_told = schedule_for(ready)
        model.schedule = schedule
        self.loop_ready(ready)
        for stage, sentence in ready.stage_data:
            for view in self.query(StageCardView):
                if view.stage == stage:
                    view.scenario_data = sentence
        self.later_stage_data(ready.stage_data)
        self._draw()

    def _check_schedule(self, report: p.StepReport) -> None:
        """Draw the default schedule only while the reported learning rates agree with it."""
        model: ModelPane = self.query_one("#model")
        told, schedule = self._schedule_told, model.schedule
        if schedule and not told and not schedule.matches(report.step, report.lr):
            model.schedule = None

    # --- drawing ------------------------------------------------------------------------

    def request_draw(self) -> None:
        view = self.tab_view
        playing = self.state == "playing" or (view is not None and view.state == "playing")
        self._draw_throttle.interval = PLAYING_INTERVAL if playing else DRAW_INTERVAL
        self._draw_throttle.request()

    def _draw(self) -> None:
        self._draw_throttle.cancel()
        self.later_draw()
        self._draw_batch()
        self._drawn = self.latest
        self.query_one("#model").report = self.latest
        self.query_one("#loss").show(self.series)
        self._status()
        trim_render_caches()  # a long run must not fill Rich's and Textual's caches

    def _draw_batch(self) -> None:
        self.draw_loop()
        row = self.latest.row if self.latest else ()
        stream = self.query_one("#stream")
        if stream.row is not row:
            stream.row = row
            prediction = self.query_one("#prediction")
            prediction.row = row
            prediction.cursor = stream.cursor

    def _status(self) -> None:
        if self.stage != 1 and self.later_status():
            return
        # The drawn report, not the latest: a key pressed between a report and its draw
        # must not put a newer step in the status line than the panes below show.
        ready, report = self.ready, self._drawn
        self.query_one(StatusBar).info = StatusInfo(
            scenario=ready.scenario if ready else "",
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=report.loss if report else self.series.last,
            state=self.state,
            speed=speed_label(self.speed),
            rate=self.rate.rate(self.clock()) if self.state == "playing" else None,
            sampler=sampler_label(self.sampler),
        )

    def on_token_stream_cursor_moved(self, message: TokenStream.CursorMoved) -> None:
        self.query_one("#prediction").cursor = message.index
        self.loop_cursor(message.index)

    # --- actions ------------------------------------------------------------------------

    def _can_train(self) -> bool:
        if self.state in ("starting", "resetting", "stopped"):
            self.notify("the trainer is not ready yet", timeout=3)
            return False
        if self.state in ("done", "diverged"):
            what = "finished" if self.state == "done" else "diverged"
            self.notify(f"this stage has {what}: r resets it", timeout=5)
            return False
        return True

    def action_play_pause(self) -> None:
        if self.stage != 1:
            self.later_play_pause()
            return
        if self.state == "playing":
            self.send(p.Pause())
            self.state = "paused"
        elif self._can_train():
            self.send(p.Play())
            self.state = "playing"
        self.rate.clear()
        self._status()

    def action_step(self) -> None:
        if self.stage != 1:
            self.later_step()
            return
        if self.state == "playing" or self._can_train():
            self.send(p.Step(1))
            self.state = "paused"
            self.rate.clear()
            self._status()

    def action_cursor(self, delta: int) -> None:
        if self.stage != 1:
            self.later_cursor(delta)
            return
        self.query_one("#stream").move(delta)

    @property
    def stage(self) -> int:
        return self.query_one(StageTabs).active

    def action_stage(self, number: int) -> None:
        if number == self.stage:
            return
        self.query_one(StageTabs).active = number
        self.query_one("#stages", ContentSwitcher).current = f"stage-{number}"
        self.later_activate(number)
        self._status()

    async def on_stage_tabs_selected(self, message: StageTabs.Selected) -> None:
        await self.run_action(f"stage({message.number})")

    async def run_action(self, action, default_namespace=None) -> bool:
        if not self.later_tabs_mounted:
            self._waiting_actions.append((action, default_namespace))
            return True
        return await super().run_action(action, default_namespace)

    def action_speed(self, direction: int) -> None:
        self.speed = next_speed(self.speed, direction)
        self.send(p.SetSpeed(self.speed))
        self._status()

    def action_sample(self) -> None:
        if self.stage != 1:
            self.later_sample()
            return
        if self.state not in ("starting", "resetting", "stopped"):
            self.send(p.Sample(sampler=self.sampler))

    def action_save(self) -> None:
        if self.stage != 1:
            self.later_save()
            return
        if self.state not in ("starting", "resetting", "stopped"):
            self.send(p.Save())

    def action_reset(self) -> None:
        if self.stage != 1:
            self.later_reset()
            return
        if self.state in ("starting", "resetting", "stopped"):
            return
        step = self.latest.step if self.latest else self.ready.step if self.ready else 0

        def answered(yes: bool | None) -> None:
            if yes:
                self.send(p.Reset())
                self.state = "resetting"
                self.latest = None
                self.series.clear()
                self.rate.clear()
                self._draw()

        from tui.screens.confirm import ConfirmReset

        self.push_screen(ConfirmReset(CARDS[0].tab_label, step), answered)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_driver_class(self):
        driver = super().get_driver_class()
        if driver.__name__ != "LinuxDriver":  # Windows, the web, TEXTUAL_DRIVER: as they are
            return driver
        from tui.sgr import compact_driver_class

        return compact_driver_class(driver)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from palette_commands(self)
        yield from super().get_system_commands(screen)
