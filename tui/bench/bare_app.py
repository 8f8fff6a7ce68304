"""The yardstick of `trainterm bench-ui`'s first frame: a bare Textual app, launched as the
app is (``python -m tui.bench.bare_app``, the same interpreter, environment and terminal), whose
first screen is a header, three lines of text and a footer."""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static


class BareApp(App[None]):
    BINDINGS = [Binding("q", "quit", "quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("A bare Textual app.\nIts first frame is the yardstick.\nq quits.")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
