"""A corner of one real weight matrix as coloured cells, beside what the last step changed.

"The connection strengths change": blue cells are negative weights, red positive; on the
right, the same cells coloured by this step's change, so the update is something you see.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from model.protocol import WeightPatch
from tui.widgets.common.lines import LinesWidget, set_title

DIM = Style(dim=True)


# Shades by size, so the grid still reads where colour is off (NO_COLOR, 16 colours).
SHADES = ("··", "░░", "▒▒", "▓▓", "██")


def cell(value: float, scale: float) -> tuple[str, Style]:
    """Blue for negative, red for positive, pale for zero; |value| = scale is full colour."""
    t = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
    # Nine levels: neighbours of one level share a style and are drawn as one run, which
    # keeps the terminal traffic of a redraw small.
    t = round(t * 4) / 4
    if t >= 0:
        rgb = (235, round(235 - 190 * t), round(235 - 200 * t))
    else:
        rgb = (round(235 + 200 * t), round(235 + 140 * t), 235)
    colour = Color.from_rgb(*rgb)
    shade = SHADES[min(len(SHADES) - 1, int(abs(t) * len(SHADES)))]
    # Same colour in front and behind: a solid cell in colour, a shade glyph without it.
    return shade, Style(color=colour, bgcolor=colour)


def patch_text(patch: WeightPatch) -> Text:
    """Two grids side by side: the weights now, and this step's change to them."""
    w_scale = max((abs(v) for row in patch.values for v in row), default=0.0)
    d_scale = max((abs(v) for row in patch.deltas for v in row), default=0.0)
    cols = len(patch.values[0]) if patch.values else 0
    text = Text(no_wrap=True)
    text.append("weights".ljust(cols * 2 + 2), DIM)
    text.append("change this step\n", DIM)
    for values, deltas in zip(patch.values, patch.deltas, strict=True):
        for v in values:
            text.append(*cell(v, w_scale))
        text.append("  ")
        for d in deltas:
            text.append(*cell(d, d_scale))
        text.append("\n")
    text.append(f"±{w_scale:.3f}".ljust(cols * 2 + 2), DIM)
    text.append(f"±{d_scale:.1e}", DIM)
    return text


class WeightPatchView(LinesWidget):
    """Shows the patch of the layer named by `layer`, from the latest step's figures.

    Drawn line by line: the weights themselves mostly keep their shade from one step to the
    next, so usually only the change grid on the right is repainted."""

    patches: reactive[tuple[WeightPatch, ...]] = reactive((), repaint=False)
    layer_name: reactive[str] = reactive("Block 1", repaint=False)

    def current(self) -> WeightPatch | None:
        for patch in self.patches:
            if patch.layer == self.layer_name:
                return patch
        return None

    def watch_patches(self) -> None:
        self._titles()

    def watch_layer_name(self) -> None:
        self._titles()

    def _titles(self) -> None:
        patch = self.current()
        set_title(self, f"Weights · {self.layer_name}", patch.matrix if patch else "")
        self.redraw()

    def build(self) -> list[Text]:
        return self.render().split("\n")

    def render(self) -> Text:
        patch = self.current()
        if patch is None:
            return Text("the weights appear after the first step", DIM)
        return patch_text(patch)
