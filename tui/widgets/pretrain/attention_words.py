"""The attention pane's lines: each head's measured shares and role, a heat row of the
context it looked at from the cursor, and in words whether a previous-token head has formed.

Pure functions from the step's figures to rich Text, so they are tested without a screen.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from rich.text import Text

from model.head_roles import ROLE_SHARE, HeadAt, chance_previous, role, strongest_previous
from model.protocol import HeadShares, LoopFigures
from tui.widgets.common.formatting import token_display
from tui.widgets.pretrain.loop_words import head_row, heads_in

DIM = Style(dim=True)
BOLD = Style(bold=True)
# A head's weight on a token, in fixed steps (one style each: the renderer's caches keep an
# entry per style). Uneven on purpose: an even spread over a long row is a few per cent a
# token, and that must read as faint, not as nothing.
WEIGHT_STEPS = (0.04, 0.1, 0.2, 0.35, 0.5, 0.7)
# The strongest token is put first, ahead of the recent context, only from this weight on:
# below it, on a row of ~100 tokens, the strongest of a near-even spread is noise.
LEAD = 0.1


def weight_level(weight: float) -> int:
    """0 (under 4 %) … len(WEIGHT_STEPS) (70 % and more)."""
    return sum(weight >= step for step in WEIGHT_STEPS)


@lru_cache(maxsize=len(WEIGHT_STEPS) + 1)
def weight_style(level: int) -> Style:
    """Orange, brighter with more weight; bold from 35 % and reversed from 50 %, so the
    strong cells still stand out where colour is off (NO_COLOR)."""
    if level == 0:
        return Style()
    t = level / len(WEIGHT_STEPS)
    back = Color.from_rgb(round(60 + 195 * t), round(30 + 110 * t), 0)
    fore = Color.from_rgb(*((0, 0, 0) if t > 0.6 else (255, 255, 255)))
    strong = level >= 4
    return Style(color=fore, bgcolor=back, bold=strong, reverse=level >= 5)


def where(f: LoopFigures | None, selected: int) -> tuple[int, int, int]:
    """(block, head, heads in the block) of the selected head, counted through every block:
    0 is block 1's head 1, n_head is block 2's head 1."""
    if f is None or not f.head_attention:
        return 0, 0, 0
    heads = heads_in(f, 0)
    if heads == 0:
        return 0, 0, 0
    total = heads * len(f.head_attention)
    selected %= total
    return selected // heads, selected % heads, heads


def head_label(h: int, shares: HeadShares, selected: bool, width: int) -> Text:
    """``▸H2 prev 62% sink  2% copy  1%  previous-token``: the role's share stands out, and
    its name follows where the width has room for it."""
    named = role(shares)
    line = Text("▸" if selected else " ", BOLD)
    line.append(f"H{h + 1}", BOLD if selected else Style())
    for field, name in (("previous", "prev"), ("sink", "sink"), ("copying", "copy")):
        value = getattr(shares, field)
        earned = value > ROLE_SHARE
        line.append(f" {name} ", DIM)
        line.append(f"{value:>3.0%}", Style(bold=True, reverse=True) if earned else Style())
    if named and cell_len(line.plain) + 2 + len(named) <= width:
        line.append(f"  {named}", BOLD)
    return line


def heat_row(weights: list[float], texts: tuple[str, ...], width: int) -> Text:
    """The context the query looked at, ending at the query (underlined), each token shaded
    by its weight. As many tokens as the width holds, nearest first; the strongest token
    comes first with its share when it lies further back than that."""
    line = Text(no_wrap=True, end="")
    if not weights:
        return line
    query = len(weights) - 1
    chips = [token_display(t, chip=False) for t in texts[: len(weights)]]
    chips += ["?"] * (len(weights) - len(chips))
    strongest = max(range(len(weights)), key=weights.__getitem__)
    start, used = query + 1, 0
    while start > 0 and used + cell_len(chips[start - 1]) <= width:
        start -= 1
        used += cell_len(chips[start])
    if strongest < start and weights[strongest] >= LEAD:
        # The strongest first, then as much of the recent context as still fits.
        lead = f"{weights[strongest]:.0%}…"
        chip = chips[strongest]
        room = width - cell_len(chip) - cell_len(lead)
        line.append(chip, weight_style(weight_level(weights[strongest])))
        line.append(lead, DIM)
        start, used = query + 1, 0
        while start > strongest + 1 and used + cell_len(chips[start - 1]) <= room:
            start -= 1
            used += cell_len(chips[start])
    for j in range(start, query + 1):
        style = weight_style(weight_level(weights[j]))
        if j == query:
            style = style + Style(underline=True)
        line.append(chips[j], style)
    return line


def formed_words(formed: HeadAt | None, f: LoopFigures | None, short: bool) -> str:
    """In words, whether a previous-token head has formed: when and which, or how far the
    nearest one is from it, against the share an even spread would give."""
    if formed is not None:
        if short:
            return (
                f"A previous-token head formed at step {formed.step}: block {formed.block + 1} "
                f"head {formed.head + 1}, {formed.share:.0%} on the token before."
            )
        return (
            f"A previous-token head formed at step {formed.step}: block {formed.block + 1} "
            f"head {formed.head + 1} put {formed.share:.0%} of its weight on the token just "
            "before. A later layer can now read, at each position, what came one step "
            "earlier: the first half of how a model copies a pattern it saw before."
        )
    best = strongest_previous(f) if f is not None else None
    if best is None:
        return "Each head's weights appear after the first step."
    chance = chance_previous(len(f.row_ids))
    if short:
        return (
            f"No previous-token head yet (over {ROLE_SHARE:.0%} on the token before). "
            f"Closest: B{best.block + 1} H{best.head + 1}, {best.share:.0%}; an even "
            f"spread: {chance:.0%}."
        )
    return (
        f"No previous-token head yet: none puts over {ROLE_SHARE:.0%} of its weight on the "
        f"token just before. The closest, block {best.block + 1} head {best.head + 1}, puts "
        f"{best.share:.0%} there; a head that spread its weight evenly would put {chance:.0%}."
    )


def words_lines(formed: HeadAt | None, f: LoopFigures | None, width: int, rows: int) -> list[Text]:
    """The words, wrapped: the long sentence if it fits in ``rows``, else the short one."""
    style = BOLD if formed is not None else DIM
    for short in (False, True):
        wrapped = textwrap.wrap(formed_words(formed, f, short), max(8, width))
        if len(wrapped) <= rows or short:
            return [Text(line, style) for line in wrapped[: max(0, rows)]]
    return []


def pane_lines(
    f: LoopFigures | None, selected: int, position: int, formed: HeadAt | None, width: int,
    height: int,
) -> list[Text]:  # fmt: skip
    """Every line of the pane, fitted to ``height``: the selected block's heads (shares, then
    a heat row each while there is room; else a window of heads around the selected one),
    the selected head's strongest tokens and a legend where there are rows to spare, the
    words last."""
    block, head, heads = where(f, selected)
    if f is None or heads == 0:
        return words_lines(None, None, width, height)
    words_rows = 3 if height >= 2 * heads + 3 else 2 if height >= heads + 3 else 1
    room = max(0, height - words_rows)
    shares = f.head_shares[block] if block < len(f.head_shares) else ()
    per_head = 2 if room >= 2 * heads else 1
    shown = list(range(heads))
    if per_head == 1 and room < heads + 1:  # one row each, and the selected head's heat row
        first = max(0, min(head - (room - 2) // 2, heads - max(1, room - 1)))
        shown = list(range(first, min(heads, first + max(1, room - 1))))
    lines: list[Text] = []
    for h in shown:
        value = shares[h] if h < len(shares) else HeadShares(0.0, 0.0, 0.0)
        lines.append(head_label(h, value, h == head, width))
        if per_head == 2 or h == head:
            weights = head_row(f, block, h, position)
            lines.append(heat_row(weights, f.row_texts, width))
    lines = lines[: max(0, height - words_rows)]
    words = words_lines(formed, f, width, height - len(lines))
    if per_head == 2 and height - len(lines) - len(words) >= 5:
        # A tall view (the one a opens at 80×24): the selected head's strongest tokens, and
        # what the columns count.
        weights = head_row(f, block, head, position)
        rows = min(1 + STRONGEST, height - len(lines) - len(words) - 1)
        lines += [Text(""), *strongest_lines(weights, f.row_texts, head, width, rows)]
        legend = [Text(line, DIM) for line in textwrap.wrap(LEGEND, max(8, width))]
        if height - len(lines) - len(words) >= len(legend) + 1:
            lines += [Text(""), *legend]
        if height - len(lines) - len(words) >= 1:
            lines.append(Text(""))
    return lines + words


STRONGEST = 3
LEGEND = (
    "prev: weight on the token just before · sink: on the first token, where a head parks "
    "unused weight · copy: on earlier copies of the same token. Averaged over the row; a "
    "majority names the role."
)


def strongest_lines(
    weights: list[float], texts: tuple[str, ...], head: int, width: int, rows: int
) -> list[Text]:
    """The selected head's strongest tokens, strongest first, with where they stand."""
    if not weights or rows <= 0:
        return []
    order = sorted(range(len(weights)), key=weights.__getitem__, reverse=True)
    lines = [Text(f"head {head + 1}, strongest first:", BOLD)]
    for j in order[: rows - 1]:
        chip = token_display(texts[j]) if j < len(texts) else "?"
        line = Text(f"  {chip:<12} @{j:<4}", weight_style(weight_level(weights[j])))
        line.append(f" {weights[j]:>4.0%} ")
        line.append("█" * max(0, round(weights[j] * max(0, width - 26))), DIM)
        lines.append(line)
    return lines
