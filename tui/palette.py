"""The command palette (ctrl+p): every action of the keys live now, by name, with its key.

The commands are the shown tab's bindings, then the App's, in their order, with the words of
tui.keys.PALETTE; each runs its binding's action where the key would."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.app import SystemCommand

from tui import keys


def palette_commands(nodes) -> Iterator[SystemCommand]:
    """``nodes``: the shown tab, then the App."""
    for node in nodes:
        for action, bindings in keys.bound(type(node)).items():
            words = keys.PALETTE.get(action)
            if words is None:
                continue
            title, sentence = words
            said = " ".join(keys.shown(bindings))
            yield SystemCommand(title, f"{sentence} ({said})", partial(node.run_action, action))
