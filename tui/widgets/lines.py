"""A pane drawn as a list of lines, where only the lines that changed are repainted.

Textual writes every line of a widget that refreshes. The panes here change ten times a
second while only some of their lines do (the model pane's header and optimizer never
do), so each pane builds its lines, compares them with the last ones, and marks only the
changed lines dirty: fewer bytes to the terminal, less work for the compositor.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


def text_strip(text: Text, width: int, base: Style, console) -> Strip:
    """One line of Rich text as a strip of exactly ``width`` cells on the pane's style."""
    text = text.copy()
    text.no_wrap = True
    text.end = ""
    text.truncate(width, overflow="ellipsis")
    segments = list(text.render(console))
    strip = Strip(segments).apply_style(base).simplify()
    return strip.adjust_cell_length(width, base)


class LinesWidget(Widget):
    """Subclasses implement ``build() -> list[Text | Strip]`` and call ``redraw()`` when
    their data changes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._strips: list[Strip] = []
        self._built_for: Size | None = None
        self._redraw_pending = False

    def build(self) -> list[Text | Strip]:  # pragma: no cover - abstract
        raise NotImplementedError

    def lines(self) -> list[str]:
        """The plain text of every line, as shown (for tests and people)."""
        self._ensure()
        return [strip.text.rstrip() for strip in self._strips]

    def redraw(self) -> None:
        """Rebuild after the current handler (several attributes set in one go draw once)."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_next(self._redraw_now)

    def _redraw_now(self) -> None:
        self._redraw_pending = False
        if not self.is_mounted or self._built_for is None:
            self.refresh()
            return
        old = self._strips
        new = self._build_strips()
        width = self.size.width
        changed = [
            y
            for y in range(max(len(old), len(new)))
            if y >= len(old) or y >= len(new) or old[y] != new[y]
        ]
        self._strips = new
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _build_strips(self) -> list[Strip]:
        width, height = self.size
        self._built_for = self.size
        if width <= 0 or height <= 0:
            return []
        base = self.rich_style
        console = self.app.console
        out = []
        for line in self.build()[:height]:
            if isinstance(line, Strip):
                out.append(line.adjust_cell_length(width, base))
            else:
                out.append(text_strip(line, width, base, console))
        return out

    def _ensure(self) -> None:
        if self._built_for != self.size:
            self._strips = self._build_strips()

    def on_resize(self) -> None:
        self._built_for = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._built_for = None

    def render_line(self, y: int) -> Strip:
        self._ensure()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)
