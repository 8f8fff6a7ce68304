"""A pane drawn as a list of lines, where only the cells that changed are repainted.

Textual writes every line of a widget that refreshes. The panes here change ten times a
second while only some of their lines do (the model pane's header and optimizer never
do), and of a changed line often only a few cells (a number, the tip of a bar). So each
pane builds its lines, compares them with the last ones, and marks dirty only the run of
cells from the first difference to the last on each line: fewer bytes to the terminal,
less work for the compositor.

Textual also repaints a whole widget whenever its border title is assigned, even the same
text: ``set_title`` assigns only a changed one.
"""

from __future__ import annotations

from rich.cells import cell_len
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


def set_title(widget: Widget, title: str | None = None, subtitle: str | None = None) -> None:
    """Set a border title or subtitle only if it differs from the one shown (a title with
    markup in it may compare unequal and repaint anyway: harmless)."""
    if title is not None and widget.border_title != title:
        widget.border_title = title
    if subtitle is not None and widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """One entry per cell; a wide character's second cell is ("", style)."""
    cells: list[tuple[str, Style | None]] = []
    for text, style, _ in strip:
        for ch in text:
            width = cell_len(ch)
            if width == 0 and cells:
                cells[-1] = (cells[-1][0] + ch, cells[-1][1])
                continue
            cells.append((ch, style))
            if width == 2:
                cells.append(("", style))
    return cells


def changed_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The cells [start, end) in which two lines differ; None when they look the same."""
    if old == new:
        return None
    a, b = _cells(old), _cells(new)
    n = min(len(a), len(b))
    start = next((i for i in range(n) if a[i] != b[i]), n)
    if start == n and len(a) == len(b):
        return None
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    end = max(end_a, end_b)
    # Never split a wide character: its two cells are repainted together.
    while start > 0 and (
        (start < len(a) and a[start][0] == "") or (start < len(b) and b[start][0] == "")
    ):
        start -= 1
    while (end < len(a) and a[end][0] == "") or (end < len(b) and b[end][0] == ""):
        end += 1
    return start, end


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
        regions = []
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new):
                regions.append(Region(0, y, width, 1))
            elif span := changed_span(old[y], new[y]):
                regions.append(Region(span[0], y, span[1] - span[0], 1))
        self._strips = new
        if regions:
            self.refresh(*regions)

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
