"""Keys are written once, in the bindings. The help screen and the palette look them up by
action (tui.keys), README's key table says the same keys as the help: each test here fails
when one of them names a key that no binding has, or leaves out a key that one has."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import time
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen

import tui
from tui import keys
from tui.app import TrainTermApp
from tui.palette import palette_commands
from tui.screens.help import FOOT, HelpScreen, help_text, key_rows

README = Path(__file__).resolve().parent.parent / "README.md"


def lookup() -> keys.Lookup:
    return keys.Lookup(TrainTermApp)


def helped() -> set[tuple[str, str]]:
    """Every (owner, action) the help's key list names."""
    return {pair for row in keys.HELP for group in row.keys for pair in group.actions}


def bound_classes() -> list[type]:
    """Every class in tui that declares keys of its own."""
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if info.name != "tui.__main__":
            importlib.import_module(info.name)
    found, todo = [], [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tui.") and cls.__dict__.get("BINDINGS"):
            found.append(cls)
    return found


def readme_key_cells() -> list[str]:
    text = README.read_text()
    table = text[text.index("| key | does |") :].split("\n\n")[0].splitlines()[2:]
    return [line.split("|")[1].strip() for line in table]


def test_bound_reads_the_bindings_as_textual_merges_them():
    # tui.keys reads BINDINGS itself (Textual has no public reader); if it ever parted from
    # how Textual dispatches keys, every check below would check the wrong keys.
    for cls in [TrainTermApp, *(keys.owner_class(o) for o in keys.OWNERS)]:
        ours = {(k, a) for a, bindings in keys.bound(cls).items() for ks in bindings for k in ks}
        textual = {
            (k, b.action) for k, bs in cls._merged_bindings.key_to_bindings.items() for b in bs
        }
        if cls is TrainTermApp:  # bound when the App starts, not in the class's map
            textual.add((TrainTermApp.COMMAND_PALETTE_BINDING, "command_palette"))
        assert ours == textual, cls.__name__


def test_the_help_names_only_bound_keys():
    look = lookup()
    for row in (*keys.HELP, FOOT):
        for group in row.keys:
            for owner, action in group.actions:
                assert action in look.bindings(owner), (
                    f"the help's row {row.text!r} names {owner}'s {action!r}, which no key runs"
                )
        # "t T · 0" with "temperature hotter / cooler · greedy on / off": a part for each.
        assert len(row.keys) == len(row.text.split(" · ")), row.text


def test_every_key_of_the_main_screen_is_in_the_help():
    named = helped()
    missing = [(keys.APP, a) for a in keys.bound(TrainTermApp) if (keys.APP, a) not in named]
    owners = {keys.owner_class(o): o for o in keys.OWNERS}
    for cls in bound_classes():
        if cls is TrainTermApp or issubclass(cls, Screen):
            continue  # a dialog's keys are written on it, and it is no part of the help
        if issubclass(cls, App):
            continue  # another app (bench-ui's bare yardstick) is not this app's screen
        assert cls in owners, f"{cls.__name__} binds keys: add it to tui.keys.OWNERS and HELP"
        still_bound = keys.bound(cls)  # not replaced by a subclass's binding of the key
        for binding in cls.BINDINGS:
            pair = (owners[cls], binding.action)
            if binding.action in still_bound and pair not in named:
                missing.append(pair)
    assert not missing, f"keys bound but not in the help (tui.keys.HELP): {missing}"


def test_the_help_screen_lists_every_row_with_its_keys():
    lines = Console(width=120, record=True, file=io.StringIO())
    lines.print(help_text(lookup()))
    drawn = lines.export_text().splitlines()
    for cell, text in key_rows(lookup()):
        first_words = " ".join(text.split()[:3])
        assert any(line.startswith(f"{cell}  ") and first_words in line for line in drawn), (
            f"{cell!r} {first_words!r}"
        )


def test_readme_names_the_keys_the_help_does():
    cells = readme_key_cells()
    said = {
        keys.say(k)
        for owner in (keys.APP, *keys.OWNERS)
        for bindings in lookup().bindings(owner).values()
        for ks in bindings
        for k in ks
    }
    for cell in cells:
        for token in re.split(r"[\s·,]+", cell):
            assert token in said, f"README's key table names {token!r}, which no binding has"
    assert cells == [cell for cell, _ in key_rows(lookup())], (
        "README's key table and the help's keys differ: the help's are "
        f"{[cell for cell, _ in key_rows(lookup())]}"
    )


def test_the_palette_has_every_key_of_the_shown_tab_and_the_app_with_its_key():
    app = TrainTermApp(None)
    everywhere: set[str] = set()
    for tab in app.tabs:  # what the palette offers while each tab is shown
        tab_keys, app_keys = keys.bound(type(tab)), keys.bound(TrainTermApp)
        everywhere |= set(tab_keys) | set(app_keys)
        wanted = [
            (node, action, bindings)
            for node, bound in ((tab, tab_keys), (app, app_keys))
            for action, bindings in bound.items()
            if action not in keys.NOT_IN_PALETTE
        ]
        assert not [a for _, a, _ in wanted if a not in keys.PALETTE], "keys with no command"
        commands = list(palette_commands((tab, app)))
        assert [c.title for c in commands] == [keys.PALETTE[a][0] for _, a, _ in wanted]
        for command, (node, action, bindings) in zip(commands, wanted, strict=True):
            said = re.fullmatch(r".* \((.+)\)", command.help)
            assert said, command.help
            assert said[1] == " ".join(keys.say(ks[0]) for ks in bindings), command.title
            # Runs what the key runs, where the key runs it.
            assert command.callback.args == (action,) and command.callback.func.__self__ is node
    assert not set(keys.PALETTE) - everywhere, "words for actions no key runs"
    assert not keys.NOT_IN_PALETTE - everywhere, "NOT_IN_PALETTE names actions no key runs"


async def wait_for(pilot, condition) -> None:
    deadline = time.monotonic() + 60  # generous: the machine is shared and noisy
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert condition()


async def test_the_help_and_the_palette_in_the_running_app(fake_engine):
    app = TrainTermApp(fake_engine)  # fed nothing: these keys work before the first report
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")  # waits, as any key, for the later tabs
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        foot = app.screen.query(".dialog-keys").first()
        assert str(foot.render()) == "↑ ↓ scroll · esc close"
        await pilot.press("escape")
        hotter = app.sampling.sampler.temperature
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Hotter", "enter")
        await wait_for(pilot, lambda: app.sampling.sampler.temperature > hotter)


def test_keys_are_said_as_the_help_and_readme_have_always_said_them():
    said = [keys.say(k) for k in ("question_mark", "left", "escape", "enter", "ctrl+p", "plus")]
    assert said == ["?", "←", "esc", "enter", "ctrl+p", "+"]
