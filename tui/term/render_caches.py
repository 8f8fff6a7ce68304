"""Rich's and Textual's module-wide rendering caches, held to a budget in a long run.

Both memoise rendering work in LRU caches sized for any app: a segment cut at a cell
(``Segment._split_cells``, 16,384 entries), a style's escape codes (``Strip.render_ansi``,
16,384), the overlap of two regions (``Region.intersection``, 4,096). Keyed by a run of
text, a style or a region, they take a new entry for every new number, colour or changed
span the panes draw (the prediction pane's cropped context, "…" and all, is new every
batch), so in a run of tens of thousands of steps they keep filling: ~0.4–1 KB an entry
(measured with tracemalloc), some 25 MB at their caps, where the UI process is ~50 MB.
Watched in a live app they grew by about an entry a drawn step each, the soak's steady
growth. Past its budget a cache is emptied; it refills with what the screen draws now.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Region
from textual.strip import Strip

# (cache, most entries kept). Budgets well above what one frame uses, well under the caps.
BUDGETS = (
    (Segment._split_cells, 2048),
    (Strip.render_ansi, 1024),
    (Region.intersection, 1024),
)


def trim() -> int:
    """Empty each cache that is over its budget; how many were emptied."""
    emptied = 0
    for cache, budget in BUDGETS:
        if cache.cache_info().currsize > budget:
            cache.cache_clear()
            emptied += 1
    return emptied
