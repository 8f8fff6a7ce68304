"""Shown instead of the panes when the terminal is smaller than the app can lay out."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

MIN_WIDTH, MIN_HEIGHT = 80, 24
TALL = 34  # rows from which the sample pane has room


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


def fit(app, width: int, height: int) -> None:
    """Mark the app too small (only this notice shows) or tall (the sample pane shows)."""
    app.set_class(too_small(width, height), "-too-small")
    app.set_class(height >= TALL, "-tall")
    app.query_one(TooSmall).refresh()


class TooSmall(Widget):
    DEFAULT_CSS = """
    TooSmall { width: 1fr; height: 1fr; content-align: center middle; }
    """

    def render(self) -> Text:
        width, height = self.app.size
        return Text(
            f"terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {width}×{height}",
            justify="center",
        )
