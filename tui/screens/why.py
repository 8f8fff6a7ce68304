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
from tui.sampler import label
from tui.why_view import surprising, why_body

KEYS = "←→ token · t T, k K, u U change a column · d D seed · 0 greedy · esc close"


def _app_binding(key: str, action: str) -> Binding:
    return Binding(key, f"app.{action}", action, show=False)


class WhyScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,w", "dismiss", "close"),
        Binding("left", "move(-1)", "token", show=False),
        Binding("right", "move(1)", "token", show=False),
        Binding("home", "move(-9999)", "first", show=False),
        Binding("end", "move(9999)", "last", show=False),
        _app_binding("t", "temperature(1)"),
        _app_binding("T,shift+t", "temperature(-1)"),
        _app_binding("k", "top_k(1)"),
        _app_binding("K,shift+k", "top_k(-1)"),
        _app_binding("u", "top_p(1)"),
        _app_binding("U,shift+u", "top_p(-1)"),
        _app_binding("d", "seed(1)"),
        _app_binding("D,shift+d", "seed(-1)"),
        _app_binding("0", "greedy"),
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
