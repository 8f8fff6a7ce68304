"""What every tab's view is: it owns its runs (their state, drawn from their engine
messages), its keys (bindings here and in subclasses, shown in the footer while it is the
tab shown, because the App focuses it), its drawing and its part of the status line.

The App routes each engine message to the tab that owns its run (``runs``), draws every
tab at most ten times a second, and asks the shown tab for the status line. The engine
session, the sampler and the exports are the App's plain objects, used from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.lazy import Lazy
from textual.message import Message
from textual.widget import MountError, Widget

from model import protocol as p
from tui.bounded_series import LossSeries, RateMeter

if TYPE_CHECKING:
    from tui.app import TrainTermApp
    from tui.exports import Exports
    from tui.sampler_keys import SamplerKeys
    from tui.session import EngineSession
    from tui.widgets.common.status import StatusInfo


class LazyPanes(Lazy):
    """Textual's Lazy, except that a tab the app closes before its first frame (q pressed
    at once) is left alone: Lazy would still mount into it, and fail."""

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        parent = self.parent
        if parent is None:
            return

        async def mount() -> None:
            try:
                await parent.mount(self._replace_widget, after=self)
            except MountError:
                return  # the tab is being removed: the app is closing
            await self.remove()

        self.call_after_refresh(mount)


# The keys that act on a pane rather than on the run.
PANE_ACTIONS = frozenset({"cursor", "attention", "side", "method", "beta", "compare_type"})


class Panes(Vertical):
    """A tab's panes, composed by the tab (``compose_panes``) once they are mounted: Lazy
    mounts them after the first frame, so the first screen is drawn before any pane is
    imported, styled or laid out (`trainterm bench-ui --first-screen`)."""

    DEFAULT_CSS = "Panes { height: 1fr; }"

    class Mounted(Message):
        pass

    def __init__(self, tab: StageTab) -> None:
        super().__init__(classes="-panes")
        self.tab = tab

    def compose(self) -> ComposeResult:
        yield from self.tab.compose_panes()

    def on_mount(self) -> None:
        self.post_message(self.Mounted())


class StageTab(Vertical, can_focus=True):
    """A tab. Subclasses say which engine runs they own and how their keys act, and compose
    their panes; until those are there, the runs' messages wait here, in order."""

    BINDINGS = [
        Binding("space", "play_pause", "play"),
        Binding("n", "step", "step"),
        Binding("left", "cursor(-1)", "token", key_display="←→"),
        Binding("right", "cursor(1)", "token", show=False),
        Binding("g", "sample", "sample"),
        Binding("w", "why", "why this token", show=False),
        Binding("s", "save", "save"),
        Binding("x", "export", "export", show=False),
        Binding("r", "reset", "reset", show=False),  # in help and the palette; 80 columns are full
    ]
    DEFAULT_CSS = "StageTab { height: 1fr; }"

    number = 0
    runs: tuple[str, ...] = ()  # the engine's names of the runs this tab owns

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ready: p.EngineReady | None = None
        self.latest: p.StepReport | None = None
        self.series = LossSeries()
        self.rate = RateMeter()
        self.state = "waiting"
        self.panes_ready = False
        self._early: list[Any] = []  # messages that came before the panes

    def compose(self) -> ComposeResult:
        yield from self.compose_head()
        yield LazyPanes(Panes(self))

    def compose_head(self) -> ComposeResult:
        """What the first frame shows of this tab (tab 1: its card line)."""
        return iter(())

    def compose_panes(self) -> ComposeResult:
        return iter(())

    def on_panes_mounted(self, message: Panes.Mounted) -> None:
        message.stop()
        self.panes_ready = True
        self.panes_mounted()
        early, self._early = self._early, []
        for m in early:
            self.receive(m)
        self.draw()
        self.host.show_status()

    def panes_mounted(self) -> None:
        """The panes are there: give them what they need before the first message."""

    def take(self, m: Any) -> None:
        """An engine message for this tab (the App's routing): kept until the panes exist."""
        if self.panes_ready:
            self.receive(m)
        else:
            self._early.append(m)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A key that would move or show something in a pane waits for the panes: greyed out.
        if action in PANE_ACTIONS and not self.panes_ready:
            return None
        return True

    # --- what the App's plain objects are to a tab ---------------------------------------

    @property
    def host(self) -> TrainTermApp:
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> EngineSession:
        return self.host.session

    @property
    def sampling(self) -> SamplerKeys:
        return self.host.sampling

    @property
    def exports(self) -> Exports:
        return self.host.exports

    def send(self, command: Any) -> None:
        self.session.send(command)

    # --- what the App asks of every tab ---------------------------------------------------

    def receive(self, m: Any) -> None:
        """One engine message of a run this tab owns."""

    def draw(self) -> None:
        """Show the runs' state in the panes (at most ten times a second)."""

    def status(self, line: StatusInfo) -> StatusInfo:
        """The status line while this tab is shown: ``line`` holds the app's parts."""
        return line

    def shown_run(self) -> str:
        """The engine's name of the run shown now: what Activate names, and exports."""
        return self.runs[0] if self.runs else ""

    def shown_report(self) -> p.StepReport | None:
        """The report whose step the panes show."""
        return self.latest

    def activated(self) -> None:
        """The tab is shown; its keys are live."""
        self.send(p.Activate(self.shown_run()))

    def left(self) -> None:
        """Another tab is shown: the engine pauses the run of a tab that is left."""
        if self.state == "playing":
            self.state = "paused"

    def heard(self, m: Any) -> None:
        """A message of another tab's run (every tab hears every run's): what it means here,
        e.g. that the run this tab's starts from trained a step."""

    def playing(self) -> bool:
        return self.state == "playing"

    def sample_on_screen(self) -> bool:
        """Does the tab hold a sample the sampler drew (so a sampler key asks again)?"""
        return False

    def resample(self) -> bool:
        """Ask for a sample with the sampler now; False when there is no model to ask."""
        return False

    # --- the keys every tab has -----------------------------------------------------------

    def not_trainable(self) -> str:
        """Why space and n cannot train now ("" when they can)."""
        return ""

    def can_train(self) -> bool:
        why = self.not_trainable()
        if why:
            self.notify(why, timeout=5)
        return not why

    def action_play_pause(self) -> None:
        if self.state == "playing":
            self.send(p.Pause())
            self.state = "paused"
        elif self.can_train():
            self.send(p.Play())
            self.state = "playing"
        self.rate.clear()
        self.host.show_status()

    def action_step(self) -> None:
        if self.state == "playing" or self.can_train():
            self.send(p.Step(1))
            self.state = "paused"
            self.rate.clear()
            self.host.show_status()

    def action_cursor(self, delta: int) -> None:
        pass

    def action_sample(self) -> None:
        pass

    def action_why(self) -> None:
        """Sample now and open the view on it. The same seed and model give the same
        sample again, so asking afresh costs a moment and always matches the status line."""
        if self.resample():
            self.sampling.why_wanted = True
        else:
            self.notify("this tab has no model yet to sample", timeout=4)

    def action_save(self) -> None:
        pass

    def action_export(self) -> None:
        self.exports.batch(self.shown_run(), self.shown_report())

    def action_reset(self) -> None:
        pass
