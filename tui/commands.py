"""The command palette (ctrl+p): every action of the App's keys, by name, with its key.

The commands are the App's bindings, in their order, with the words of tui.keys.PALETTE;
each runs its binding's action as the key does (so it waits, as a key does, until the
later tabs are there)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.app import SystemCommand

from tui import keys


def palette_commands(app) -> Iterator[SystemCommand]:
    for action, bindings in keys.bound(type(app)).items():
        words = keys.PALETTE.get(action)
        if words is None:
            continue
        title, sentence = words
        said = " ".join(keys.shown(bindings))
        yield SystemCommand(title, f"{sentence} ({said})", partial(app.run_action, action))
