"""What keeps the screen's terminal traffic small: compacted style changes that draw the
same cells, and panes that repaint only what changed."""

import random
import re

from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.term.compact_styles import compact
from tui.widgets.common.lines import changed_span

ATTRS = ("bold", "dim", "italic", "underline", "reverse", "strike")
OFF = {"22": ("bold", "dim"), "23": ("italic",), "24": ("underline",), "27": ("reverse",)}
OFF["29"] = ("strike",)
ON = {"1": "bold", "2": "dim", "3": "italic", "4": "underline", "7": "reverse", "9": "strike"}


def cells(data: str) -> dict[tuple[int, int], tuple]:
    """A reference terminal: what each cell shows, by the SGR rules, from a screen's output."""
    pen: dict = {}
    x = y = 0
    shown = {}
    for m in re.finditer(r"\x1b\[([\d;]*)m|\x1b\[(\d+);(\d+)H|\n|[^\x1b\n]", data):
        if m.group(2):
            y, x = int(m.group(2)) - 1, int(m.group(3)) - 1
        elif m.group(0) == "\n":
            y, x = y + 1, 0
        elif m.group(1) is not None or m.group(0).startswith("\x1b"):
            codes = (m.group(1) or "0").split(";")
            i = 0
            while i < len(codes):
                c = codes[i]
                if c in ("0", ""):
                    pen = {}
                elif c in ON:
                    pen[ON[c]] = True
                elif c in OFF:
                    for name in OFF[c]:
                        pen.pop(name, None)
                elif c in ("38", "48"):
                    n = 3 if codes[i + 1] == "5" else 5
                    pen["fg" if c == "38" else "bg"] = tuple(codes[i : i + n])
                    i += n
                    continue
                elif c in ("39", "49"):
                    pen.pop("fg" if c == "39" else "bg", None)
                elif 30 <= int(c) <= 37 or 90 <= int(c) <= 97:
                    pen["fg"] = (c,)
                elif 40 <= int(c) <= 47 or 100 <= int(c) <= 107:
                    pen["bg"] = (c,)
                i += 1
        else:
            shown[(y, x)] = (m.group(0), tuple(sorted(pen.items())))
            x += 1
    return shown


def random_frame(rng: random.Random, console: Console) -> str:
    out = []
    for _ in range(rng.randint(1, 6)):
        out.append(f"\x1b[{rng.randint(1, 5)};{rng.randint(1, 30)}H")
        for _ in range(rng.randint(1, 12)):
            style = Style(
                color=rng.choice([None, Color.from_rgb(*(rng.randrange(256) for _ in "rgb"))]),
                bgcolor=rng.choice([None, Color.from_ansi(rng.randrange(256))]),
                **{a: rng.choice([None, True, False]) for a in ATTRS},
            )
            out.append(console._render_buffer([Segment(rng.choice("ab│ █"), style)]))
    return "".join(out)


def test_compacted_output_draws_the_same_cells():
    rng = random.Random(4)
    for system in ("256", "truecolor", "standard"):
        console = Console(color_system=system, force_terminal=True)
        for _ in range(300):
            frame = random_frame(rng, console)
            assert cells(compact(frame)) == cells(frame), repr(frame)


def test_compacting_a_row_of_chips_halves_it():
    console = Console(color_system="256", force_terminal=True)
    chips = [
        Segment(f"tok{i}│", Style(color="black", bgcolor=Color.from_rgb(40 + 9 * i, 160, 60)))
        for i in range(20)
    ]
    frame = console._render_buffer(chips)
    assert len(compact(frame)) < 0.7 * len(frame)


def test_unknown_sequences_pass_through_with_the_pen_reset():
    frame = "\x1b[1mab\x1b[0m\x1b[?25l\x1b[1mcd\x1b[0m"
    assert "\x1b[?25l" in compact(frame)
    assert cells(compact(frame)) == cells(frame)


def strip(*parts: tuple[str, str]) -> Strip:
    return Strip([Segment(text, Style.parse(style)) for text, style in parts])


def test_changed_span_is_the_run_from_first_to_last_difference():
    old = strip(("Embed ", "bold"), ("████ ", "cyan"), ("6.6e-3 0.64", ""))
    new = strip(("Embed ", "bold"), ("█████", "cyan"), ("6.6e-3 0.71", ""))
    assert changed_span(old, new) == (10, 22)
    assert changed_span(old, old) is None
    # A style change alone is a change; a wide character is never split.
    assert changed_span(strip(("ab", "")), strip(("ab", "bold"))) == (0, 2)
    assert changed_span(strip(("界x", "")), strip(("界y", ""))) == (2, 3)
    assert changed_span(strip(("a界", "")), strip(("a世", ""))) == (1, 3)
