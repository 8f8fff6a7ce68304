"""Small formatting helpers and the loss colour scale, shared by the panes."""

from __future__ import annotations

import math
from functools import lru_cache

from rich.cells import cell_len
from rich.color import Color
from rich.style import Style

# Low loss green, a uniform guess red: the model's surprise at each token, at a glance.
_SCALE = ((0.0, (46, 160, 67)), (0.5, (214, 170, 40)), (1.0, (214, 48, 49)))


def count(n: float) -> str:
    """1234 → 1.2k, 2_500_000 → 2.5M."""
    n = float(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{n:.0f}"


def sci(x: float) -> str:
    """3e-3 → 3.0e-3 (short, stable width)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def loss_fraction(loss: float, max_loss: float) -> float:
    if not math.isfinite(loss) or max_loss <= 0:
        return 1.0
    return max(0.0, min(1.0, loss / max_loss))


def loss_rgb(loss: float, max_loss: float) -> tuple[int, int, int]:
    t = loss_fraction(loss, max_loss)
    for (t0, c0), (t1, c1) in zip(_SCALE, _SCALE[1:], strict=False):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return tuple(round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True))  # type: ignore[return-value]
    return _SCALE[-1][1]


def loss_style(loss: float, max_loss: float) -> Style:
    r, g, b = loss_rgb(loss, max_loss)
    light = 0.299 * r + 0.587 * g + 0.114 * b > 140
    return Style(
        bgcolor=Color.from_rgb(r, g, b), color=Color.from_rgb(*((0, 0, 0) if light else (255,) * 3))
    )


# Loss colours on screen are quantised to this many steps (+1): each step is one style, so
# neighbours share it, and the renderer's caches, which keep an entry per style, stay small
# (a colour per exact loss gave them a new entry nearly every step of a long run).
LOSS_LEVELS = 24


def loss_level(loss: float, max_loss: float) -> int:
    """0 (no loss) … LOSS_LEVELS (``max_loss`` and above, or not a number)."""
    if not math.isfinite(loss) or max_loss <= 0:
        return LOSS_LEVELS
    return round(min(1.0, loss / max_loss) * LOSS_LEVELS) if loss >= 0 else 0


@lru_cache(maxsize=LOSS_LEVELS + 1)
def level_style(level: int) -> Style:
    """The loss colour of a step from ``loss_level``."""
    return loss_style(min(level, LOSS_LEVELS) / LOSS_LEVELS, 1.0)


def token_display(text: str, chip: bool = True) -> str:
    """A token's text for a chip: line breaks as ↵, a token of only spaces as · (in running
    text, ``chip=False``, spaces stay spaces)."""
    text = text.replace("\\n", "↵").replace("\\t", "⇥").replace("\\r", "␍")
    if chip and text and not text.strip(" "):
        return "·" * len(text)
    return text


def bar(fraction: float, width: int) -> str:
    """A horizontal bar in eighths: bar(0.5, 4) == '██'."""
    if width <= 0:
        return ""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")


def fit(text: str, width: int) -> str:
    """Exactly `width` cells: padded with spaces, or cut with an ellipsis."""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + "…" + " " * (width - 1 - cell_len(out))
