"""The trainterm app: the tabs, and the routes between them and the engine.

Data flow: engine messages arrive in batches (tui.engine_pipe); each goes to the tab that owns its
run (tui/tabs/), which keeps the run's state; every tab is drawn from that state at most ten
times a second. Keys are the shown tab's (its bindings) or the app's (below: tabs, speed,
sampler, report card, screenshot, help). The app never imports torch. It starts an engine
with what tui.start gives it: the first just after its first frame, another after a crash.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from model import protocol as p
from model.stages import FIRST
from tui import runs
from tui.engine_pipe import Engine, EngineClosed, EngineMessages
from tui.exports import Exports
from tui.palette import palette_commands
from tui.sampler import SAMPLER_BINDINGS
from tui.sampler import label as sampler_label
from tui.sampler_keys import SamplerKeys
from tui.session import EngineSession
from tui.speeds import next_speed, speed_label
from tui.tabs.base import StageTab
from tui.tabs.compare import CompareView
from tui.tabs.methods import MethodSwitcher
from tui.tabs.pretrain import PretrainTab
from tui.term.render_caches import trim as trim_render_caches
from tui.term.throttle import Throttle
from tui.widgets.common.stage_tabs import StageTabs
from tui.widgets.common.status import StatusBar, StatusInfo
from tui.widgets.common.too_small import TooSmall, fit

DRAW_INTERVAL = 0.1  # paused or stepping, the panes redraw at most ten times a second
# Playing, four times a second: still readable, half the bytes. Every pane is drawn in the
# same go, so the status line, the loop ring and the loss agree on the step.
PLAYING_INTERVAL = p.PLAYING_DRAW_INTERVAL


class TrainTermApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "trainterm"
    AUTO_FOCUS = None  # the shown tab takes the keys: the app focuses it
    BINDINGS = [
        Binding("1", "stage(1)", "stage 1", show=False),
        Binding("2", "stage(2)", "stage 2", show=False),
        Binding("3", "stage(3)", "stage 3", show=False),
        Binding("4", "stage(4)", "compare", show=False),
        Binding("plus,equals_sign", "speed(1)", "speed", key_display="+-"),
        Binding("minus", "speed(-1)", "slower", show=False),
        *SAMPLER_BINDINGS,
        # In help and the palette: the footer has no room left at 80 columns.
        Binding("c", "report_card", "report card", show=False),
        Binding("L", "scaling", "scaling", show=False),
        Binding("i", "save_screen", "screenshot", show=False),
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
        """``engine``: a running engine, whose first messages may be in ``received``; or None
        to start one with ``restart`` after the first frame (tui.start), as after a crash."""
        super().__init__()
        self.session = EngineSession(self, engine, restart)
        self.sampling = SamplerKeys(self)
        self.exports = Exports(self, self.session, save_dir)
        self.received = list(received)
        self.clock = clock
        self.scenario = ""
        self.speed: float | None = None
        self._draw_throttle = Throttle(self, DRAW_INTERVAL, self.draw_now)
        self.first = PretrainTab(id="stage-1")
        self.compare = CompareView(id="stage-4")
        self.later = [runs.view_class(v)(id="stage-2") for v in runs.views(2)]
        methods = [runs.view_class(v) for v in runs.views(3)]
        self.methods = [cls(id=f"{cls.runs[0]}-view") for cls in methods]
        self.tabs: list[StageTab] = [self.first, *self.later, *self.methods, self.compare]
        self.owner = {run: tab for tab in self.tabs for run in tab.runs}

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="main"):
            yield StageTabs()
            with ContentSwitcher(id="stages", initial="stage-1"):
                yield self.first
                yield from self.later
                yield MethodSwitcher(*self.methods, id="stage-3", initial=self.methods[0].id)
                yield self.compare
        yield TooSmall()
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        fit(self, self.size.width, self.size.height)
        self.session.install_signals()
        if self.session.engine is not None:
            self.session.start()
        self.first.focus()
        self.on_engine_messages(EngineMessages(self.received))
        self.show_status()
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        # The first screen (status, tabs, card, keys) is as quick as a bare Textual app's
        # (`trainterm bench-ui`); the panes come now (Lazy), and the engine, whose start-up
        # overlaps their mounting. tui.start turned the garbage collector off for the start:
        # what exists now lives as long as the app, so it is kept out of the sweeps.
        if self.session.engine is None:
            self.session.start()
        gc.freeze()
        gc.enable()

    def on_unmount(self) -> None:
        self.session.uninstall_signals()

    def on_resize(self, event) -> None:
        fit(self, event.size.width, event.size.height)

    def on_engine_messages(self, message: EngineMessages) -> None:
        if not self.is_running:
            return  # shutting down: the panes the messages would go to are being removed
        for m in message.batch:
            self._route(m)

    def _route(self, m: Any) -> None:
        match m:
            case p.EngineError(fatal=True):
                self.stopped(m.message)
            case p.ReportCard() | p.Exported() | p.EngineError() if self.exports.receive(m):
                pass
            case p.EngineError():
                self.notify(m.message, title="Trainer", severity="error", timeout=10)
            case p.ComparePrompts() | p.CompareColumn():
                self.compare.take(m)
            case p.LoopFigures():
                self.first.take(m)
            case _ if getattr(m, "stage", "") in self.owner:
                if isinstance(m, p.EngineReady) and m.stage == FIRST:
                    self.scenario = m.scenario
                self.owner[m.stage].take(m)
                for tab in self.tabs:  # what it means to the runs beside it (their parent's)
                    tab.heard(m)

    def on_engine_closed(self, _: EngineClosed) -> None:
        if not self.session.stopped:
            self.stopped(self.session.closed_reason())

    def stopped(self, reason: str) -> None:
        at_start = self.first.ready is None
        if self.session.failed(reason, at_start=at_start, restarted=self._restarted):
            self.first.session_stopped()
            self.show_status()

    def _restarted(self) -> None:
        self.first.session_restarted()
        if self.speed is not None:
            self.session.send(p.SetSpeed(self.speed))
        self.draw_now()

    @property
    def tab(self) -> StageTab:
        """The tab shown (tab 3: the view of its method shown)."""
        switcher = self.query_one("#stages", ContentSwitcher)
        shown = switcher.visible_content
        if isinstance(shown, MethodSwitcher):
            shown = shown.visible_content
        return shown if isinstance(shown, StageTab) else self.first

    def request_draw(self) -> None:
        self._draw_throttle.interval = PLAYING_INTERVAL if self.tab.playing() else DRAW_INTERVAL
        self._draw_throttle.request()

    def draw_now(self) -> None:
        self._draw_throttle.cancel()
        for tab in self.tabs:
            tab.draw()
        self.show_status()
        trim_render_caches()  # a long run must not fill Rich's and Textual's caches

    def show_status(self) -> None:
        line = StatusInfo(scenario=self.scenario, speed=speed_label(self.speed),
                          sampler=sampler_label(self.sampling.sampler))  # fmt: skip
        self.query_one(StatusBar).info = self.tab.status(line)

    @property
    def stage(self) -> int:
        return self.query_one(StageTabs).active

    def action_stage(self, number: int) -> None:
        if number == self.stage:
            return
        for tab in self.tabs:
            tab.left()
        self.query_one(StageTabs).active = number
        self.query_one("#stages", ContentSwitcher).current = f"stage-{number}"
        self.tab.focus()
        self.tab.activated()
        self.show_status()

    def on_stage_tabs_selected(self, message: StageTabs.Selected) -> None:
        self.action_stage(message.number)

    def action_speed(self, direction: int) -> None:
        self.speed = next_speed(self.speed, direction)
        self.session.send(p.SetSpeed(self.speed))
        self.show_status()

    def action_sampler(self, ladder: str, direction: int = 0) -> None:
        self.sampling.turn(ladder, direction)

    def action_report_card(self) -> None:
        self.exports.open_report_card(ready=self.first.state not in ("starting", "stopped"))

    def action_scaling(self) -> None:
        from tui.screens.scaling import ScalingScreen, source_of

        if not isinstance(self.screen, ScalingScreen):
            options = getattr(self.session.engine, "options", None)
            self.push_screen(ScalingScreen(source_of(options)))

    def action_save_screen(self) -> None:
        self.exports.screenshot(self.tab)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_driver_class(self):
        from tui.term.compact_styles import compact_driver_class

        return compact_driver_class(super().get_driver_class())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from palette_commands((self.tab, self))
        yield from super().get_system_commands(screen)
