"""Shorter terminal output: each style change says only what changed.

Rich, and so Textual, writes every run of text as a full style, the text and a reset
(``ESC[0m``). Between two chips that differ only in background that is ~26 bytes where
``ESC[48;5;142m`` (11) says the same. ``compact`` rewrites a frame that way: it follows the
terminal's pen (colours and attributes) from style to style and emits the difference, and
drops a reset followed by the very style that was in force. Anything it does not
understand (another escape sequence, an unknown SGR code) resets the pen first, so the
result is what the original draws, only shorter.
"""

from __future__ import annotations

import re

CSI = re.compile(r"\x1b\[([0-9;]*)m|\x1b\[[0-9;]*H|\x1b[^\x1b]*?[A-Za-z~]|[^\x1b]+", re.S)
# SGR attribute codes → (name, the code that turns it off).
ATTRIBUTES = {
    "1": ("bold", "22"),
    "2": ("dim", "22"),
    "3": ("italic", "23"),
    "4": ("underline", "24"),
    "5": ("blink", "25"),
    "7": ("reverse", "27"),
    "8": ("conceal", "28"),
    "9": ("strike", "29"),
}


def parse(params: str) -> dict[str, str] | None:
    """An absolute SGR (as Rich writes them) as {channel: value}; None if not understood."""
    pen: dict[str, str] = {}
    codes = params.split(";") if params else ["0"]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("0", ""):
            pen.clear()
        elif code in ATTRIBUTES:
            pen[ATTRIBUTES[code][0]] = code
        elif code in ("38", "48") and i + 1 < len(codes):
            span = 3 if codes[i + 1] == "5" else 5 if codes[i + 1] == "2" else 0
            if not span or i + span > len(codes):
                return None
            pen["fg" if code == "38" else "bg"] = ";".join(codes[i : i + span])
            i += span
            continue
        elif code.isdigit() and (30 <= int(code) <= 37 or 90 <= int(code) <= 97):
            pen["fg"] = code
        elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
            pen["bg"] = code
        else:
            return None
        i += 1
    return pen


def change(old: dict[str, str], new: dict[str, str]) -> str:
    """The SGR parameters that take the pen from ``old`` to ``new``."""
    if not new:
        return "0"
    out = []
    # bold and dim share their off code (22): turning one off re-asserts the other.
    intensity_off = any(a in old and a not in new for a in ("bold", "dim"))
    if intensity_off:
        out.append("22")
    for name, (code, off) in ((n, (c, o)) for c, (n, o) in ATTRIBUTES.items()):
        if name in ("bold", "dim"):
            if name in new and (intensity_off or name not in old):
                out.append(code)
        elif name in old and name not in new:
            out.append(off)
        elif name in new and name not in old:
            out.append(code)
    for channel, default in (("fg", "39"), ("bg", "49")):
        if old.get(channel) != new.get(channel):
            out.append(new.get(channel, default))
    full = ";".join(["0", *(v for v in new.values())])
    delta = ";".join(out)
    return delta if len(delta) < len(full) else full


def compact(data: str) -> str:
    out: list[str] = []
    pen: dict[str, str] | None = None  # None: unknown (the first style is absolute)
    wanted: dict[str, str] | None = None  # a style not yet written (it may be undone)
    for match in CSI.finditer(data):
        piece = match.group(0)
        params = match.group(1)
        if params is not None:
            parsed = parse(params)
            if parsed is None:
                out.append(piece)
                pen, wanted = None, None
                continue
            if params in ("0", ""):
                wanted = {}
                continue
            # Rich writes each style from a reset: absolute, not on top of the pen.
            wanted = parsed
            continue
        is_move = piece.startswith("\x1b[") and piece.endswith("H")
        if piece.startswith("\x1b") and not is_move:
            # Some other sequence: leave the terminal as the original would have.
            if pen != {}:
                out.append("\x1b[0m")
            out.append(piece)
            pen, wanted = {}, None
            continue
        if is_move:
            out.append(piece)  # moving does not paint: the pen can wait
            continue
        if wanted is not None and wanted != pen:
            params = change(pen, wanted) if pen is not None else ";".join(["0", *wanted.values()])
            out.append(f"\x1b[{params}m")
            pen = wanted
        wanted = None
        out.append(piece)
    if pen != {}:
        out.append("\x1b[0m")
    return "".join(out)


def compact_driver_class(base: type) -> type:
    """``base`` (Textual's terminal driver) writing compacted frames; a driver other than
    Linux's (Windows, the web, TEXTUAL_DRIVER) as it is."""
    if base.__name__ != "LinuxDriver":
        return base

    class CompactDriver(base):
        def write(self, data: str) -> None:
            super().write(compact(data))

    return CompactDriver
