"""w — why this token: one sample, and at a chosen position the next-token distribution as
the model gave it and as temperature, top-k and top-p left it, with the token drawn.

The sampler keys work here too: the app asks the engine again and hands the new sample
in, so a change shows at once (the same seed and model give the same sample)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from model.protocol import SampleText
from tui.sampler import SAMPLER_BINDINGS, label
from tui.screens.why_text import surprising, why_body

KEYS = "←→ token · t T, k K, u U change a column · d D seed · 0 greedy · esc close"


class WhyScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,w", "dismiss", "close"),
        Binding("left", "move(-1)", "token", show=False),
        Binding("right", "move(1)", "token", show=False),
        Binding("home", "move(-9999)", "first", show=False),
        Binding("end", "move(9999)", "last", show=False),
        # The App's sampler keys, here too: the view asks again as they change the sampler.
        *(Binding(b.key, f"app.{b.action}", b.description, show=False) for b in SAMPLER_BINDINGS),
    ]

    sample: reactive[SampleText] = reactive(None, init=False, always_update=True)  # type: ignore[arg-type]
    position: reactive[int] = reactive(0, init=False)

    def __init__(self, sample: SampleText) -> None:
        super().__init__()
        self.set_reactive(WhyScreen.sample, sample)
        self.set_reactive(WhyScreen.position, surprising(sample))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -why"):
            yield Static(self._title(), classes="dialog-title", id="why-title")
            with VerticalScroll():
                yield Static(self._body(), id="why-body")
            yield Static(KEYS, classes="dialog-keys")

    def watch_sample(self, sample: SampleText) -> None:
        # The same position in the new sample, if it is as long; else the one worth a look.
        if not self.position < len(sample.choices):
            self.position = surprising(sample)
        self._redraw()

    def watch_position(self) -> None:
        self._redraw()

    def action_move(self, delta: int) -> None:
        last = max(0, len(self.sample.choices) - 1)
        self.position = max(0, min(last, self.position + delta))

    def _redraw(self) -> None:
        if self.is_mounted:
            self.query_one("#why-title", Static).update(self._title())
            self.query_one("#why-body", Static).update(self._body())

    def _title(self) -> str:
        s = self.sample
        sampler = f" · {label(s.sampler)}" if s.sampler else ""
        return f"Why this token · step {s.step}{sampler}"

    def _body(self):
        # On a short terminal fewer candidates leave room for the words on why.
        return why_body(self.sample, self.position, 9 if self.app.size.height >= 34 else 6)
